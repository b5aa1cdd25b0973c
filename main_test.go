package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/config"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
)

// TestMain runs the tests in a scratch directory: serve opens its default
// SQLite file (switchboard.db) in the working directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-main-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "migrate.db")
	env := envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": path})
	for range 2 { // the second run finds nothing to do
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate"}, env, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^schema at version (\d+) \(newest known: \d+\)\n$`).MatchString(out.String()) || strings.Contains(out.String(), "version 0 ") {
			t.Errorf("migrate printed %q", out.String())
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("no database file: %v", err)
	}
	bad := envOf(map[string]string{"SWITCHBOARD_DATABASE_URL": "mysql://nope"})
	if err := run(context.Background(), []string{"migrate"}, bad, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_DATABASE_URL") {
		t.Errorf("migrate with a bad database URL: %v", err)
	}
}

// The static app the serve tests configure through the environment.
const (
	testAppID     = "app-1"
	testAppKey    = "key-1"
	testAppSecret = "secret-of-app-1"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name    string
		stamped string // the -ldflags value of main.version
		want    *regexp.Regexp
	}{
		{name: "stamped at build time", stamped: "v1.2.3", want: regexp.MustCompile(`^switchboard v1\.2\.3\n$`)},
		{name: "unstamped falls back to the module version or dev", stamped: "", want: regexp.MustCompile(`^switchboard \S+\n$`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := version
			version = tc.stamped
			t.Cleanup(func() { version = saved })

			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), []string{"version"}, envOf(nil), &stdout, &stderr); err != nil {
				t.Fatalf("run version: %v", err)
			}
			if !tc.want.MatchString(stdout.String()) {
				t.Errorf("stdout %q, want to match %s", stdout.String(), tc.want)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
		})
	}
}

func TestUsage(t *testing.T) {
	commands := []string{"serve", "bench", "version"}
	tests := []struct {
		name    string
		args    []string
		wantErr string // empty: run succeeds
		// usageOn is where the command list is printed.
		usageOn string
	}{
		{name: "help prints usage", args: []string{"help"}, usageOn: "stdout"},
		{name: "-h prints usage", args: []string{"-h"}, usageOn: "stdout"},
		{name: "--help prints usage", args: []string{"--help"}, usageOn: "stdout"},
		{name: "an unknown command is an error with usage", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, usageOn: "stderr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tc.args, envOf(nil), &stdout, &stderr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("run %q: %v", tc.args, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("run %q: error %v, want one containing %q", tc.args, err, tc.wantErr)
			}
			out, quiet := stdout.String(), stderr.String()
			if tc.usageOn == "stderr" {
				out, quiet = quiet, out
			}
			if first, _, _ := strings.Cut(out, "\n"); first != "Usage: switchboard [command] [flags]" {
				t.Errorf("%s starts %q, want the command usage", tc.usageOn, first)
			}
			for _, c := range commands {
				if !strings.Contains(out, "\n  "+c+" ") {
					t.Errorf("usage does not list the %s command:\n%s", c, out)
				}
			}
			if quiet != "" {
				t.Errorf("the other stream has %q, want nothing", quiet)
			}
		})
	}
}

// TestServeHelpListsEverySetting checks serve -h against the settings
// reference, so a new setting cannot be left out of the help.
func TestServeHelpListsEverySetting(t *testing.T) {
	row := regexp.MustCompile("(?m)^\\| `(SWITCHBOARD_[A-Z_]+)` \\| `(--[a-z-]+)` \\|")
	rows := row.FindAllStringSubmatch(config.Reference(), -1)
	if len(rows) < 10 {
		t.Fatalf("found %d settings in config.Reference(), want them all:\n%s", len(rows), config.Reference())
	}
	for _, args := range [][]string{{"serve", "-h"}, {"serve", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), args, envOf(nil), &stdout, &stderr); err != nil {
				t.Fatalf("run %q: %v", args, err)
			}
			help := stdout.String()
			for _, r := range rows {
				env, flag := r[1], r[2]
				if !strings.Contains(help, "env "+env+",") {
					t.Errorf("help does not name %s", env)
				}
				if !strings.Contains(help, "  "+flag+" ") {
					t.Errorf("help does not list %s", flag)
				}
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr %q, want nothing: help must not start the server", stderr.String())
			}
		})
	}
}

func TestServeRefusesToStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { busy.Close() })

	withApp := func(extra map[string]string) map[string]string {
		env := map[string]string{
			"SWITCHBOARD_ADDR":       "127.0.0.1:0",
			"SWITCHBOARD_APP_ID":     testAppID,
			"SWITCHBOARD_APP_KEY":    testAppKey,
			"SWITCHBOARD_APP_SECRET": testAppSecret,
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	tests := []struct {
		name string
		env  map[string]string
		// wantInErr are what the error must name for the operator to fix.
		wantInErr []string
	}{
		{
			name:      "an out-of-range setting names its variable",
			env:       withApp(map[string]string{"SWITCHBOARD_PONG_TIMEOUT": "0s"}),
			wantInErr: []string{"SWITCHBOARD_PONG_TIMEOUT"},
		},
		{
			name:      "an unparsable setting names its variable",
			env:       withApp(map[string]string{"SWITCHBOARD_MAX_CONNECTIONS": "lots"}),
			wantInErr: []string{"SWITCHBOARD_MAX_CONNECTIONS", `"lots"`},
		},
		{
			name:      "a non-loopback address without an app",
			env:       map[string]string{"SWITCHBOARD_ADDR": "0.0.0.0:0"},
			wantInErr: []string{"no app configured", "SWITCHBOARD_ADDR", "SWITCHBOARD_APP_ID"},
		},
		{
			name:      "every interface without an app",
			env:       map[string]string{"SWITCHBOARD_ADDR": ":0"},
			wantInErr: []string{"no app configured", "SWITCHBOARD_ADDR"},
		},
		{
			name:      "half a static app",
			env:       map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:0", "SWITCHBOARD_APP_ID": testAppID},
			wantInErr: []string{"SWITCHBOARD_APP_KEY", "SWITCHBOARD_APP_SECRET"},
		},
		{
			name:      "the development sign-in off loopback names both settings",
			env:       withApp(map[string]string{"SWITCHBOARD_ADDR": "0.0.0.0:0", "SWITCHBOARD_DEV_LOGIN": "1"}),
			wantInErr: []string{"SWITCHBOARD_DEV_LOGIN", "SWITCHBOARD_ADDR"},
		},
		{
			name:      "Google sign-in without the public URL",
			env:       withApp(map[string]string{"SWITCHBOARD_GOOGLE_CLIENT_ID": "id", "SWITCHBOARD_GOOGLE_CLIENT_SECRET": "secret"}),
			wantInErr: []string{"SWITCHBOARD_PUBLIC_URL"},
		},
		{
			name:      "an address in use names the variable",
			env:       withApp(map[string]string{"SWITCHBOARD_ADDR": busy.Addr().String()}),
			wantInErr: []string{"SWITCHBOARD_ADDR", busy.Addr().String()},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			var stdout bytes.Buffer
			var stderr syncBuffer
			err := run(t.Context(), []string{"serve"}, envOf(tc.env), &stdout, &stderr)
			if err == nil {
				t.Fatal("run serve returned nil, want an error")
			}
			for _, want := range tc.wantInErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			if strings.Contains(stderr.String(), `"listening"`) || strings.Contains(stderr.String(), "msg=listening") {
				t.Errorf("logged listening before refusing:\n%s", stderr.String())
			}
			// A refusal must not leave the hub's or the webhook
			// dispatcher's goroutines behind.
			waitForGoroutines(t, baseline)
		})
	}
}

