package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// guard bounds every wait in these tests. It is a failsafe that turns a
// hang into a failure, never a measure of speed: nothing should come close.
const guard = 20 * time.Second

// request is one POST an endpoint received.
type request struct {
	header http.Header
	body   []byte
}

// endpoint is a local webhook receiver that records every request.
type endpoint struct {
	*httptest.Server
	reqs  chan request
	count atomic.Int64
}

// respondFunc answers the n-th request (from 1) an endpoint receives.
type respondFunc func(n int, w http.ResponseWriter, r *http.Request)

// newEndpoint starts an endpoint answering with respond, or 200 when
// respond is nil. It is closed when the test ends.
func newEndpoint(tb testing.TB, respond respondFunc) *endpoint {
	tb.Helper()
	e := &endpoint{reqs: make(chan request, 1000)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := int(e.count.Add(1))
		e.reqs <- request{header: r.Header.Clone(), body: body}
		if respond != nil {
			respond(n, w, r)
		}
	}))
	tb.Cleanup(e.Close)
	return e
}

// statuses answers the n-th request with codes[n-1], repeating the last.
func statuses(codes ...int) respondFunc {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(codes[min(n, len(codes))-1])
	}
}

// hang blocks every request until its client gives up or the test ends.
func hang(tb testing.TB) respondFunc {
	tb.Helper()
	release := make(chan struct{})
	tb.Cleanup(func() { close(release) })
	return func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

// next returns the endpoint's next request.
func (e *endpoint) next(tb testing.TB) request {
	tb.Helper()
	select {
	case r := <-e.reqs:
		return r
	case <-time.After(guard):
		tb.Fatalf("endpoint %s: no request", e.URL)
		return request{}
	}
}

// drain returns the requests received so far, without waiting.
func (e *endpoint) drain() []request {
	var got []request
	for {
		select {
		case r := <-e.reqs:
			got = append(got, r)
		default:
			return got
		}
	}
}

// payload is a webhook body as received.
type payload struct {
	TimeMs int64           `json:"time_ms"`
	Events json.RawMessage `json:"events"`
}

// decode parses r's body, failing on any key other than time_ms and events.
func (r request) decode(tb testing.TB) payload {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	var p payload
	if err := dec.Decode(&p); err != nil {
		tb.Fatalf("decode body %s: %v", r.body, err)
	}
	return p
}

// events parses r's events.
func (r request) events(tb testing.TB) []Event {
	tb.Helper()
	var evs []Event
	if err := json.Unmarshal(r.decode(tb).Events, &evs); err != nil {
		tb.Fatalf("decode events %s: %v", r.body, err)
	}
	return evs
}

// harness is a Dispatcher with its own registry and captured logs.
type harness struct {
	d    *Dispatcher
	reg  *prometheus.Registry
	logs *logBuffer
}

// newHarness starts a Dispatcher with opts, a fresh registry and a JSON log
// capture. When the test ends it is closed and its goroutines must be gone.
func newHarness(tb testing.TB, opts Options) *harness {
	tb.Helper()
	h := &harness{reg: prometheus.NewRegistry(), logs: &logBuffer{}}
	opts.Registerer = h.reg
	opts.Logger = slog.New(slog.NewJSONHandler(h.logs, nil))
	h.d = New(opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		// Tests that expect an error from Close check it themselves; here
		// only the goroutines matter. A Dispatcher broken enough that Close
		// never returns fails the test instead of hanging it.
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			_ = h.d.Close(ctx)
		}()
		select {
		case <-closed:
		case <-time.After(2 * guard):
			tb.Fatal("Close did not return after its context ended")
		}
		waitNoDispatcherGoroutines(tb)
	})
	return h
}

// close closes the Dispatcher, failing the test on error.
func (h *harness) close(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := h.d.Close(ctx); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

// metric returns the value of the named counter or gauge whose labels
// include the given name/value pairs; zero when there is none.
func (h *harness) metric(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// events returns switchboard_webhook_events_total{result}.
func (h *harness) events(tb testing.TB, result string) float64 {
	tb.Helper()
	return h.metric(tb, "switchboard_webhook_events_total", "result", result)
}

// logBuffer collects JSON log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// find returns the first record whose msg contains msg, or nil.
func (l *logBuffer) find(tb testing.TB, msg string) map[string]any {
	tb.Helper()
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			tb.Fatalf("log line %q: %v", line, err)
		}
		if m, _ := rec["msg"].(string); strings.Contains(m, msg) {
			return rec
		}
	}
	return nil
}

// waitUntil polls cond until it holds, failing the test after guard.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// goroutinesMatching returns the stacks of live goroutines containing any
// of the given substrings.
func goroutinesMatching(subs ...string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for _, s := range subs {
			if strings.Contains(g, s) {
				found = append(found, g)
				break
			}
		}
	}
	return found
}

// dispatcherCreated marks the goroutines a Dispatcher starts.
const dispatcherCreated = "created by github.com/switchboard-inbox/switchboard/hub/webhook.New"

// waitNoDispatcherGoroutines waits until no goroutine started by New is
// alive.
func waitNoDispatcherGoroutines(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(guard)
	for {
		left := goroutinesMatching(dispatcherCreated)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("dispatcher goroutines left after Close:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
