package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"
)

const (
	testKey    = "app-key"
	testSecret = "s3cret-never-logged"
	testData   = `{"text":"private-payload-never-logged"}`
)

// source is app "app1" with the test credentials and the given targets.
func source(targets ...Target) Source {
	return Source{AppID: "app1", Key: testKey, Secret: testSecret, Targets: targets}
}

// occupied is a channel_occupied event on channel ch.
func occupied(ch string) Event { return Event{Name: "channel_occupied", Channel: ch} }

// Every kind of event, with the JSON Pusher's webhook reference gives it.
var shapes = []struct {
	ev   Event
	json string
}{
	{Event{Name: "channel_occupied", Channel: "c1"},
		`{"name":"channel_occupied","channel":"c1"}`},
	{Event{Name: "channel_vacated", Channel: "c1"},
		`{"name":"channel_vacated","channel":"c1"}`},
	{Event{Name: "member_added", Channel: "presence-r", UserID: "u1"},
		`{"name":"member_added","channel":"presence-r","user_id":"u1"}`},
	{Event{Name: "member_removed", Channel: "presence-r", UserID: "u1"},
		`{"name":"member_removed","channel":"presence-r","user_id":"u1"}`},
	{Event{Name: "client_event", Channel: "presence-r", Event: "client-typing", Data: testData, SocketID: "123.456", UserID: "u1"},
		`{"name":"client_event","channel":"presence-r","event":"client-typing","data":"{\"text\":\"private-payload-never-logged\"}","socket_id":"123.456","user_id":"u1"}`},
	{Event{Name: "cache_miss", Channel: "cache-c"},
		`{"name":"cache_miss","channel":"cache-c"}`},
}

func TestBatching(t *testing.T) {
	all := make([]Event, len(shapes))
	allJSON := make([]string, len(shapes))
	for i, s := range shapes {
		all[i], allJSON[i] = s.ev, s.json
	}
	tests := []struct {
		name   string
		opts   Options
		events int // how many of all to enqueue
		// wantEarly POSTs arrive before Close; wantAtClose ones are the
		// flush of what is still pending.
		wantEarly, wantAtClose [][]string
	}{
		{
			name:      "a batch is sent when its interval ends",
			opts:      Options{BatchInterval: 10 * time.Millisecond},
			events:    1,
			wantEarly: [][]string{allJSON[:1]},
		},
		{
			name:        "events within one interval share one POST, flushed by Close",
			opts:        Options{BatchInterval: time.Hour},
			events:      len(all),
			wantAtClose: [][]string{allJSON},
		},
		{
			name:        "MaxBatch splits the queue, full batches go at once",
			opts:        Options{BatchInterval: time.Hour, MaxBatch: 4},
			events:      len(all),
			wantEarly:   [][]string{allJSON[:4]},
			wantAtClose: [][]string{allJSON[4:]},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newEndpoint(t, nil)
			h := newHarness(t, tc.opts)
			before := time.Now().UnixMilli()
			src := source(Target{URL: ep.URL})
			for _, ev := range all[:tc.events] {
				h.d.Enqueue(src, ev)
			}
			var got []request
			for range tc.wantEarly {
				got = append(got, ep.next(t))
			}
			h.close(t)
			after := time.Now().UnixMilli()
			got = append(got, ep.drain()...)

			want := append(slices.Clone(tc.wantEarly), tc.wantAtClose...)
			if len(got) != len(want) {
				t.Fatalf("got %d POSTs, want %d", len(got), len(want))
			}
			for i, r := range got {
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("POST %d: Content-Type %q", i, ct)
				}
				if k := r.header.Get("X-Pusher-Key"); k != testKey {
					t.Errorf("POST %d: X-Pusher-Key %q", i, k)
				}
				p := r.decode(t)
				if p.TimeMs < before || p.TimeMs > after {
					t.Errorf("POST %d: time_ms %d outside [%d, %d]", i, p.TimeMs, before, after)
				}
				var compact bytes.Buffer
				if err := json.Compact(&compact, p.Events); err != nil {
					t.Fatal(err)
				}
				if wantEvents := "[" + strings.Join(want[i], ",") + "]"; compact.String() != wantEvents {
					t.Errorf("POST %d events:\n got %s\nwant %s", i, compact.String(), wantEvents)
				}
			}
			if sent := h.events(t, "sent"); sent != float64(tc.events) {
				t.Errorf("events_total{sent} = %v, want %d", sent, tc.events)
			}
			if q := h.metric(t, "switchboard_webhook_queue_length"); q != 0 {
				t.Errorf("queue_length = %v after Close, want 0", q)
			}
		})
	}
}

