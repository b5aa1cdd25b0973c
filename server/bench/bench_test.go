package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runJSON runs the bench with args plus --json --quiet and decodes the
// report it prints.
func runJSON(t testing.TB, ctx context.Context, args ...string) (*Report, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := Run(ctx, append([]string{"--json", "--quiet"}, args...), &stdout, &stderr)
	if stdout.Len() == 0 {
		t.Fatalf("Run printed no report (err %v, stderr %q)", err, stderr.String())
	}
	var rep Report
	if derr := json.Unmarshal(stdout.Bytes(), &rep); derr != nil {
		t.Fatalf("decode report: %v\n%s", derr, stdout.String())
	}
	return &rep, err
}

// waitFor polls cond until it holds or a generous deadline passes; the
// deadline only turns a hang into a failure, it asserts nothing about speed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkNoLeaks fails t if goroutines started after baseline outlive the test
// body (the fake server's per-connection goroutines included).
func checkNoLeaks(t testing.TB, baseline int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunAgainstFakeServer(t *testing.T) {
	const conns, channels, publishes = 40, 4, 20
	const perChannel = conns / channels // publishes spread evenly: 5 per channel
	tests := []struct {
		name       string
		opts       fakeOptions
		wantErr    error
		published  int64
		pubErrors  int64
		expected   int64
		delivered  int64
		missing    int64
		duplicates int64
		// lossy: the drain must time out, so deliveries to live channels
		// may still be unread when it does (a loaded machine): delivered
		// is then an upper bound and missing a lower bound.
		lossy       bool
		wantErrKind string
	}{
		{
			name:      "every delivery arrives",
			opts:      fakeOptions{pingAfterSubscribe: true},
			published: publishes, expected: publishes * perChannel, delivered: publishes * perChannel,
		},
		{
			name:      "duplicates are counted once as delivered",
			opts:      fakeOptions{duplicate: true},
			wantErr:   ErrIncomplete,
			published: publishes, expected: publishes * perChannel, delivered: publishes * perChannel,
			duplicates: publishes * perChannel,
		},
		{
			name:      "a silent channel shows as missing",
			opts:      fakeOptions{dropChannel: "bench-1"},
			wantErr:   ErrIncomplete,
			published: publishes, expected: publishes * perChannel,
			delivered: (publishes - publishes/channels) * perChannel, missing: publishes / channels * perChannel,
			lossy: true, wantErrKind: "drain: timeout",
		},
		{
			name:      "refused publishes are errors, not missing",
			opts:      fakeOptions{failPublishEvery: 4},
			wantErr:   ErrIncomplete,
			published: publishes - publishes/4, pubErrors: publishes / 4,
			expected: (publishes - publishes/4) * perChannel, delivered: (publishes - publishes/4) * perChannel,
			wantErrKind: "publish: HTTP 500",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, tt.opts)
			baseline := runtime.NumGoroutine()
			timeout := "30s"
			if tt.lossy {
				timeout = "1s" // the drain cannot succeed; do not wait long
			}
			rep, err := runJSON(t, t.Context(), "--url", srv.URL,
				"--connections", strconv.Itoa(conns), "--channels", strconv.Itoa(channels),
				"--publishes", strconv.Itoa(publishes), "--rate", "10000", "--connect-rate", "0",
				"--idle", "0", "--timeout", timeout)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			delivered, missing := rep.Deliveries.Delivered, rep.Deliveries.Missing
			if tt.lossy {
				if delivered > tt.delivered || missing < tt.missing || delivered+missing != tt.expected {
					t.Errorf("delivered %d + missing %d: want at most %d + at least %d = %d",
						delivered, missing, tt.delivered, tt.missing, tt.expected)
				}
				delivered, missing = tt.delivered, tt.missing // checked above
			}
			checks := []struct {
				what      string
				got, want int64
			}{
				{"connections ok", rep.Connections.OK, conns},
				{"connections failed", rep.Connections.Failed, 0},
				{"connections dropped", rep.Connections.Dropped, 0},
				{"published", rep.Publish.Published, tt.published},
				{"publish errors", rep.Publish.Errors, tt.pubErrors},
				{"expected", rep.Deliveries.Expected, tt.expected},
				{"delivered", delivered, tt.delivered},
				{"missing", missing, tt.missing},
				{"duplicates", rep.Deliveries.Duplicates, tt.duplicates},
				{"unexpected", rep.Deliveries.Unexpected, 0},
				{"latency samples", rep.Latency.Samples, rep.Deliveries.Delivered},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
				}
			}
			if rep.Interrupted || rep.Phase != "done" {
				t.Errorf("phase %q interrupted %v, want done", rep.Phase, rep.Interrupted)
			}
			if tt.wantErrKind != "" && !hasErrorKind(rep, tt.wantErrKind) {
				t.Errorf("errors %+v lack kind %q", rep.Errors, tt.wantErrKind)
			}
			if tt.wantErr == nil && len(rep.Errors) != 0 {
				t.Errorf("errors = %+v, want none", rep.Errors)
			}
			if hasErrorKind(rep, "close: handshake") {
				t.Errorf("a close handshake failed: %+v", rep.Errors)
			}
			waitFor(t, "every connection closed with 1000", func() bool { return srv.closes1000.Load() == conns })
			if tt.opts.pingAfterSubscribe {
				waitFor(t, "a pong per connection", func() bool { return srv.pongs.Load() == conns })
			}
			checkNoLeaks(t, baseline)
		})
	}
}

