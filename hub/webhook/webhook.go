// Package webhook delivers Pusher webhooks (channel_occupied, member_added,
// client_event, ...) to the endpoints an app configured, off the hub's hot
// path.
//
// The hub calls Dispatcher.Enqueue from its delivery path: Enqueue only
// appends to an in-memory queue under a short lock and never blocks on, nor
// performs, I/O. Events are batched per (app, target URL) for BatchInterval
// and POSTed as one signed request by a bounded pool of workers. Each target
// has at most one request in flight and waits for its retries on a timer,
// never inside a worker, so a slow or dead endpoint holds at most one worker
// for at most RequestTimeout and cannot stall the other targets' deliveries.
//
// Ownership: the Dispatcher owns one scheduler goroutine and Workers worker
// goroutines, all started by New and all tracked by one WaitGroup; Close
// flushes what is queued and waits for every one of them.
package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Default limits applied to an Options field left at zero.
const (
	DefaultBatchInterval  = 250 * time.Millisecond
	DefaultMaxBatch       = 100
	DefaultQueueSize      = 10000
	DefaultMaxAttempts    = 5
	DefaultBaseBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultWorkers        = 4
)

// dropLogInterval is how often, at most, the "events dropped" warning is
// logged while the queue overflows; the counter records every drop.
const dropLogInterval = 10 * time.Second

// Event is one webhook event, encoded exactly as in Pusher's webhook
// reference.
type Event struct {
	// Name is the event type: channel_occupied, channel_vacated,
	// member_added, member_removed, client_event or cache_miss.
	Name string `json:"name"`
	// Channel is the channel the event happened on.
	Channel string `json:"channel"`
	// Event is the client event's name (client_event only).
	Event string `json:"event,omitempty"`
	// Data is the client event's payload (client_event only).
	Data string `json:"data,omitempty"`
	// SocketID is the socket that sent a client event.
	SocketID string `json:"socket_id,omitempty"`
	// UserID is the presence member (member_* and presence client_event).
	UserID string `json:"user_id,omitempty"`
}

// Target is one endpoint webhooks are POSTed to.
type Target struct {
	// URL receives the POSTs.
	URL string
	// EventTypes lists the event names this target receives; empty means
	// all of them.
	EventTypes []string
}

// wants reports whether the target receives events named name.
func (t Target) wants(name string) bool {
	return len(t.EventTypes) == 0 || slices.Contains(t.EventTypes, name)
}

// Source is the app an event belongs to: its credentials, which sign the
// POSTs, and its webhook targets.
type Source struct {
	// AppID keeps apps apart: events of two apps never share a POST.
	AppID string
	// Key is sent as X-Pusher-Key.
	Key string
	// Secret signs the body (X-Pusher-Signature); it is never logged.
	Secret string
	// Targets are the app's webhook endpoints.
	Targets []Target
}

// Options tunes a Dispatcher. Zero fields take the Default* values.
type Options struct {
	// Client sends the POSTs. Nil means a private client that does not
	// follow redirects; its idle connections are closed by Close.
	Client *http.Client
	// Logger receives delivery failures and drop warnings. Nil discards.
	Logger *slog.Logger
	// Registerer receives the switchboard_webhook_* metrics. Nil registers
	// none.
	Registerer prometheus.Registerer
	// BatchInterval is how long a target's first queued event waits for
	// others to share its POST.
	BatchInterval time.Duration
	// MaxBatch bounds the events in one POST; a target with this many
	// queued events is sent without waiting for BatchInterval.
	MaxBatch int
	// QueueSize bounds the events held (queued or being delivered) across
	// all targets. Beyond it Enqueue drops the event, counts it as
	// result="dropped" and logs a rate-limited warning.
	QueueSize int
	// TargetQueueSize bounds the events held for one (app, URL), so a dead
	// endpoint cannot take the whole queue from the others. Zero means
	// QueueSize/4, at least MaxBatch, at most QueueSize.
	TargetQueueSize int
	// MaxAttempts bounds the POSTs of one batch, the first included.
	MaxAttempts int
	// BaseBackoff is the wait before the first retry; each further retry
	// doubles it, up to MaxBackoff, with jitter.
	BaseBackoff time.Duration
	// MaxBackoff caps the wait between retries, Retry-After included.
	MaxBackoff time.Duration
	// RequestTimeout bounds one POST, response included.
	RequestTimeout time.Duration
	// Workers is how many POSTs may be in flight at once.
	Workers int
}