func TestSignatureVerifiesWithPusherClient(t *testing.T) {
	ep := newEndpoint(t, nil)
	h := newHarness(t, Options{BatchInterval: time.Hour})
	for _, s := range shapes {
		h.d.Enqueue(source(Target{URL: ep.URL}), s.ev)
	}
	h.close(t)
	r := ep.next(t)

	tests := []struct {
		name    string
		client  pusher.Client
		header  func(http.Header)
		body    func([]byte) []byte
		wantErr bool
	}{
		{name: "as sent", client: pusher.Client{Key: testKey, Secret: testSecret}},
		{
			name:    "tampered body",
			client:  pusher.Client{Key: testKey, Secret: testSecret},
			body:    func(b []byte) []byte { return bytes.Replace(b, []byte(`"c1"`), []byte(`"c2"`), 1) },
			wantErr: true,
		},
		{
			name:    "other secret",
			client:  pusher.Client{Key: testKey, Secret: "other"},
			wantErr: true,
		},
		{
			name:    "other key",
			client:  pusher.Client{Key: "other", Secret: testSecret},
			wantErr: true,
		},
		{
			name:    "signature removed",
			client:  pusher.Client{Key: testKey, Secret: testSecret},
			header:  func(h http.Header) { h.Del("X-Pusher-Signature") },
			wantErr: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header, body := r.header.Clone(), bytes.Clone(r.body)
			if tc.header != nil {
				tc.header(header)
			}
			if tc.body != nil {
				body = tc.body(body)
			}
			wh, err := tc.client.Webhook(header, body)
			if tc.wantErr {
				if err == nil {
					t.Fatal("Webhook accepted a request it should refuse")
				}
				return
			}
			if err != nil {
				t.Fatalf("Webhook: %v", err)
			}
			if wh.TimeMs <= 0 {
				t.Errorf("time_ms = %d", wh.TimeMs)
			}
			if len(wh.Events) != len(shapes) {
				t.Fatalf("got %d events, want %d", len(wh.Events), len(shapes))
			}
			for i, got := range wh.Events {
				want := shapes[i].ev
				if got != (pusher.WebhookEvent{Name: want.Name, Channel: want.Channel, Event: want.Event,
					Data: want.Data, SocketID: want.SocketID, UserID: want.UserID}) {
					t.Errorf("event %d = %+v, want %+v", i, got, want)
				}
			}
		})
	}
}

func TestTargetsGetTheirOwnFilteredCopies(t *testing.T) {
	every := newEndpoint(t, nil)
	members := newEndpoint(t, nil)
	clients := newEndpoint(t, nil)
	twice := newEndpoint(t, nil)
	h := newHarness(t, Options{BatchInterval: time.Hour})
	src := source(
		Target{URL: every.URL},
		Target{URL: members.URL, EventTypes: []string{"member_added", "member_removed"}},
		Target{URL: clients.URL, EventTypes: []string{"client_event"}},
		// The same URL listed twice receives each event once.
		Target{URL: twice.URL, EventTypes: []string{"channel_occupied", "member_added"}},
		Target{URL: twice.URL},
	)
	for _, s := range shapes {
		h.d.Enqueue(src, s.ev)
	}
	h.close(t)

	allNames := []string{"channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss"}
	tests := []struct {
		name string
		ep   *endpoint
		want []string
	}{
		{"no EventTypes receives all", every, allNames},
		{"member events only", members, []string{"member_added", "member_removed"}},
		{"client events only", clients, []string{"client_event"}},
		{"URL listed twice receives each event once", twice, allNames},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			for _, r := range tc.ep.drain() {
				for _, ev := range r.events(t) {
					names = append(names, ev.Name)
				}
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("received %v, want %v", names, tc.want)
			}
		})
	}
	if sent, want := h.events(t, "sent"), float64(2*len(allNames)+2+1); sent != want {
		t.Errorf("events_total{sent} = %v, want %v (one per copy)", sent, want)
	}
}

