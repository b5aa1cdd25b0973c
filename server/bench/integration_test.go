package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
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