// TestServeLifecycle runs the server as the binary does, drives it with a
// Pusher websocket client and the official Pusher HTTP client, then cancels
// its context as SIGTERM does and checks the shutdown is graceful and
// complete.
func TestServeLifecycle(t *testing.T) {
	baseline := runtime.NumGoroutine()
	srv := startServe(t, nil)
	client := newHTTPClient(t)

	eventually(t, func() error {
		res, err := client.Get("http://" + srv.addr + "/readyz")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: status %d", res.StatusCode)
		}
		return nil
	})

	ws := dialPusher(t, client, srv.addr, testAppKey)
	subscribe(t, ws, "orders")

	api := &pusher.Client{AppID: testAppID, Key: testAppKey, Secret: testAppSecret, Host: srv.addr, HTTPClient: client}
	if err := api.Trigger("orders", "order-created", map[string]string{"id": "42"}); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	got := readFrame(t, ws)
	if got.Event != "order-created" || got.Channel != "orders" || dataString(t, got) != `{"id":"42"}` {
		t.Fatalf("received %s on %q with %s, want order-created on orders with {\"id\":\"42\"}", got.Event, got.Channel, got.Data)
	}

	srv.stop() // what SIGTERM does

	t.Run("the client is told to reconnect", func(t *testing.T) {
		f := readFrame(t, ws)
		if code := errorCode(t, f); f.Event != "pusher:error" || code != 4200 {
			t.Errorf("got %s %s, want pusher:error with code 4200", f.Event, f.Data)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, err := ws.Read(ctx)
		if got := websocket.CloseStatus(err); got != 4200 {
			t.Errorf("closed with %v (err %v), want close code 4200", got, err)
		}
	})
	t.Run("run returns nil", func(t *testing.T) {
		if err := srv.wait(t); err != nil {
			t.Errorf("run serve: %v", err)
		}
	})
	t.Run("the log says stopped", func(t *testing.T) {
		if !slices.ContainsFunc(srv.logLines(t), func(l logLine) bool { return l.Msg == "stopped" }) {
			t.Errorf("no stopped line in the log:\n%s", srv.log.String())
		}
	})
	t.Run("new connections are refused", func(t *testing.T) {
		if c, err := net.Dial("tcp", srv.addr); err == nil {
			c.Close()
			t.Errorf("dial %s after shutdown succeeded, want refused", srv.addr)
		}
	})

	// No goroutine is left behind. Counted here rather than in a subtest,
	// whose own goroutine would be counted too.
	client.CloseIdleConnections()
	waitForGoroutines(t, baseline)
}

// TestServeDevelopmentApp checks that with no app configured on loopback,
// the well-known development app is served and the log warns about it.
func TestServeDevelopmentApp(t *testing.T) {
	baseline := runtime.NumGoroutine()
	srv := startServe(t, map[string]string{
		"SWITCHBOARD_APP_ID": "", "SWITCHBOARD_APP_KEY": "", "SWITCHBOARD_APP_SECRET": "",
	})
	client := newHTTPClient(t)

	warned := slices.ContainsFunc(srv.logLines(t), func(l logLine) bool {
		return l.Level == "WARN" && strings.Contains(l.Msg, "DEVELOPMENT APP")
	})
	if !warned {
		t.Errorf("no warning about the development app in the log:\n%s", srv.log.String())
	}
	ws := dialPusher(t, client, srv.addr, config.DevelopmentApp().Key)
	ws.Close(websocket.StatusNormalClosure, "done")

	srv.stop()
	if err := srv.wait(t); err != nil {
		t.Errorf("run serve: %v", err)
	}
	client.CloseIdleConnections()
	waitForGoroutines(t, baseline)
}

// TestServeWebhooks checks that SWITCHBOARD_APP_WEBHOOK_URLS reaches the
// hub: a subscription makes a signed channel_occupied webhook, which
// pusher-http-go validates, and leaving makes channel_vacated.
func TestServeWebhooks(t *testing.T) {
	recv := newWebhookReceiver(t)
	baseline := runtime.NumGoroutine()
	srv := startServe(t, map[string]string{
		"SWITCHBOARD_APP_WEBHOOK_URLS":       recv.url,
		"SWITCHBOARD_WEBHOOK_BATCH_INTERVAL": "10ms",
	})
	client := newHTTPClient(t)

	ws := dialPusher(t, client, srv.addr, testAppKey)
	subscribe(t, ws, "orders")
	recv.waitFor(t, pusher.WebhookEvent{Name: "channel_occupied", Channel: "orders"})

	if err := ws.Close(websocket.StatusNormalClosure, "done"); err != nil {
		t.Fatalf("close websocket: %v", err)
	}
	recv.waitFor(t, pusher.WebhookEvent{Name: "channel_vacated", Channel: "orders"})

	srv.stop()
	if err := srv.wait(t); err != nil {
		t.Errorf("run serve: %v", err)
	}
	client.CloseIdleConnections()
	waitForGoroutines(t, baseline)
}

