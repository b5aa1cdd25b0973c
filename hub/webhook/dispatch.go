package webhook

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// maxDrainBytes bounds how much of a response body is read, only so that
// the connection can be reused; webhook responses carry no meaning beyond
// their status.
const maxDrainBytes = 64 << 10

// errInvalidURL is the outcome of a target whose URL does not parse; its
// text stands in for the parser's, which would quote the whole URL.
var errInvalidURL = errors.New("webhook: invalid target URL")

// runScheduler hands targets to the workers when their batch deadline or
// retry time comes. It is the only sender on d.jobs and closes it on
// return, which stops the workers. It returns once Close has begun and no
// target holds events, or when d.ctx is canceled.
func (d *Dispatcher) runScheduler() {
	defer d.wg.Done()
	defer close(d.jobs)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		ready, next, finished := d.collectDue(time.Now())
		if finished {
			return
		}
		for _, t := range ready {
			select {
			case d.jobs <- t:
			case <-d.ctx.Done():
				return
			}
		}
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-d.wake:
		case <-fire:
		case <-d.ctx.Done():
			return
		}
		timer.Stop()
	}
}

// collectDue pops the targets due at now, turning collecting ones into
// batches, and marks them sending. It returns them, when the scheduler must
// look again (zero for "when woken"), and whether it is finished. It also
// logs the drops counted since the last warning, at most once per
// dropLogInterval.
func (d *Dispatcher) collectDue(now time.Time) (ready []*target, next time.Time, finished bool) {
	d.mu.Lock()
	for len(d.due) > 0 && !d.due[0].due.After(now) {
		t := heap.Pop(&d.due).(*target)
		if t.batch == nil {
			d.takeBatch(t)
		}
		t.sending = true
		ready = append(ready, t)
	}
	if len(ready) == 0 && d.closing && len(d.targets) == 0 {
		d.mu.Unlock()
		return nil, time.Time{}, true
	}
	if len(d.due) > 0 {
		next = d.due[0].due
	}
	drops := 0
	if d.dropsUnlogged > 0 {
		if logAt := d.lastDropLog.Add(dropLogInterval); now.Before(logAt) {
			if next.IsZero() || logAt.Before(next) {
				next = logAt
			}
		} else {
			drops = d.dropsUnlogged
			d.dropsUnlogged = 0
			d.lastDropLog = now
		}
	}
	d.mu.Unlock()

	if drops > 0 {
		d.log.Warn("webhook: queue full, events dropped",
			slog.Int("dropped", drops),
			slog.Int("queue_size", d.opts.QueueSize),
			slog.Int("target_queue_size", d.opts.TargetQueueSize))
	}
	return ready, next, false
}

// takeBatch moves up to MaxBatch of t's pending events into a new batch,
// signed with the credentials of t's latest Enqueue. d.mu must be held.
func (d *Dispatcher) takeBatch(t *target) {
	n := min(len(t.pending), d.opts.MaxBatch)
	t.batch = &batch{
		events: t.pending[:n:n],
		appKey: t.appKey,
		secret: t.secret,
	}
	// Events left over have waited as long as the batch's: they keep its
	// since, so they go as soon as this batch is done.
	t.pending = t.pending[n:]
	if len(t.pending) == 0 {
		t.pending = nil
	}
}

// schedule makes t due at when, or earlier if it already is. It reports
// whether t's due time changed. d.mu must be held.
func (d *Dispatcher) schedule(t *target, when time.Time) bool {
	if t.index >= 0 {
		if !when.Before(t.due) {
			return false
		}
		t.due = when
		heap.Fix(&d.due, t.index)
		return true
	}
	t.due = when
	heap.Push(&d.due, t)
	return true
}

// runWorker delivers the targets the scheduler hands it, one attempt each,
// until d.jobs is closed.
func (d *Dispatcher) runWorker() {
	defer d.wg.Done()
	for t := range d.jobs {
		d.finish(t, d.attempt(t))
	}
}

// outcome is what one POST of a batch came to.
type outcome struct {
	delivered  bool
	retry      bool          // worth another attempt
	status     int           // HTTP status; 0 when there was no response
	retryAfter time.Duration // the endpoint's Retry-After, if any
	err        error         // why there was no response
}

