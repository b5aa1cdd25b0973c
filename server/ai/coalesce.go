package ai

import (
	"strings"
	"sync"
	"time"
)

// DefaultCoalesceInterval is how often a Coalescer flushes by default.
const DefaultCoalesceInterval = 50 * time.Millisecond

// Coalescer batches draft deltas so subscribers get one event about every
// interval instead of one per token. The first delta is flushed at once
// (the agent sees the draft start without delay); later ones wait until an
// interval has passed since the previous flush. Text is never lost,
// duplicated or reordered, and flush is never called concurrently with
// itself.
//
// Lock order: flushMu before mu. flush runs under flushMu only, so it may
// take its time without blocking Add for longer than one flush.
type Coalescer struct {
	interval time.Duration
	flush    func(text string)

	flushMu sync.Mutex // serializes taking text and calling flush

	mu     sync.Mutex
	buf    strings.Builder
	last   time.Time   // when flush was last called
	timer  *time.Timer // pending flush, nil if none
	closed bool
}

// NewCoalescer returns a Coalescer calling flush with the text gathered
// every interval (DefaultCoalesceInterval if interval <= 0).
func NewCoalescer(interval time.Duration, flush func(text string)) *Coalescer {
	if interval <= 0 {
		interval = DefaultCoalesceInterval
	}
	return &Coalescer{interval: interval, flush: flush}
}

// Add queues delta. It flushes in the calling goroutine when an interval has
// passed since the last flush, else it makes sure a flush is scheduled.
// Text added after Close is flushed at once.
func (c *Coalescer) Add(delta string) {
	if delta == "" {
		return
	}
	c.mu.Lock()
	c.buf.WriteString(delta)
	now := c.closed || c.timer == nil && time.Since(c.last) >= c.interval
	if !now && c.timer == nil {
		c.timer = time.AfterFunc(c.interval-time.Since(c.last), c.tick)
	}
	c.mu.Unlock()
	if now {
		c.flushNow(false)
	}
}

func (c *Coalescer) tick() { c.flushNow(true) }

// flushNow takes whatever is buffered and flushes it; fromTimer clears the
// pending timer in the same step, so an Add racing with it schedules anew.
func (c *Coalescer) flushNow(fromTimer bool) {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	if fromTimer {
		c.timer = nil
	}
	text := c.buf.String()
	c.buf.Reset()
	if text != "" {
		c.last = time.Now()
	}
	c.mu.Unlock()
	if text != "" {
		c.flush(text)
	}
}

// Close flushes what is left and stops the timer. When Close returns,
// every added delta has been passed to flush and no flush is running.
func (c *Coalescer) Close() {
	c.mu.Lock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.flushNow(false)
}