// webhookReceiver is an app server's webhook endpoint: it validates each
// POST with pusher-http-go, as a real app would, and keeps the events.
type webhookReceiver struct {
	url string

	mu     sync.Mutex
	events []pusher.WebhookEvent
	errs   []error
}

func newWebhookReceiver(t testing.TB) *webhookReceiver {
	t.Helper()
	validator := &pusher.Client{AppID: testAppID, Key: testAppKey, Secret: testAppSecret}
	r := &webhookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err == nil {
			var wh *pusher.Webhook
			if wh, err = validator.Webhook(req.Header, body); err == nil {
				r.mu.Lock()
				r.events = append(r.events, wh.Events...)
				r.mu.Unlock()
				return
			}
		}
		r.mu.Lock()
		r.errs = append(r.errs, fmt.Errorf("%s %s: %w", req.Method, req.URL, err))
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL + "/pusher/webhooks"
	return r
}

// waitFor polls until want has been received, failing at once on a webhook
// that did not validate.
func (r *webhookReceiver) waitFor(t testing.TB, want pusher.WebhookEvent) {
	t.Helper()
	eventually(t, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.errs) > 0 {
			t.Fatalf("invalid webhook: %v", errors.Join(r.errs...))
		}
		if !slices.Contains(r.events, want) {
			return fmt.Errorf("no %s webhook for %s; received %+v", want.Name, want.Channel, r.events)
		}
		return nil
	})
}

// serving is one run of "switchboard serve" in a goroutine.
type serving struct {
	addr string
	log  *syncBuffer
	stop context.CancelFunc

	done    chan error
	once    sync.Once
	settled error
}

// startServe runs serve on a random loopback port with JSON logs, the test
// app and env's overrides, and returns once it logs its address. Cleanup
// stops it if the test has not.
func startServe(t testing.TB, env map[string]string) *serving {
	t.Helper()
	full := map[string]string{
		"SWITCHBOARD_ADDR":       "127.0.0.1:0",
		"SWITCHBOARD_LOG_FORMAT": "json",
		"SWITCHBOARD_APP_ID":     testAppID,
		"SWITCHBOARD_APP_KEY":    testAppKey,
		"SWITCHBOARD_APP_SECRET": testAppSecret,
	}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{log: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, []string{"serve"}, envOf(full), io.Discard, s.log) }()
	t.Cleanup(func() {
		s.stop()
		s.wait(t)
	})

	eventually(t, func() error {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("run serve returned before listening: %v\n%s", err, s.log.String())
		default:
		}
		for _, l := range s.logLines(t) {
			if l.Msg == "listening" {
				s.addr = l.Addr
				return nil
			}
		}
		return errors.New("serve has not logged its address")
	})
	return s
}

// wait returns run's result, failing if it does not return in a generous
// bound after stop.
func (s *serving) wait(t testing.TB) error {
	t.Helper()
	s.once.Do(func() {
		select {
		case s.settled = <-s.done:
		case <-time.After(30 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("run serve did not return after its context ended:\n%s", buf[:runtime.Stack(buf, true)])
		}
	})
	return s.settled
}

// logLine is the part of a JSON log record the tests read.
type logLine struct {
	Level string `json:"level"`
	Msg   string `json:"msg"`
	Addr  string `json:"addr"`
}

// logLines parses the server's log; every line must be JSON.
func (s *serving) logLines(t testing.TB) []logLine {
	t.Helper()
	var out []logLine
	for raw := range strings.Lines(s.log.String()) {
		var l logLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", raw, err)
		}
		out = append(out, l)
	}
	return out
}