func hasErrorKind(rep *Report, kind string) bool {
	for _, e := range rep.Errors {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

func TestRunConnectFailures(t *testing.T) {
	srv := newFakeServer(t, fakeOptions{})
	baseline := runtime.NumGoroutine()
	rep, err := runJSON(t, t.Context(), "--url", srv.URL, "--app-key", "wrong-key",
		"--connections", "5", "--channels", "1", "--publishes", "2", "--rate", "1000", "--idle", "0")
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Run error = %v, want ErrIncomplete", err)
	}
	if rep.Connections.Failed != 5 || rep.Connections.OK != 0 {
		t.Errorf("connections ok %d failed %d, want 0 and 5", rep.Connections.OK, rep.Connections.Failed)
	}
	// The wrong key also fails the HTTP API's signature check.
	want := []ErrorCount{
		{Kind: "connect: pusher:error 4001", Count: 5, Example: "App key not in this cluster"},
		{Kind: "publish: HTTP 401", Count: 2, Example: `{"error":"bad signature"}`},
	}
	if !slices.Equal(rep.Errors, want) {
		t.Errorf("errors = %+v, want %+v", rep.Errors, want)
	}
	if rep.Deliveries.Expected != 0 {
		t.Errorf("expected = %d with no subscribers, want 0", rep.Deliveries.Expected)
	}
	checkNoLeaks(t, baseline)
}

func TestRunInterruptedPrintsPartialReport(t *testing.T) {
	srv := newFakeServer(t, fakeOptions{holdPublishes: true})
	baseline := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Interrupt once the run is provably in its publishing phase.
		select {
		case <-srv.publishSeen:
			cancel()
		case <-ctx.Done():
		}
	}()
	rep, err := runJSON(t, ctx, "--url", srv.URL, "--connections", "10", "--channels", "2",
		"--publishes", "5", "--rate", "1000", "--idle", "0")
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want ErrInterrupted wrapping context.Canceled", err)
	}
	if !rep.Interrupted || rep.Phase != "publish" {
		t.Errorf("interrupted %v phase %q, want true and publish", rep.Interrupted, rep.Phase)
	}
	if rep.Connections.OK != 10 || rep.Publish.Published != 0 {
		t.Errorf("connections ok %d published %d, want 10 and 0", rep.Connections.OK, rep.Publish.Published)
	}
	waitFor(t, "every connection closed with 1000", func() bool { return srv.closes1000.Load() == 10 })
	checkNoLeaks(t, baseline)
}

func TestRunInterruptedWhileConnecting(t *testing.T) {
	srv := newFakeServer(t, fakeOptions{ignoreSubscribes: true})
	baseline := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		select {
		case <-srv.subscribeSeen:
			cancel()
		case <-ctx.Done():
		}
	}()
	rep, err := runJSON(t, ctx, "--url", srv.URL, "--connections", "10", "--connect-rate", "0", "--idle", "0")
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run error = %v, want ErrInterrupted", err)
	}
	if !rep.Interrupted || rep.Phase != "connect" {
		t.Errorf("interrupted %v phase %q, want true and connect", rep.Interrupted, rep.Phase)
	}
	// How many dials had started when the cancel landed depends on the
	// scheduler; at least the one that subscribed had, and none succeeded.
	if rep.Connections.OK != 0 || rep.Connections.Failed < 1 || rep.Connections.Failed > 10 || rep.Publish.Attempted != 0 {
		t.Errorf("ok %d failed %d attempted %d, want 0, 1..10, 0", rep.Connections.OK, rep.Connections.Failed, rep.Publish.Attempted)
	}
	if !hasErrorKind(rep, "connect: interrupted") {
		t.Errorf("errors %+v lack connect: interrupted", rep.Errors)
	}
	checkNoLeaks(t, baseline)
}

func TestRunConnectOnlyWithPID(t *testing.T) {
	srv := newFakeServer(t, fakeOptions{})
	// The test process stands in for the server: its RSS is real.
	rep, err := runJSON(t, t.Context(), "--url", srv.URL, "--connections", "20", "--channels", "2",
		"--duration", "0", "--idle", "0", "--pid", strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if rep.Connections.OK != 20 || rep.Publish.Planned != 0 || rep.Publish.Attempted != 0 || rep.Deliveries.Expected != 0 {
		t.Errorf("ok %d planned %d attempted %d expected %d, want 20, 0, 0, 0",
			rep.Connections.OK, rep.Publish.Planned, rep.Publish.Attempted, rep.Deliveries.Expected)
	}
	if rep.RSS == nil || rep.RSS.PID != os.Getpid() || rep.RSS.BeforeBytes <= 0 || rep.RSS.IdleBytes <= 0 || rep.RSS.EndBytes <= 0 {
		t.Errorf("rss = %+v, want three readings of pid %d", rep.RSS, os.Getpid())
	}
}

func TestRunProgressAndTable(t *testing.T) {
	srv := newFakeServer(t, fakeOptions{})
	var stdout, stderr bytes.Buffer
	err := Run(t.Context(), []string{"--url", srv.URL, "--connections", "4", "--channels", "2",
		"--publishes", "4", "--rate", "1000", "--idle", "0"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, want := range []string{"switchboard bench: " + srv.URL, "4 ok, 0 failed, 0 dropped (of 4)",
		"8 delivered of 8 expected, 0 missing", "errors        none"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
}
