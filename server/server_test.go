package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server"
)

// testApp is the one app the stack under test serves.
var testApp = hub.App{ID: "app-1", Key: "key-1", Secret: "secret-of-app-1", Enabled: true}

// stack is server.New over a real hub on a loopback httptest server, wired
// the way main wires it: the hub registers its metrics into the registry
// the handler exports.
type stack struct {
	url  string
	hub  *hub.Hub
	http *http.Client
}

// newStack starts a stack and registers its teardown: the hub is shut down,
// the server closed, and every goroutine the test started must be gone.
func newStack(t testing.TB) *stack {
	t.Helper()
	baseline := runtime.NumGoroutine()
	apps, err := hub.NewStaticApps(testApp)
	if err != nil {
		t.Fatalf("NewStaticApps: %v", err)
	}
	reg := prometheus.NewRegistry()
	h, err := hub.New(hub.Options{Apps: apps, Registerer: reg})
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	srv := httptest.NewServer(server.New(server.Options{Hub: h, Apps: apps, Gatherer: reg}))
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		client.CloseIdleConnections()
		srv.Close()
		waitForGoroutines(t, baseline)
	})
	return &stack{url: srv.URL, hub: h, http: client}
}

// response is what a case checks of one HTTP reply.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends one request to the stack and reads the whole reply.
func (s *stack) do(t testing.TB, method, path string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	res, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

// dial opens a Pusher websocket connection to the stack.
func (s *stack) dial(t testing.TB, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+path, &websocket.DialOptions{HTTPClient: s.http})
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// frame is one Pusher protocol message as the client receives it.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// readFrame reads the next message from ws, bounded so a missing message
// fails the test instead of hanging it.
func readFrame(t testing.TB, ws *websocket.Conn) frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
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

// mediaType is the Content-Type without its parameters.
func mediaType(t testing.TB, h http.Header) string {
	t.Helper()
	ct := h.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ct, err)
	}
	return mt
}