// newHTTPClient returns a client with its own transport, so the test can
// close its idle connections before counting goroutines.
func newHTTPClient(t testing.TB) *http.Client {
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// frame is one Pusher protocol message as the client receives it.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// dialPusher connects a Pusher protocol 7 client and reads its
// connection_established.
func dialPusher(t testing.TB, client *http.Client, addr, key string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/app/"+key+"?protocol=7", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	if f := readFrame(t, ws); f.Event != "pusher:connection_established" {
		t.Fatalf("first event %s %s, want pusher:connection_established", f.Event, f.Data)
	}
	return ws
}

// subscribe subscribes ws to a public channel and waits for the server to
// confirm.
func subscribe(t testing.TB, ws *websocket.Conn, channel string) {
	t.Helper()
	msg, err := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": channel}})
	if err != nil {
		t.Fatalf("encode subscribe: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatalf("subscribe to %s: %v", channel, err)
	}
	if f := readFrame(t, ws); f.Event != "pusher_internal:subscription_succeeded" || f.Channel != channel {
		t.Fatalf("got %s on %q %s, want subscription_succeeded on %s", f.Event, f.Channel, f.Data, channel)
	}
}

// readFrame reads the next message, bounded so a missing one fails the test
// rather than hanging it.
func readFrame(t testing.TB, ws *websocket.Conn) frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, msg, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("read a %v message, want text", typ)
	}
	var f frame
	if err := json.Unmarshal(msg, &f); err != nil {
		t.Fatalf("frame %s: %v", msg, err)
	}
	return f
}

// dataString decodes an event's data, which the protocol carries as a
// string.
func dataString(t testing.TB, f frame) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		t.Fatalf("%s data %s is not a string: %v", f.Event, f.Data, err)
	}
	return s
}

// errorCode returns a pusher:error's code, whose data is an object.
func errorCode(t testing.TB, f frame) int {
	t.Helper()
	var e struct {
		Code int `json:"code"`
	}
	if err := json.Unmarshal(f.Data, &e); err != nil {
		t.Fatalf("%s data %s: %v", f.Event, f.Data, err)
	}
	return e.Code
}