// attempt POSTs t's batch once. The calling worker owns t.batch until it
// hands the outcome to finish.
func (d *Dispatcher) attempt(t *target) outcome {
	b := t.batch
	if b.body == nil {
		body, err := json.Marshal(struct {
			TimeMs int64   `json:"time_ms"`
			Events []Event `json:"events"`
		}{time.Now().UnixMilli(), b.events})
		if err != nil {
			return outcome{err: fmt.Errorf("webhook: encode batch: %w", err)}
		}
		mac := hmac.New(sha256.New, []byte(b.secret))
		mac.Write(body)
		b.body, b.signature = body, hex.EncodeToString(mac.Sum(nil))
	}
	b.attempts++

	ctx, cancel := context.WithTimeout(d.ctx, d.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.key.url, bytes.NewReader(b.body))
	if err != nil {
		// A URL that does not parse never will: not worth a retry.
		return outcome{err: errInvalidURL}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Pusher-Key", b.appKey)
	req.Header.Set("X-Pusher-Signature", b.signature)
	resp, err := d.client.Do(req)
	if err != nil {
		d.metrics.requests.WithLabelValues("error").Inc()
		return outcome{retry: true, err: fmt.Errorf("webhook: post: %w", err)}
	}
	// Draining lets the connection be reused; a failure to drain changes
	// nothing about the delivery, which the status already decided.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	_ = resp.Body.Close()
	d.metrics.requests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()

	o := outcome{status: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		o.delivered = true
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		o.retry = true
		o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code >= 400 && code < 500:
		// The endpoint refused this batch; sending it again will not help.
	default:
		o.retry = true
		o.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return o
}

// finish records an attempt's outcome: the batch is done (delivered or
// given up) and the target moves on to its pending events, or the batch
// waits for its retry on the schedule, never in the worker.
func (d *Dispatcher) finish(t *target, o outcome) {
	now := time.Now()
	d.mu.Lock()
	t.sending = false
	b := t.batch
	n := len(b.events)
	if !o.delivered && d.ctx.Err() != nil {
		// Close gave up waiting and aborted this attempt; it counts what is
		// left as dropped.
		d.mu.Unlock()
		return
	}
	if !o.delivered && o.retry && b.attempts < d.opts.MaxAttempts {
		d.schedule(t, now.Add(d.backoff(b.attempts, o.retryAfter)))
		d.mu.Unlock()
		d.signal()
		return
	}
	t.batch = nil
	d.queued -= n
	if len(t.pending) > 0 {
		d.schedule(t, d.batchDue(t, now))
	} else {
		delete(d.targets, t.key)
	}
	d.metrics.queue.Set(float64(d.queued))
	d.mu.Unlock()
	d.signal()

	if o.delivered {
		d.metrics.sent.Add(float64(n))
		return
	}
	d.metrics.failed.Add(float64(n))
	attrs := []any{
		slog.String("app", t.key.app),
		slog.String("url", t.logURL),
		slog.Int("attempts", b.attempts),
		slog.Int("status", o.status),
		slog.Int("events", n),
	}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", errorText(o.err)))
	}
	msg := "webhook: delivery failed, events dropped"
	switch {
	case o.retry:
	case o.status != 0:
		msg = "webhook: endpoint refused batch, events dropped"
	default:
		msg = "webhook: batch undeliverable, events dropped"
	}
	d.log.Warn(msg, attrs...)
}

// errorText is err's message for the log, without the request URL that
// *url.Error quotes: a webhook URL may carry a token in its query.
func errorText(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

// backoff is the wait before retrying a batch that failed attempts times:
// BaseBackoff doubled per failure, capped at MaxBackoff, with equal jitter
// so that targets that failed together do not retry together. A longer
// Retry-After from the endpoint wins, still capped at MaxBackoff.
func (d *Dispatcher) backoff(attempts int, retryAfter time.Duration) time.Duration {
	wait := d.opts.BaseBackoff
	for i := 1; i < attempts && wait < d.opts.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, d.opts.MaxBackoff)
	wait = wait/2 + rand.N(wait/2+1)
	return min(max(wait, retryAfter), d.opts.MaxBackoff)
}

// parseRetryAfter reads a Retry-After header, in seconds or as an HTTP
// date; zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// schedule is a min-heap of targets by due time, for container/heap.
type schedule []*target

func (s schedule) Len() int           { return len(s) }
func (s schedule) Less(i, j int) bool { return s[i].due.Before(s[j].due) }
func (s schedule) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].index = i
	s[j].index = j
}

// Push adds x, a *target, for container/heap.
func (s *schedule) Push(x any) {
	t := x.(*target)
	t.index = len(*s)
	*s = append(*s, t)
}

// Pop removes the last target, for container/heap.
func (s *schedule) Pop() any {
	old := *s
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*s = old[:len(old)-1]
	return t
}
