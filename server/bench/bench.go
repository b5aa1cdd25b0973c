// Package bench is `switchboard bench`: a load generator that speaks only
// the public Pusher Channels protocol (version 7), so it measures
// Switchboard, Soketi or Pusher alike. It opens many websocket connections,
// publishes through the signed HTTP API, and reports delivery counts,
// end-to-end latency and the server's memory per idle connection.
//
// Every goroutine it starts is counted in bench.wg and ends before Run
// returns: connection readers end when closeAll closes their connections,
// handshakes in flight end by their timeout or the run's context, and no
// connection registers once closing has begun.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Run runs `switchboard bench` with args (the words after "bench"). The
// report goes to stdout, usage and progress to stderr. It returns nil for
// -h and for a complete run; ErrIncomplete or ErrInterrupted (after writing
// the report) when the server fell short or ctx ended first; any other
// error for bad flags or an unreadable --pid.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	b := newBench(cfg)
	rep, runErr := b.run(ctx, stderr)
	if rep == nil {
		return runErr
	}
	if err := rep.write(stdout, cfg.JSON); err != nil {
		return fmt.Errorf("bench: write report: %w", err)
	}
	if runErr != nil {
		return runErr
	}
	return rep.verdict()
}

// phase is where a run is; the progress line and a partial report name it.
type phase int32

const (
	phaseStart phase = iota
	phaseConnect
	phaseIdle
	phasePublish
	phaseDrain
	phaseClose
	phaseDone
)

var phaseNames = [...]string{"start", "connect", "idle", "publish", "drain", "close", "done"}

// String names the phase.
func (p phase) String() string { return phaseNames[p] }

// Tunables that need no flag.
const (
	numShards        = 16
	closeConcurrency = 256
	closeReason      = "bench finished"
	drainPoll        = 10 * time.Millisecond
	progressInterval = time.Second
)

// shard is one slice of the delivery statistics. Connections are spread
// over shards so ten thousand readers do not contend on one cache line.
type shard struct {
	delivered  atomic.Int64
	duplicates atomic.Int64
	lastNanos  atomic.Int64
	latency    histogram
}

// stats are the delivery statistics of one websocket URL's connections,
// sharded by connection.
type stats struct{ shards [numShards]shard }

// shard returns the shard the slot-th connection of the URL records into.
func (s *stats) shard(slot int) *shard { return &s.shards[slot%numShards] }

// delivered sums new (not duplicate) deliveries over the shards.
func (s *stats) delivered() int64 {
	var n int64
	for i := range s.shards {
		n += s.shards[i].delivered.Load()
	}
	return n
}

// bench is one run's state.
type bench struct {
	cfg Config
	// wsURLs are the websocket URLs connections dial, round-robin (see
	// Config.endpointOf); stats has one entry per URL.
	wsURLs     []string
	dialClient *http.Client
	pub        *publisher
	// runID tells this run's events from another bench's on shared channels.
	runID uint32
	// maxSeq bounds sequence numbers per channel; larger ones in a payload
	// are bad data, not a reason to grow a bitset.
	maxSeq int
	errs   errorLog
	stats  []stats
	phase  atomic.Int32

	// wg counts every goroutine the bench starts.
	wg sync.WaitGroup

	connOK     atomic.Int64
	connFailed atomic.Int64
	dropped    atomic.Int64
	// expected is deliveries owed: accepted publishes × their channel's
	// subscribers.
	expected atomic.Int64
	// subs counts subscribed connections per channel; fixed once the
	// connect phase ends, before publishing starts.
	subs []int64

	// mu guards conns and the closing transition. It is never held while
	// taking another lock (errorLog's and publisher's are leaves too).
	mu      sync.Mutex
	conns   []*conn
	closing atomic.Bool

	connectStart, connectEnd time.Time
	pubStart, pubEnd         time.Time
	rss                      rssReadings
}

// rssReadings are the server's VmRSS in bytes at three points of the run.
type rssReadings struct{ before, idle, end int64 }