// withDefaults returns o with every zero or negative limit replaced by its
// default.
func (o Options) withDefaults() Options {
	if o.BatchInterval <= 0 {
		o.BatchInterval = DefaultBatchInterval
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.TargetQueueSize <= 0 {
		o.TargetQueueSize = max(o.QueueSize/4, o.MaxBatch)
	}
	o.TargetQueueSize = min(o.TargetQueueSize, o.QueueSize)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.BaseBackoff)
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	return o
}

// Dispatcher batches, signs and delivers webhooks. Create one with New and
// stop it with Close.
//
// Locking: mu guards everything below it. It is held only for queue
// bookkeeping, never across I/O, encoding or logging.
type Dispatcher struct {
	opts      Options
	client    *http.Client
	ownClient bool
	log       *slog.Logger
	metrics   *metrics

	// ctx is canceled when a Close's context ends before the flush does:
	// in-flight POSTs are aborted and the goroutines return.
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	done   chan struct{} // closed once wg is done
	wake   chan struct{} // capacity 1: the schedule changed
	jobs   chan *target  // scheduler → workers; closed by the scheduler

	mu            sync.Mutex
	closing       bool
	closed        bool  // Close's accounting ran
	closeErr      error // returned by every Close
	targets       map[targetKey]*target
	due           schedule // targets waiting for a batch deadline or a retry
	queued        int      // events held: pending plus batches
	dropsUnlogged int
	lastDropLog   time.Time
}

// targetKey names one target's queue: events of different apps never share
// a POST, since each app signs with its own secret.
type targetKey struct {
	app string
	url string
}

// target is the queue and delivery state of one (app, URL). It exists while
// it holds events and is removed from Dispatcher.targets once idle.
//
// A target is in exactly one state: collecting (batch nil, scheduled at its
// batch deadline), sending (batch set, sending true, owned by a worker) or
// waiting to retry (batch set, scheduled at its retry time). Only the worker
// that holds it touches batch's mutable fields while sending is true.
type target struct {
	key     targetKey
	logURL  string // key.url with any password redacted
	appKey  string // credentials of the latest Enqueue
	secret  string
	pending []Event
	since   time.Time // when pending became non-empty
	batch   *batch
	sending bool
	due     time.Time
	index   int // position in Dispatcher.due, -1 when not scheduled
}

// held is how many events the target holds, pending and in its batch.
func (t *target) held() int {
	n := len(t.pending)
	if t.batch != nil {
		n += len(t.batch.events)
	}
	return n
}

// batch is one POST's worth of events, kept byte-identical across retries.
type batch struct {
	events    []Event
	appKey    string
	secret    string
	body      []byte // encoded by the first attempt
	signature string
	attempts  int
}

// New returns a running Dispatcher: its scheduler and workers are started
// and stop only through Close.
func New(opts Options) *Dispatcher {
	opts = opts.withDefaults()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	d := &Dispatcher{
		opts:    opts,
		client:  opts.Client,
		log:     logger,
		metrics: newMetrics(opts.Registerer, logger),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
		wake:    make(chan struct{}, 1),
		jobs:    make(chan *target),
		targets: make(map[targetKey]*target),
	}
	if d.client == nil {
		d.client = newClient()
		d.ownClient = true
	}
	d.wg.Add(1 + opts.Workers)
	go d.runScheduler()
	for range opts.Workers {
		go d.runWorker()
	}
	go func() {
		d.wg.Wait()
		close(d.done)
	}()
	return d
}

