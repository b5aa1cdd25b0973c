package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/pusherapi"
)

// startSwitchboard serves the real hub and HTTP API on a random port, wired
// as main.go wires them.
func startSwitchboard(t testing.TB) *httptest.Server {
	t.Helper()
	apps, err := hub.NewStaticApps(hub.App{ID: "app-id", Key: "app-key", Secret: "app-secret", Enabled: true})
	if err != nil {
		t.Fatalf("apps: %v", err)
	}
	h, err := hub.New(hub.Options{Apps: apps})
	if err != nil {
		t.Fatalf("hub: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/app/", h)
	mux.Handle("/apps/", pusherapi.New(h, apps, pusherapi.Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
	})
	return srv
}

func TestRunAgainstSwitchboard(t *testing.T) {
	srv := startSwitchboard(t)
	baseline := runtime.NumGoroutine()
	rep, err := runJSON(t, t.Context(), "--url", srv.URL,
		"--connections", "50", "--channels", "5", "--publishes", "20", "--rate", "1000",
		"--payload", "256", "--idle", "0", "--timeout", "30s")
	if err != nil {
		t.Fatalf("Run: %v (errors %+v)", err, rep.Errors)
	}
	// 20 publishes over 5 channels of 10 subscribers each.
	const want = 20 * 10
	checks := []struct {
		what      string
		got, want int64
	}{
		{"connections ok", rep.Connections.OK, 50},
		{"connections failed", rep.Connections.Failed, 0},
		{"connections dropped", rep.Connections.Dropped, 0},
		{"published", rep.Publish.Published, 20},
		{"publish errors", rep.Publish.Errors, 0},
		{"expected", rep.Deliveries.Expected, want},
		{"delivered", rep.Deliveries.Delivered, want},
		{"missing", rep.Deliveries.Missing, 0},
		{"duplicates", rep.Deliveries.Duplicates, 0},
		{"unexpected", rep.Deliveries.Unexpected, 0},
		{"error kinds", int64(len(rep.Errors)), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}
	checkNoLeaks(t, baseline)
}

// TestRunSpreadsOverWebSocketURLs serves one hub on three listeners, as a
// cluster's replicas serve one Pusher server, and publishes through the
// first: every listener gets its share of connections and the report
// breaks the run down by URL.
func TestRunSpreadsOverWebSocketURLs(t *testing.T) {
	srv := startSwitchboard(t)
	handler := srv.Config.Handler
	var upgrades [3]atomic.Int64
	urls := make([]string, len(upgrades))
	for i := range upgrades {
		extra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/app/") {
				upgrades[i].Add(1)
			}
			handler.ServeHTTP(w, r)
		}))
		t.Cleanup(extra.Close)
		urls[i] = extra.URL
	}
	baseline := runtime.NumGoroutine()
	rep, err := runJSON(t, t.Context(), "--url", srv.URL, "--ws-url", strings.Join(urls, ","),
		"--connections", "60", "--channels", "6", "--publishes", "30", "--rate", "1000",
		"--idle", "0", "--timeout", "30s")
	if err != nil {
		t.Fatalf("Run: %v (errors %+v)", err, rep.Errors)
	}
	// 30 publishes over 6 channels of 10 subscribers each.
	if rep.Deliveries.Delivered != 300 || rep.Deliveries.Missing != 0 || rep.Deliveries.Duplicates != 0 {
		t.Errorf("deliveries = %+v, want 300 delivered, none missing or duplicated", rep.Deliveries)
	}
	for i := range upgrades {
		if got := upgrades[i].Load(); got != 20 {
			t.Errorf("listener %d took %d connections, want 20", i+1, got)
		}
	}
	if len(rep.WebSockets) != len(urls) {
		t.Fatalf("report has %d websocket entries, want %d: %+v", len(rep.WebSockets), len(urls), rep.WebSockets)
	}
	var delivered, samples int64
	for i, w := range rep.WebSockets {
		if !strings.HasPrefix(w.URL, "ws"+strings.TrimPrefix(urls[i], "http")+"/app/") {
			t.Errorf("websocket %d URL = %q, want one on %s", i+1, w.URL, urls[i])
		}
		if w.Connections != 20 || w.Expected != 100 || w.Delivered != 100 {
			t.Errorf("websocket %d = %d connections, %d of %d delivered; want 20 connections, 100 of 100",
				i+1, w.Connections, w.Delivered, w.Expected)
		}
		delivered += w.Delivered
		samples += w.Latency.Samples
	}
	if delivered != rep.Deliveries.Delivered || samples != rep.Latency.Samples {
		t.Errorf("per-URL sums %d delivered, %d samples; report totals %d, %d",
			delivered, samples, rep.Deliveries.Delivered, rep.Latency.Samples)
	}
	checkNoLeaks(t, baseline)
}