func TestAppsSharingAURLSignSeparately(t *testing.T) {
	ep := newEndpoint(t, nil)
	h := newHarness(t, Options{BatchInterval: time.Hour})
	apps := []Source{
		{AppID: "a", Key: "key-a", Secret: "secret-a", Targets: []Target{{URL: ep.URL}}},
		{AppID: "b", Key: "key-b", Secret: "secret-b", Targets: []Target{{URL: ep.URL}}},
	}
	for _, app := range apps {
		h.d.Enqueue(app, occupied("of-"+app.AppID))
	}
	h.close(t)
	got := ep.drain()
	if len(got) != len(apps) {
		t.Fatalf("got %d POSTs, want one per app", len(got))
	}
	for _, app := range apps {
		t.Run(app.AppID, func(t *testing.T) {
			c := pusher.Client{Key: app.Key, Secret: app.Secret}
			verified := 0
			for _, r := range got {
				wh, err := c.Webhook(r.header, r.body)
				if err != nil {
					continue
				}
				verified++
				if len(wh.Events) != 1 || wh.Events[0].Channel != "of-"+app.AppID {
					t.Errorf("app %s verified foreign events %+v", app.AppID, wh.Events)
				}
			}
			if verified != 1 {
				t.Errorf("%d POSTs verify with app %s's credentials, want 1", verified, app.AppID)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		respond      respondFunc
		unreachable  bool
		maxAttempts  int
		wantRequests int
		wantResult   string // sent or failed
		wantCodes    map[string]float64
		wantLog      string // a failure warning, when the batch is dropped
		wantStatus   float64
	}{
		{
			name: "500 twice then 200 is delivered once", respond: statuses(500, 500, 200),
			wantRequests: 3, wantResult: "sent",
			wantCodes: map[string]float64{"500": 2, "200": 1},
		},
		{
			name: "429 is retried", respond: statuses(429, 200),
			wantRequests: 2, wantResult: "sent",
			wantCodes: map[string]float64{"429": 1, "200": 1},
		},
		{
			name: "408 is retried", respond: statuses(408, 200),
			wantRequests: 2, wantResult: "sent",
			wantCodes: map[string]float64{"408": 1, "200": 1},
		},
		{
			name: "400 is not retried", respond: statuses(400),
			wantRequests: 1, wantResult: "failed",
			wantCodes: map[string]float64{"400": 1},
			wantLog:   "refused", wantStatus: 400,
		},
		{
			name: "404 is not retried", respond: statuses(404),
			wantRequests: 1, wantResult: "failed",
			wantCodes: map[string]float64{"404": 1},
			wantLog:   "refused", wantStatus: 404,
		},
		{
			name: "503 gives up after MaxAttempts", respond: statuses(503), maxAttempts: 3,
			wantRequests: 3, wantResult: "failed",
			wantCodes: map[string]float64{"503": 3},
			wantLog:   "delivery failed", wantStatus: 503,
		},
		{
			name: "network errors give up after MaxAttempts", unreachable: true, maxAttempts: 2,
			wantResult: "failed",
			wantCodes:  map[string]float64{"error": 2},
			wantLog:    "delivery failed", wantStatus: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newEndpoint(t, tc.respond)
			if tc.unreachable {
				ep.Close()
			}
			h := newHarness(t, Options{
				BatchInterval: time.Millisecond,
				MaxAttempts:   tc.maxAttempts,
				BaseBackoff:   time.Millisecond,
				MaxBackoff:    2 * time.Millisecond,
			})
			// The token in the query must stay out of the logs, like the
			// secret and the event data.
			url := ep.URL + "/hook?token=t0ken-never-logged"
			events := []Event{shapes[0].ev, shapes[4].ev}
			for _, ev := range events {
				h.d.Enqueue(source(Target{URL: url}), ev)
			}
			h.close(t) // waits for every attempt: the backoff is tiny

			got := ep.drain()
			if len(got) != tc.wantRequests {
				t.Fatalf("endpoint saw %d requests, want %d", len(got), tc.wantRequests)
			}
			for i, r := range got {
				if !bytes.Equal(r.body, got[0].body) {
					t.Errorf("attempt %d body %s differs from first %s", i+1, r.body, got[0].body)
				}
				if evs := r.events(t); len(evs) != len(events) {
					t.Errorf("attempt %d carried %d events, want %d", i+1, len(evs), len(events))
				}
			}
			for _, result := range []string{"sent", "failed", "dropped"} {
				want := 0.0
				if result == tc.wantResult {
					want = float64(len(events))
				}
				if v := h.events(t, result); v != want {
					t.Errorf("events_total{result=%q} = %v, want %v", result, v, want)
				}
			}
			for code, want := range tc.wantCodes {
				if v := h.metric(t, "switchboard_webhook_requests_total", "code", code); v != want {
					t.Errorf("requests_total{code=%q} = %v, want %v", code, v, want)
				}
			}

			logs := h.logs.String()
			for _, secret := range []string{testSecret, "private-payload-never-logged", "t0ken-never-logged"} {
				if strings.Contains(logs, secret) {
					t.Errorf("logs contain %q:\n%s", secret, logs)
				}
			}
			if tc.wantLog == "" {
				if logs != "" {
					t.Errorf("unexpected logs:\n%s", logs)
				}
				return
			}
			rec := h.logs.find(t, tc.wantLog)
			if rec == nil {
				t.Fatalf("no %q warning in logs:\n%s", tc.wantLog, logs)
			}
			wantAttempts := float64(max(tc.wantRequests, tc.maxAttempts))
			if rec["level"] != "WARN" || rec["app"] != "app1" || rec["url"] != ep.URL+"/hook" ||
				rec["attempts"] != wantAttempts || rec["status"] != tc.wantStatus {
				t.Errorf("warning %v: want level WARN, app app1, url %s/hook, attempts %v, status %v",
					rec, ep.URL, wantAttempts, tc.wantStatus)
			}
		})
	}
}

func TestStuckTargetDoesNotStallOthers(t *testing.T) {
	tests := []struct {
		name    string
		stuck   func(testing.TB) respondFunc
		opts    Options
		sameApp bool
	}{
		{
			// Two workers, and more than one batch queued for the hung
			// target: were its batches sent in parallel, both workers
			// would hang until Close, as RequestTimeout is an hour.
			name:  "hung endpoint, other app",
			stuck: hang,
			opts:  Options{Workers: 2, MaxBatch: 1, RequestTimeout: time.Hour},
		},
		{
			name:    "hung endpoint, same app's other target",
			stuck:   hang,
			opts:    Options{Workers: 2, MaxBatch: 1, RequestTimeout: time.Hour},
			sameApp: true,
		},
		{
			// One worker: a retry that waited inside it would starve
			// everyone until the backoff ends, an hour from now.
			name:  "endpoint failing with a long backoff",
			stuck: func(testing.TB) respondFunc { return statuses(500) },
			opts:  Options{Workers: 1, MaxBatch: 1, BaseBackoff: time.Hour, MaxBackoff: time.Hour},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stuck := newEndpoint(t, tc.stuck(t))
			healthy := newEndpoint(t, nil)
			tc.opts.BatchInterval = time.Hour // MaxBatch 1 sends each event at once
			h := newHarness(t, tc.opts)

			const stuckEvents = 4
			for i := range stuckEvents {
				h.d.Enqueue(Source{AppID: "stuck", Key: "k", Secret: "s", Targets: []Target{{URL: stuck.URL}}},
					occupied(fmt.Sprint("stuck-", i)))
			}
			stuck.next(t) // the stuck endpoint now holds its request, or failed it

			other := Source{AppID: "other", Key: "k2", Secret: "s2", Targets: []Target{{URL: healthy.URL}}}
			if tc.sameApp {
				other.AppID, other.Key, other.Secret = "stuck", "k", "s"
			}
			for i := range 3 {
				want := fmt.Sprint("healthy-", i)
				h.d.Enqueue(other, occupied(want))
				evs := healthy.next(t).events(t)
				if len(evs) != 1 || evs[0].Channel != want {
					t.Fatalf("healthy target got %+v, want %s", evs, want)
				}
			}
			// The healthy endpoint got its requests before answering them:
			// wait for the answers to be counted.
			waitUntil(t, "healthy deliveries to be counted", func() bool { return h.events(t, "sent") == 3 })
			if n := stuck.count.Load(); n != 1 {
				t.Errorf("stuck endpoint saw %d requests, want 1 at a time", n)
			}

			// Close gives up at once: the stuck target's events are
			// dropped and reported, and Close still returns.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			err := h.d.Close(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Close = %v, want an error wrapping context.Canceled", err)
			}
			if again := h.d.Close(context.Background()); again != err {
				t.Errorf("second Close = %v, want the first's %v", again, err)
			}
			if v := h.events(t, "dropped"); v != stuckEvents {
				t.Errorf("events_total{dropped} = %v, want %d", v, stuckEvents)
			}
			if v := h.events(t, "sent"); v != 3 {
				t.Errorf("events_total{sent} = %v, want 3", v)
			}
			if h.logs.find(t, "undelivered") == nil {
				t.Errorf("no shutdown drop warning in logs:\n%s", h.logs.String())
			}
		})
	}
}