// jsonBody decodes a JSON object reply into string fields.
func jsonBody(t testing.TB, r response) map[string]string {
	t.Helper()
	if mt := mediaType(t, r.header); mt != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %q", mt, r.body)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// wantUIHeaders checks the headers every page and asset of the UI carries.
func wantUIHeaders(t testing.TB, r response) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	if csp == "" {
		t.Error("no Content-Security-Policy header")
	}
	if strings.Contains(csp, "'unsafe-inline'") || strings.Contains(csp, "'unsafe-eval'") {
		t.Errorf("Content-Security-Policy %q allows inline or eval'd code", csp)
	}
	if !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q does not restrict default-src to 'self'", csp)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}

// wantAllowGET checks a 405 reply names the methods the path does take.
func wantAllowGET(t *testing.T, r response) {
	t.Helper()
	if allow := r.header.Get("Allow"); !strings.Contains(allow, http.MethodGet) {
		t.Errorf("Allow %q, want GET", allow)
	}
}

func TestRoutes(t *testing.T) {
	s := newStack(t)
	tests := []struct {
		name   string
		method string
		path   string
		status int
		check  func(t *testing.T, r response)
	}{
		{
			name: "healthz says ok", method: http.MethodGet, path: "/healthz", status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got := jsonBody(t, r); got["status"] != "ok" {
					t.Errorf("body %v, want status ok", got)
				}
			},
		},
		{
			name: "readyz says ready", method: http.MethodGet, path: "/readyz", status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if got := jsonBody(t, r); got["status"] != "ready" {
					t.Errorf("body %v, want status ready", got)
				}
			},
		},
		{
			name: "metrics exports the hub's gauges", method: http.MethodGet, path: "/metrics", status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if !strings.Contains(r.body, "\nswitchboard_connections ") {
					t.Errorf("metrics lack switchboard_connections:\n%s", r.body)
				}
			},
		},
		{
			name: "root serves the page under a strict CSP", method: http.MethodGet, path: "/", status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if mt := mediaType(t, r.header); mt != "text/html" {
					t.Errorf("Content-Type %q, want text/html", mt)
				}
				if !strings.Contains(r.body, "<title>Switchboard</title>") {
					t.Errorf("body is not the Switchboard page:\n%s", r.body)
				}
				wantUIHeaders(t, r)
			},
		},
		{
			name: "stylesheet is served as CSS", method: http.MethodGet, path: "/static/style.css", status: http.StatusOK,
			check: func(t *testing.T, r response) {
				if mt := mediaType(t, r.header); mt != "text/css" {
					t.Errorf("Content-Type %q, want text/css", mt)
				}
				if r.body == "" {
					t.Error("empty stylesheet")
				}
				wantUIHeaders(t, r)
			},
		},
		{
			name: "unknown path is a JSON 404", method: http.MethodGet, path: "/no/such/page", status: http.StatusNotFound,
			check: func(t *testing.T, r response) {
				if got := jsonBody(t, r); got["error"] == "" {
					t.Errorf("body %v, want an error", got)
				}
			},
		},
		{
			name: "unknown asset is a 404", method: http.MethodGet, path: "/static/missing.css", status: http.StatusNotFound,
		},
		{
			name: "healthz refuses POST", method: http.MethodPost, path: "/healthz", status: http.StatusMethodNotAllowed,
			check: wantAllowGET,
		},
		{
			name: "readyz refuses POST", method: http.MethodPost, path: "/readyz", status: http.StatusMethodNotAllowed,
			check: wantAllowGET,
		},
		{
			name: "metrics refuses DELETE", method: http.MethodDelete, path: "/metrics", status: http.StatusMethodNotAllowed,
			check: wantAllowGET,
		},
		{
			name: "unsigned API request is a JSON 401", method: http.MethodPost, path: "/apps/" + testApp.ID + "/events", status: http.StatusUnauthorized,
			check: func(t *testing.T, r response) {
				if got := jsonBody(t, r); got["error"] == "" {
					t.Errorf("body %v, want an error", got)
				}
			},
		},
		{
			name: "API request for an unknown app is a JSON 404", method: http.MethodPost, path: "/apps/no-such-app/events", status: http.StatusNotFound,
			check: func(t *testing.T, r response) {
				if got := jsonBody(t, r); got["error"] == "" {
					t.Errorf("body %v, want an error", got)
				}
			},
		},
		{
			name: "API errors on GET are JSON too", method: http.MethodGet, path: "/apps/" + testApp.ID + "/channels", status: http.StatusUnauthorized,
			check: func(t *testing.T, r response) {
				if got := jsonBody(t, r); got["error"] == "" {
					t.Errorf("body %v, want an error", got)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path)
			if r.status != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %q", tc.method, tc.path, r.status, tc.status, r.body)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestReadyzReportsShutdown(t *testing.T) {
	s := newStack(t)
	if r := s.do(t, http.MethodGet, "/readyz"); r.status != http.StatusOK {
		t.Fatalf("before shutdown: status %d, want 200; body %q", r.status, r.body)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.hub.Shutdown(ctx); err != nil {
		t.Fatalf("hub shutdown: %v", err)
	}

	r := s.do(t, http.MethodGet, "/readyz")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown: status %d, want 503; body %q", r.status, r.body)
	}
	if got := jsonBody(t, r); got["error"] == "" || got["status"] == "ready" {
		t.Errorf("after shutdown: body %v, want a not-ready status with an error", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store: a probe must not see a cached answer", got)
	}
	// Liveness is not readiness: a draining server is still alive.
	if r := s.do(t, http.MethodGet, "/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz after shutdown: status %d, want 200", r.status)
	}
}

func TestWebsocket(t *testing.T) {
	t.Run("an app key upgrades to a Pusher connection", func(t *testing.T) {
		s := newStack(t)
		ws := s.dial(t, "/app/"+testApp.Key+"?protocol=7")
		f := readFrame(t, ws)
		if f.Event != "pusher:connection_established" {
			t.Fatalf("first event %q, want pusher:connection_established", f.Event)
		}
		// The protocol carries this event's data as a JSON-encoded string.
		var encoded string
		if err := json.Unmarshal(f.Data, &encoded); err != nil {
			t.Fatalf("data %s is not a string: %v", f.Data, err)
		}
		var est struct {
			SocketID        string `json:"socket_id"`
			ActivityTimeout int    `json:"activity_timeout"`
		}
		if err := json.Unmarshal([]byte(encoded), &est); err != nil {
			t.Fatalf("data %q: %v", encoded, err)
		}
		if est.SocketID == "" || est.ActivityTimeout <= 0 {
			t.Errorf("connection_established %+v, want a socket id and an activity timeout", est)
		}

		// The connection shows on /metrics.
		eventually(t, func() error {
			if r := s.do(t, http.MethodGet, "/metrics"); !strings.Contains(r.body, "\nswitchboard_connections 1\n") {
				return fmt.Errorf("metrics do not count the open connection:\n%s", r.body)
			}
			return nil
		})
	})

	t.Run("an unknown app key is refused with 4001", func(t *testing.T) {
		s := newStack(t)
		ws := s.dial(t, "/app/no-such-key?protocol=7")
		f := readFrame(t, ws)
		var e struct {
			Code int `json:"code"`
		}
		if err := json.Unmarshal(f.Data, &e); err != nil {
			t.Fatalf("data %s: %v", f.Data, err)
		}
		if f.Event != "pusher:error" || e.Code != 4001 {
			t.Fatalf("got %s %s, want pusher:error with code 4001", f.Event, f.Data)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		_, _, err := ws.Read(ctx)
		if got := websocket.CloseStatus(err); got != 4001 {
			t.Errorf("closed with %v (err %v), want 4001", got, err)
		}
	})
}

// fakeAuth marks what it serves and what it protects.
type fakeAuth struct{}

func (fakeAuth) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "sign-in") })
}

func (fakeAuth) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Protected", "yes")
		next.ServeHTTP(w, r)
	})
}

// TestSignInRoutes checks sign-in is mounted at /auth/ and guards the API
// and both Pusher authorization endpoints, and nothing else.
func TestSignInRoutes(t *testing.T) {
	apps, err := hub.NewStaticApps(testApp)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Apps: apps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Shutdown(context.Background()) })
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "endpoint") })
	srv := httptest.NewServer(server.New(server.Options{
		Hub: h, Apps: apps, Auth: fakeAuth{}, API: ok, PusherAuth: ok, PusherUserAuth: ok,
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		path, body string
		protected  bool
	}{
		{"/auth/session", "sign-in", false},
		{"/api/v1/me", "endpoint", true},
		{"/pusher/auth", "endpoint", true},
		{"/pusher/user-auth", "endpoint", true},
		{"/healthz", `{"status":"ok"}` + "\n", false},
	} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != tc.body || (res.Header.Get("X-Protected") == "yes") != tc.protected {
			t.Errorf("%s: %q, protected %q; want %q, protected %v", tc.path, body, res.Header.Get("X-Protected"), tc.body, tc.protected)
		}
	}
}