// newBench prepares a run of cfg, which must be valid.
func newBench(cfg Config) *bench {
	b := &bench{cfg: cfg, subs: make([]int64, cfg.Channels)}
	wsURLs, eventsURL, eventsPath := cfg.endpoints()
	b.wsURLs = wsURLs
	b.stats = make([]stats, len(wsURLs))
	// A transport of its own: handshakes must be HTTP/1.1 and must not
	// share limits with the publisher.
	b.dialClient = &http.Client{Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.HandshakeTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: cfg.HandshakeTimeout,
	}}
	b.runID = rand.Uint32()
	b.pub = newPublisher(&b.cfg, b.runID, eventsURL, eventsPath, &b.errs, func(channel int) {
		b.expected.Add(b.subs[channel])
	})
	b.maxSeq = (cfg.plannedPublishes() + cfg.Channels - 1) / cfg.Channels
	return b
}

// delivered sums new deliveries over every websocket URL.
func (b *bench) delivered() int64 {
	var n int64
	for i := range b.stats {
		n += b.stats[i].delivered()
	}
	return n
}

// run executes the phases, then closes every connection and builds the
// report. An interrupted run still returns its partial report.
func (b *bench) run(ctx context.Context, progressOut io.Writer) (*Report, error) {
	if b.cfg.PID > 0 {
		rss, err := readRSS(b.cfg.ProcDir, b.cfg.PID)
		if err != nil {
			return nil, fmt.Errorf("bench: --pid: %w", err)
		}
		b.rss.before = rss
	}
	progressCtx, stopProgress := context.WithCancel(context.Background())
	defer stopProgress()
	if !b.cfg.Quiet {
		b.wg.Go(func() { b.progress(progressCtx, progressOut) })
	}

	steps := []struct {
		p  phase
		fn func(context.Context) error
	}{
		{phaseConnect, b.connect},
		{phaseIdle, b.idle},
		{phasePublish, b.publish},
		{phaseDrain, b.drain},
	}
	var runErr error
	interrupted := false
	for _, s := range steps {
		b.phase.Store(int32(s.p))
		err := s.fn(ctx)
		if err == nil {
			// A phase may finish just as ctx ends (handshakes failing
			// because of it); the next phase must not start.
			err = ctx.Err()
		}
		if err != nil {
			if ctx.Err() != nil {
				interrupted = true
				runErr = fmt.Errorf("%w during %s phase: %w", ErrInterrupted, s.p, context.Cause(ctx))
			} else {
				runErr = fmt.Errorf("bench: %s phase: %w", s.p, err)
			}
			break
		}
	}
	lastPhase := phase(b.phase.Load())
	if b.cfg.PID > 0 {
		b.rss.end = b.readRSS("end")
	}
	b.phase.Store(int32(phaseClose))
	b.closeAll()
	stopProgress()
	b.wg.Wait()
	b.phase.Store(int32(phaseDone))
	if !interrupted {
		lastPhase = phaseDone
	}
	return b.report(lastPhase, interrupted), runErr
}

// connect opens the connections at the configured rate and waits until
// every handshake has succeeded or failed.
func (b *bench) connect(ctx context.Context) error {
	b.connectStart = time.Now()
	sem := make(chan struct{}, b.cfg.ConnectConcurrency)
	var handshakes sync.WaitGroup
	_, err := pace(ctx, b.cfg.ConnectRate, b.cfg.Connections, sem, func(i int) {
		handshakes.Add(1)
		b.wg.Go(func() {
			b.runConn(ctx, i, func() {
				<-sem
				handshakes.Done()
			})
		})
	})
	// Handshakes end by their own timeout or ctx, so this wait is bounded.
	handshakes.Wait()
	b.connectEnd = time.Now()
	b.dialClient.CloseIdleConnections()
	return err
}

// runConn is one connection's goroutine: handshake, then read until closed.
// handshakeDone is called once the handshake's outcome is counted.
func (b *bench) runConn(ctx context.Context, id int, handshakeDone func()) {
	c := &conn{b: b, id: id, channel: id % b.cfg.Channels, endpoint: b.cfg.endpointOf(id, len(b.wsURLs))}
	if err := c.handshake(ctx); err != nil {
		b.connFailed.Add(1)
		kind := "connect: failed"
		var f *failure
		if errors.As(err, &f) {
			kind, err = f.kind, f.err
		}
		if ctx.Err() != nil {
			kind = "connect: interrupted"
		}
		b.errs.add(kind, err)
		handshakeDone()
		return
	}
	if !b.register(c) {
		// Closing began while this handshake was in flight (Ctrl-C):
		// closeAll will not see this connection, so it closes itself.
		handshakeDone()
		b.errs.add("connect: interrupted", errors.New("subscribed after shutdown began"))
		if err := c.ws.Close(websocket.StatusNormalClosure, closeReason); err != nil && !errors.Is(err, net.ErrClosed) {
			b.errs.add("close: handshake", err)
		}
		return
	}
	b.connOK.Add(1)
	handshakeDone()
	err := c.readLoop()
	if b.connEnded(err) {
		c.ws.CloseNow()
	}
}