func TestQueueOverflowDrops(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		perApp      map[string]int // events enqueued per app
		wantKept    map[string]int // events delivered per app at Close
		wantDropped int
	}{
		{
			name:        "QueueSize bounds all targets together",
			opts:        Options{QueueSize: 10},
			perApp:      map[string]int{"a": 25},
			wantKept:    map[string]int{"a": 10},
			wantDropped: 15,
		},
		{
			name:        "TargetQueueSize keeps one target from taking the queue",
			opts:        Options{QueueSize: 100, TargetQueueSize: 5},
			perApp:      map[string]int{"a": 12, "b": 7},
			wantKept:    map[string]int{"a": 5, "b": 5},
			wantDropped: 9,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newEndpoint(t, nil)
			tc.opts.BatchInterval = time.Hour // nothing leaves before Close
			h := newHarness(t, tc.opts)
			kept := 0
			for app, n := range tc.perApp {
				src := Source{AppID: app, Key: app, Secret: "s", Targets: []Target{{URL: ep.URL}}}
				for i := range n {
					// Run in the test goroutine: were Enqueue to block on a
					// full queue, the test would hang here.
					h.d.Enqueue(src, occupied(fmt.Sprint(i)))
				}
				kept += tc.wantKept[app]
			}
			if v := h.events(t, "dropped"); v != float64(tc.wantDropped) {
				t.Errorf("events_total{dropped} = %v, want %d", v, tc.wantDropped)
			}
			if v := h.metric(t, "switchboard_webhook_queue_length"); v != float64(kept) {
				t.Errorf("queue_length = %v, want %d", v, kept)
			}
			waitUntil(t, "queue-full warning", func() bool { return h.logs.find(t, "queue full") != nil })

			h.close(t)
			got := map[string]int{}
			for _, r := range ep.drain() {
				got[r.header.Get("X-Pusher-Key")] += len(r.events(t))
			}
			for app, want := range tc.wantKept {
				if got[app] != want {
					t.Errorf("app %s: %d events delivered, want %d (the first ones kept)", app, got[app], want)
				}
			}
		})
	}
}