// syncBuffer is a log sink the server writes from many goroutines while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// envOf is a getenv over a fixed set of variables.
func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// eventually polls f until it returns nil, and fails with its last error
// after a generous bound. Tests wait on state this way, never by sleeping.
func eventually(t testing.TB, f func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForGoroutines polls until no more goroutines run than baseline, and
// fails with every stack if they do not wind down.
func waitForGoroutines(t testing.TB, baseline int) {
	t.Helper()
	eventually(t, func() error {
		if n := runtime.NumGoroutine(); n > baseline {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("%d goroutines running, %d before the test:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
		}
		return nil
	})
}

func TestWorkspaceCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ws.db")
	env := envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": path})
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"workspace", "create", "--name", "Acme", "--owner-email", "owner@acme.test", "--owner-name", "Olive"}, env, &out, &errOut)
	if err != nil {
		t.Fatalf("%v (%s)", err, errOut.String())
	}
	var got struct {
		WorkspaceID int64  `json:"workspace_id"`
		AppID       string `json:"app_id"`
		AppKey      string `json:"app_key"`
		AppSecret   string `json:"app_secret"`
		APIToken    string `json:"api_token"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if got.WorkspaceID == 0 || got.AppKey == "" || got.AppSecret == "" || got.APIToken == "" {
		t.Fatalf("incomplete output %+v", got)
	}
	// The printed token authenticates, and the workspace is a Pusher app.
	st, err := sqlite.New(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.AuthenticateToken(context.Background(), got.APIToken)
	if err != nil || p.Workspace.ID != got.WorkspaceID || p.Role != store.RoleOwner {
		t.Errorf("token authenticates as %+v, %v", p, err)
	}
	if ws, err := st.WorkspaceByAppKey(context.Background(), got.AppKey); err != nil || ws.AppSecret != got.AppSecret {
		t.Errorf("app key lookup: %+v, %v", ws, err)
	}

	for _, args := range [][]string{
		{"workspace"},
		{"workspace", "delete"},
		{"workspace", "create", "--owner-email", "x@acme.test"},         // no name
		{"workspace", "create", "--name", "A", "--owner-email", "nope"}, // bad email
	} {
		if err := run(context.Background(), args, env, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestServeInboxLiveEvents runs the inbox end to end: a message sent
// through the REST API is committed, published by the relay on the
// workspace channel (to a client signed with the workspace's secret) and
// returned by the catch-up endpoint with the same seq.
func TestServeInboxLiveEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.db")
	ctx := context.Background()
	st, err := sqlite.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws, owner, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := st.CreateAPIToken(ctx, ws.ID, store.NewAPIToken{AgentID: owner.ID, Name: "test", Role: store.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.CreateInbox(ctx, ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support"})
	if err != nil {
		t.Fatal(err)
	}
	contact, _, err := st.UpsertContact(ctx, ws.ID, store.Identity{Channel: "whatsapp", ExternalID: "+447700900002"}, store.NewContact{Name: "Carol"})
	if err != nil {
		t.Fatal(err)
	}
	conv, _, err := st.CreateConversation(ctx, ws.ID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Carol wrote first: WhatsApp's window is open for the reply.
	if _, err := st.CreateMessage(ctx, ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn, Body: "Where is my order?", ProviderMessageID: "wamid.1"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	s := startServe(t, map[string]string{"SWITCHBOARD_SQLITE_PATH": path})
	client := newHTTPClient(t)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sock, _, err := websocket.Dial(dctx, "ws://"+s.addr+"/app/"+ws.AppKey+"?protocol=7", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.CloseNow()
	var est struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(dataString(t, readFrame(t, sock))), &est); err != nil {
		t.Fatal(err)
	}
	channel := fmt.Sprintf("private-workspace-%d", ws.ID)
	// Authorize through /pusher/auth with the API token, as pusher-js would.
	form := url.Values{"socket_id": {est.SocketID}, "channel_name": {channel}}
	areq, _ := http.NewRequest("POST", "http://"+s.addr+"/pusher/auth", strings.NewReader(form.Encode()))
	areq.Header.Set("Authorization", "Bearer "+token)
	areq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	aresp, err := client.Do(areq)
	if err != nil {
		t.Fatal(err)
	}
	var auth struct {
		Auth string `json:"auth"`
	}
	json.NewDecoder(aresp.Body).Decode(&auth)
	aresp.Body.Close()
	if aresp.StatusCode != http.StatusOK || auth.Auth != ws.AppKey+":"+hub.Sign(ws.AppSecret, est.SocketID+":"+channel) {
		t.Fatalf("/pusher/auth: %s %+v", aresp.Status, auth)
	}
	sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": channel, "auth": auth.Auth}})
	if err := sock.Write(dctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	// The conversation.created committed before start was published when
	// nobody listened yet: a client catches up on such events through
	// /api/v1/events, not live.
	if f := readFrame(t, sock); f.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("got %s %s, want subscription_succeeded", f.Event, f.Data)
	}
	var ev store.Event

	req, _ := http.NewRequest("POST", fmt.Sprintf("http://%s/api/v1/conversations/%d/messages", s.addr, conv.ID), strings.NewReader(`{"body":"On its way!"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "send-1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("send: %s", resp.Status)
	}
	// The relay's first sweep may run after the subscription after all,
	// publishing the two events committed before start (seqs 1 and 2)
	// first: the reply is seq 3.
	for {
		f := readFrame(t, sock)
		if err := json.Unmarshal([]byte(dataString(t, f)), &ev); err != nil || f.Channel != channel {
			t.Fatalf("live event %s on %s: %+v %v", f.Event, f.Channel, ev, err)
		}
		if ev.Seq < 3 {
			continue
		}
		if f.Event != "message.created" || ev.Seq != 3 {
			t.Fatalf("live event %s seq %d, want the reply's message.created, seq 3", f.Event, ev.Seq)
		}
		break
	}

	req, _ = http.NewRequest("GET", fmt.Sprintf("http://%s/api/v1/events?after=%d", s.addr, ev.Seq-1), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Events  []store.Event `json:"events"`
		HasMore bool          `json:"has_more"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || page.Events[0].Seq != ev.Seq || page.Events[0].Kind != "message.created" || page.HasMore {
		t.Errorf("catch-up after %d: %+v, want exactly the live event seq %d", ev.Seq-1, page, ev.Seq)
	}
}

func TestSeedCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.db")
	env := envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": path})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"workspace", "create", "--name", "Acme", "--owner-email", "o@acme.test"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var ws struct {
		ID int64 `json:"workspace_id"`
	}
	json.Unmarshal(out.Bytes(), &ws)
	out.Reset()
	var progress bytes.Buffer
	if err := run(context.Background(), []string{"seed", "--workspace", fmt.Sprint(ws.ID), "--conversations", "4", "--messages", "2"}, env, &out, &progress); err != nil {
		t.Fatal(err)
	}
	var res struct {
		ConversationIDs []int64 `json:"conversation_ids"`
		Messages        int     `json:"messages"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.ConversationIDs) != 4 || res.Messages != 8 {
		t.Errorf("seed printed %q (%v)", out.String(), err)
	}
	if !strings.Contains(progress.String(), "seed: 4/4 conversations") {
		t.Errorf("progress %q", progress.String())
	}
	for _, args := range [][]string{{"seed"}, {"seed", "--workspace", "999"}, {"seed", "--workspace", fmt.Sprint(ws.ID), "--conversations", "-2"}} {
		if err := run(context.Background(), args, env, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// TestSeedCommandBulk: --bulk loads in one go with one workspace.imported
// event, --bulk=false writes row by row, and -h explains the choice.
func TestSeedCommandBulk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.db")
	env := envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": path})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"workspace", "create", "--name", "Acme", "--owner-email", "o@acme.test"}, env, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var ws struct {
		ID int64 `json:"workspace_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &ws); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		flag     string
		wantBulk bool
		events   int64 // appended to the workspace's log: exactly in bulk, at least row by row
	}{
		{"--bulk", true, 1},
		{"--bulk=false", false, 40 + 40*3},
	}
	for _, tc := range tests {
		t.Run(tc.flag, func(t *testing.T) {
			before := latestSeq(t, path, ws.ID)
			var out, progress bytes.Buffer
			args := []string{"seed", "--workspace", fmt.Sprint(ws.ID), "--conversations", "40", "--messages", "3", tc.flag}
			if err := run(context.Background(), args, env, &out, &progress); err != nil {
				t.Fatal(err)
			}
			var res struct {
				ConversationIDs []int64 `json:"conversation_ids"`
				Conversations   int     `json:"conversations"`
				Messages        int     `json:"messages"`
				Bulk            bool    `json:"bulk"`
			}
			if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Conversations != 40 || res.Messages != 120 || res.Bulk != tc.wantBulk {
				t.Errorf("seed printed %q (%v)", out.String(), err)
			}
			if !strings.Contains(progress.String(), "seed: 40/40 conversations") || !strings.Contains(progress.String(), "messages/s") {
				t.Errorf("progress %q", progress.String())
			}
			if got := latestSeq(t, path, ws.ID) - before; got < tc.events || tc.wantBulk && got != tc.events {
				t.Errorf("%d events appended, want %d", got, tc.events)
			}
		})
	}
	var help bytes.Buffer
	if err := run(context.Background(), []string{"seed", "-h"}, env, io.Discard, &help); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"workspace.imported", "--bulk=false", "-conversations"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("seed -h lacks %q:\n%s", want, help.String())
		}
	}
}

func latestSeq(t *testing.T, path string, workspaceID int64) int64 {
	t.Helper()
	st, err := sqlite.New(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.EventsAfter(context.Background(), workspaceID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return page.LatestSeq
}

// TestServeRevocationClosesConnections: revoking an agent's API token, or
// removing a member, through the REST API closes at once, with 4009, the
// websocket connections signed in (pusher:signin) as that agent to the
// workspace's app, and no one else's.
func TestServeRevocationClosesConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revoke.db")
	ctx := context.Background()
	st, err := sqlite.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws, owner, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, ownerToken, err := st.CreateAPIToken(ctx, ws.ID, store.NewAPIToken{AgentID: owner.ID, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var agents [2]store.Agent
	var agentTokens [2]store.APIToken
	for i, email := range []string{"xavier@acme.test", "yolanda@acme.test"} {
		if agents[i], err = st.CreateAgent(ctx, ws.ID, store.NewAgent{Email: email, Role: store.RoleAgent}); err != nil {
			t.Fatal(err)
		}
		if agentTokens[i], _, err = st.CreateAPIToken(ctx, ws.ID, store.NewAPIToken{AgentID: agents[i].ID, Name: "extension"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	s := startServe(t, map[string]string{"SWITCHBOARD_SQLITE_PATH": path})
	client := newHTTPClient(t)
	// signedIn connects to the workspace's app and signs in as agentID,
	// with the signature /pusher/user-auth gives a member.
	signedIn := func(agentID int64) *websocket.Conn {
		t.Helper()
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		sock, _, err := websocket.Dial(dctx, "ws://"+s.addr+"/app/"+ws.AppKey+"?protocol=7", &websocket.DialOptions{HTTPClient: client})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sock.CloseNow() })
		var est struct {
			SocketID string `json:"socket_id"`
		}
		if err := json.Unmarshal([]byte(dataString(t, readFrame(t, sock))), &est); err != nil {
			t.Fatal(err)
		}
		userData := fmt.Sprintf(`{"id":"%d"}`, agentID)
		msg, _ := json.Marshal(map[string]any{"event": "pusher:signin", "data": map[string]string{
			"user_data": userData, "auth": ws.AppKey + ":" + hub.Sign(ws.AppSecret, est.SocketID+"::user::"+userData)}})
		if err := sock.Write(dctx, websocket.MessageText, msg); err != nil {
			t.Fatal(err)
		}
		if f := readFrame(t, sock); f.Event != "pusher:signin_success" {
			t.Fatalf("got %s %s, want signin_success", f.Event, f.Data)
		}
		return sock
	}
	api := func(method, path string) {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+s.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+ownerToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s %s: %s", method, path, resp.Status)
		}
	}
	// wantClosed reads the pusher:error 4009 the hub sends before it
	// closes, then the close itself.
	wantClosed := func(sock *websocket.Conn) {
		t.Helper()
		if f := readFrame(t, sock); f.Event != "pusher:error" || errorCode(t, f) != 4009 {
			t.Fatalf("got %s %s, want pusher:error 4009", f.Event, f.Data)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, msg, err := sock.Read(rctx)
		if got := websocket.CloseStatus(err); got != 4009 {
			t.Fatalf("read %s, %v: want the connection closed with 4009", msg, err)
		}
	}
	wantOpen := func(sock *websocket.Conn) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := sock.Write(wctx, websocket.MessageText, []byte(`{"event":"pusher:ping","data":{}}`)); err != nil {
			t.Fatal(err)
		}
		if f := readFrame(t, sock); f.Event != "pusher:pong" {
			t.Fatalf("got %s, want pusher:pong", f.Event)
		}
	}

	xavier, yolanda, own := signedIn(agents[0].ID), signedIn(agents[1].ID), signedIn(owner.ID)
	api("DELETE", fmt.Sprintf("/api/v1/tokens/%d", agentTokens[0].ID))
	wantClosed(xavier)
	wantOpen(yolanda)
	wantOpen(own)

	api("DELETE", fmt.Sprintf("/api/v1/members/%d", agents[1].ID))
	wantClosed(yolanda)
	wantOpen(own)
}