// connEnded accounts for a subscribed connection whose reader stopped with
// err, and reports whether that was a drop (not closeAll's doing).
func (b *bench) connEnded(err error) bool {
	if b.closing.Load() {
		return false
	}
	b.dropped.Add(1)
	if code := websocket.CloseStatus(err); code != -1 {
		b.errs.add("connection: closed by server "+strconv.Itoa(int(code)), err)
	} else {
		b.errs.add("connection: lost", err)
	}
	return true
}

// register adds c to the connections closeAll will close; false once
// closing has begun.
func (b *bench) register(c *conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing.Load() {
		return false
	}
	b.conns = append(b.conns, c)
	return true
}

// idle lets the connections sit, then reads the server's idle memory.
func (b *bench) idle(ctx context.Context) error {
	if b.cfg.Idle > 0 {
		t := time.NewTimer(b.cfg.Idle)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if b.cfg.PID > 0 {
		b.rss.idle = b.readRSS("idle")
	}
	return nil
}

// publish runs the publishing phase: for --duration, or until --publishes
// events are sent.
func (b *bench) publish(ctx context.Context) error {
	b.mu.Lock()
	for _, c := range b.conns {
		b.subs[c.channel]++
	}
	b.mu.Unlock()
	if b.cfg.plannedPublishes() == 0 {
		return nil
	}
	launchCtx := ctx
	if b.cfg.Publishes == 0 {
		var cancel context.CancelFunc
		launchCtx, cancel = context.WithTimeout(ctx, b.cfg.Duration)
		defer cancel()
	}
	b.pubStart = time.Now()
	err := b.pub.run(ctx, launchCtx)
	b.pubEnd = time.Now()
	return err
}

// drain waits until every expected delivery arrived, or the timeout.
func (b *bench) drain(ctx context.Context) error {
	timeout := time.NewTimer(b.cfg.Timeout)
	defer timeout.Stop()
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for b.delivered() < b.expected.Load() {
		select {
		case <-tick.C:
		case <-timeout.C:
			b.errs.add("drain: timeout", fmt.Errorf("%d of %d deliveries outstanding after %v",
				b.expected.Load()-b.delivered(), b.expected.Load(), b.cfg.Timeout))
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// closeAll closes every registered connection with 1000 and waits for the
// close handshakes; each reader then sees its connection end and exits.
func (b *bench) closeAll() {
	b.mu.Lock()
	b.closing.Store(true)
	conns := b.conns
	b.mu.Unlock()
	sem := make(chan struct{}, closeConcurrency)
	var closers sync.WaitGroup
	for _, c := range conns {
		sem <- struct{}{}
		closers.Go(func() {
			defer func() { <-sem }()
			err := c.ws.Close(websocket.StatusNormalClosure, closeReason)
			if err != nil && !errors.Is(err, net.ErrClosed) {
				b.errs.add("close: handshake", err)
			}
		})
	}
	closers.Wait()
}

// readRSS reads the server's VmRSS; a failure is reported, not fatal.
func (b *bench) readRSS(when string) int64 {
	rss, err := readRSS(b.cfg.ProcDir, b.cfg.PID)
	if err != nil {
		b.errs.add("rss: "+when, err)
		return 0
	}
	return rss
}

// progress prints a one-line status to w every progressInterval until ctx
// ends.
func (b *bench) progress(ctx context.Context, w io.Writer) {
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failed progress write is not worth stopping the run for.
			_, _ = fmt.Fprintln(w, b.progressLine())
		}
	}
}

// progressLine summarises the run so far in one line.
func (b *bench) progressLine() string {
	return fmt.Sprintf("bench: %-8s connected %d/%d (%d failed, %d dropped)  published %d/%d (%d errors)  delivered %d/%d",
		phase(b.phase.Load()),
		b.connOK.Load(), b.cfg.Connections, b.connFailed.Load(), b.dropped.Load(),
		b.pub.accepted.Load(), b.cfg.plannedPublishes(), b.pub.failed.Load(),
		b.delivered(), b.expected.Load())
}