func TestClose(t *testing.T) {
	t.Run("with nothing queued returns nil, twice", func(t *testing.T) {
		h := newHarness(t, Options{})
		h.close(t)
		h.close(t)
	})

	t.Run("refuses events after Close and leaves nothing running", func(t *testing.T) {
		ep := newEndpoint(t, nil)
		h := newHarness(t, Options{BatchInterval: time.Hour})
		src := source(Target{URL: ep.URL})
		h.d.Enqueue(src, occupied("before"))
		h.close(t)
		h.d.Enqueue(src, occupied("after"))
		h.close(t)

		got := ep.drain()
		if len(got) != 1 {
			t.Fatalf("got %d POSTs, want the one flushed by Close", len(got))
		}
		if evs := got[0].events(t); len(evs) != 1 || evs[0].Channel != "before" {
			t.Errorf("flushed %+v, want only the event enqueued before Close", evs)
		}
		if v := h.events(t, "dropped"); v != 1 {
			t.Errorf("events_total{dropped} = %v, want 1 for the late event", v)
		}
		waitNoDispatcherGoroutines(t)
		// The Dispatcher's own client closed its connections too.
		waitUntil(t, "client connections to close", func() bool {
			return len(goroutinesMatching("net/http.(*persistConn)")) == 0
		})
	})

	t.Run("waits for retries still due", func(t *testing.T) {
		ep := newEndpoint(t, statuses(503, 503, 200))
		h := newHarness(t, Options{BatchInterval: time.Hour, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
		h.d.Enqueue(source(Target{URL: ep.URL}), occupied("c"))
		h.close(t)
		if n := len(ep.drain()); n != 3 {
			t.Errorf("endpoint saw %d requests before Close returned, want 3", n)
		}
		if v := h.events(t, "sent"); v != 1 {
			t.Errorf("events_total{sent} = %v, want 1", v)
		}
	})
}

func TestWithoutRegistererOrLogger(t *testing.T) {
	ep := newEndpoint(t, nil)
	d := New(Options{BatchInterval: time.Hour})
	d.Enqueue(source(Target{URL: ep.URL}), occupied("c"))
	if err := d.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := len(ep.drain()); n != 1 {
		t.Errorf("got %d POSTs, want 1", n)
	}
	waitNoDispatcherGoroutines(t)
}

func TestMetricsShareARegistry(t *testing.T) {
	ep := newEndpoint(t, nil)
	first := newHarness(t, Options{BatchInterval: time.Hour})
	// A second Dispatcher on the same registry must not panic, and counts
	// into the same series.
	second := New(Options{BatchInterval: time.Hour, Registerer: first.reg})
	first.d.Enqueue(source(Target{URL: ep.URL}), occupied("a"))
	second.Enqueue(source(Target{URL: ep.URL}), occupied("b"))
	first.close(t)
	if err := second.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if v := first.events(t, "sent"); v != 2 {
		t.Errorf("events_total{sent} = %v, want 2", v)
	}
}

func TestBackoff(t *testing.T) {
	d := &Dispatcher{opts: Options{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()}
	tests := []struct {
		attempts   int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{attempts: 1, lo: 50 * time.Millisecond, hi: 100 * time.Millisecond},
		{attempts: 2, lo: 100 * time.Millisecond, hi: 200 * time.Millisecond},
		{attempts: 3, lo: 200 * time.Millisecond, hi: 400 * time.Millisecond},
		{attempts: 4, lo: 400 * time.Millisecond, hi: 800 * time.Millisecond},
		{attempts: 5, lo: 500 * time.Millisecond, hi: time.Second},
		{attempts: 60, lo: 500 * time.Millisecond, hi: time.Second},
		{attempts: 1, retryAfter: 300 * time.Millisecond, lo: 300 * time.Millisecond, hi: 300 * time.Millisecond},
		{attempts: 1, retryAfter: time.Hour, lo: time.Second, hi: time.Second},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("attempts=%d retry-after=%v", tc.attempts, tc.retryAfter), func(t *testing.T) {
			for range 100 {
				if got := d.backoff(tc.attempts, tc.retryAfter); got < tc.lo || got > tc.hi {
					t.Fatalf("backoff = %v, want within [%v, %v]", got, tc.lo, tc.hi)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := parseRetryAfter(tc.in, now); got != tc.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example/p", "https://hooks.example/p"},
		{"https://user:pw@hooks.example/p?token=x#f", "https://hooks.example/p"},
		{"http://[::1]:8080/", "http://[::1]:8080/"},
		{"://bad", "invalid URL"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := redact(tc.in); got != tc.want {
				t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	got := Options{}.withDefaults()
	want := Options{
		BatchInterval: DefaultBatchInterval, MaxBatch: DefaultMaxBatch, QueueSize: DefaultQueueSize,
		TargetQueueSize: DefaultQueueSize / 4, MaxAttempts: DefaultMaxAttempts,
		BaseBackoff: DefaultBaseBackoff, MaxBackoff: DefaultMaxBackoff,
		RequestTimeout: DefaultRequestTimeout, Workers: DefaultWorkers,
	}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	if small := (Options{QueueSize: 10}).withDefaults(); small.TargetQueueSize != 10 {
		t.Errorf("TargetQueueSize = %d for QueueSize 10, want 10", small.TargetQueueSize)
	}
}