// newClient returns the private client used when Options.Client is nil. It
// does not follow redirects: a webhook is a signed POST to the configured
// URL, not wherever that URL points next.
func newClient() *http.Client {
	transport, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return &http.Client{CheckRedirect: noRedirect}
	}
	return &http.Client{Transport: transport.Clone(), CheckRedirect: noRedirect}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Enqueue queues ev for each of src's targets whose EventTypes include it.
// It never blocks and never performs I/O: a full queue, or a Dispatcher
// being closed, drops the event and counts it as result="dropped". A URL
// listed twice for the same app receives the event once.
func (d *Dispatcher) Enqueue(src Source, ev Event) {
	if len(src.Targets) == 0 {
		return
	}
	now := time.Now()
	wake := false
	d.mu.Lock()
	for i, tg := range src.Targets {
		if !tg.wants(ev.Name) || listedBefore(src.Targets[:i], tg.URL, ev.Name) {
			continue
		}
		if d.closing {
			d.metrics.dropped.Inc()
			continue
		}
		key := targetKey{app: src.AppID, url: tg.URL}
		t := d.targets[key]
		if d.queued >= d.opts.QueueSize || (t != nil && t.held() >= d.opts.TargetQueueSize) {
			d.metrics.dropped.Inc()
			d.dropsUnlogged++
			wake = true // the scheduler logs the drop: no I/O here
			continue
		}
		if t == nil {
			t = &target{key: key, logURL: redact(tg.URL), index: -1}
			d.targets[key] = t
		}
		t.appKey, t.secret = src.Key, src.Secret
		if len(t.pending) == 0 {
			t.since = now
		}
		t.pending = append(t.pending, ev)
		d.queued++
		if t.batch == nil && d.schedule(t, d.batchDue(t, now)) {
			wake = true
		}
	}
	d.metrics.queue.Set(float64(d.queued))
	d.mu.Unlock()
	if wake {
		d.signal()
	}
}

// listedBefore reports whether one of earlier already takes events named
// name for url.
func listedBefore(earlier []Target, url, name string) bool {
	for _, t := range earlier {
		if t.URL == url && t.wants(name) {
			return true
		}
	}
	return false
}

// batchDue is when t's pending events should be sent: at once when they
// fill a batch or the Dispatcher is flushing, else BatchInterval after the
// first of them. d.mu must be held.
func (d *Dispatcher) batchDue(t *target, now time.Time) time.Time {
	if d.closing || len(t.pending) >= d.opts.MaxBatch {
		return now
	}
	return t.since.Add(d.opts.BatchInterval)
}

// signal wakes the scheduler without blocking.
func (d *Dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Close stops accepting events, flushes what is queued and waits for every
// goroutine of d. Batches still due, retries included, are delivered until
// ctx ends; then in-flight POSTs are aborted and whatever is left is
// dropped, counted, logged, and reported as an error wrapping ctx's. Close
// may be called more than once; every call waits and returns the same
// result.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closing {
		d.closing = true
		now := time.Now()
		for _, t := range d.targets {
			if t.batch == nil {
				d.schedule(t, now)
			}
		}
	}
	d.mu.Unlock()
	d.signal()

	select {
	case <-d.done:
	case <-ctx.Done():
		d.cancel(ctx.Err())
		<-d.done
	}

	d.mu.Lock()
	if d.closed {
		err := d.closeErr
		d.mu.Unlock()
		return err
	}
	d.closed = true
	d.cancel(nil) // release the context; a no-op if already canceled
	n := d.queued
	if n > 0 {
		d.metrics.dropped.Add(float64(n))
		d.queued = 0
		d.metrics.queue.Set(0)
		d.closeErr = fmt.Errorf("webhook: close: %d events undelivered: %w", n, context.Cause(d.ctx))
	}
	clear(d.targets)
	err := d.closeErr
	d.mu.Unlock()

	if d.ownClient {
		d.client.CloseIdleConnections()
	}
	if n > 0 {
		d.log.Warn("webhook: undelivered events dropped at shutdown", slog.Int("dropped", n))
	}
	return err
}

// redact returns raw for logs: scheme, host and path only, since a
// webhook URL may carry a password or a token in its query.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "invalid URL"
	}
	clean := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return clean.String()
}
