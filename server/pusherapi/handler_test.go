package pusherapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub"
)

// Test apps. Ids are numeric because that is what Pusher issues and what
// pusher-http-go's ClientFromURL insists on.
var (
	appOn  = hub.App{ID: "1001", Key: "key-1001", Secret: "secret-1001-abcdef", Enabled: true}
	appOff = hub.App{ID: "1002", Key: "key-1002", Secret: "secret-1002-abcdef", Enabled: false}
	// appSmall has a small event limit so limit tests stay readable.
	appSmall = hub.App{ID: "1003", Key: "key-1003", Secret: "secret-1003-abcdef", Enabled: true, MaxEventBytes: 100}
)

// fakeHub records what the API asks of the hub and answers from canned
// channel state.
type fakeHub struct {
	mu         sync.Mutex
	published  []hub.Event
	channels   map[string]hub.ChannelInfo // occupied channels by name
	users      map[string][]string        // presence members by channel
	terminated []string
	err        error // returned by every method when set
}

func newFakeHub() *fakeHub {
	return &fakeHub{channels: make(map[string]hub.ChannelInfo), users: make(map[string][]string)}
}

func (f *fakeHub) Publish(_ context.Context, _ *hub.App, ev hub.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.published = append(f.published, ev)
	return nil
}

func (f *fakeHub) Channels(_ context.Context, _ *hub.App, prefix string) ([]hub.ChannelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var out []hub.ChannelInfo
	for name, ci := range f.channels {
		if strings.HasPrefix(name, prefix) && ci.Occupied {
			out = append(out, ci)
		}
	}
	return out, nil
}

func (f *fakeHub) Channel(_ context.Context, _ *hub.App, name string) (hub.ChannelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return hub.ChannelInfo{}, f.err
	}
	if ci, ok := f.channels[name]; ok {
		return ci, nil
	}
	return hub.ChannelInfo{Name: name}, nil
}

func (f *fakeHub) PresenceUsers(_ context.Context, _ *hub.App, channel string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.users[channel]), nil
}

func (f *fakeHub) TerminateUserConnections(_ context.Context, _ *hub.App, userID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.terminated = append(f.terminated, userID)
	return nil
}

func (f *fakeHub) setChannel(ci hub.ChannelInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[ci.Name] = ci
}

func (f *fakeHub) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeHub) events() []hub.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.published)
}

// testEnv is the API handler on a fake hub behind a real HTTP server.
type testEnv struct {
	srv *httptest.Server
	hub *fakeHub
	now func() time.Time
}

// newEnv starts the handler for appOn, appOff and appSmall. opts.Now, when
// set, is also the clock hand-signed requests use.
func newEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	apps, err := hub.NewStaticApps(appOn, appOff, appSmall)
	if err != nil {
		t.Fatalf("NewStaticApps: %v", err)
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	e := &testEnv{hub: newFakeHub(), now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	e.srv = httptest.NewServer(New(e.hub, apps, opts))
	t.Cleanup(e.srv.Close)
	return e
}

// testLogger logs to the test's output at debug level, so rejected requests
// explain themselves when a test fails.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// client returns pusher-http-go, the reference client, configured for app
// against this server.
func (e *testEnv) client(app hub.App) *pusher.Client {
	u, _ := url.Parse(e.srv.URL)
	return &pusher.Client{AppID: app.ID, Key: app.Key, Secret: app.Secret, Host: u.Host, Secure: false, HTTPClient: e.srv.Client()}
}

// do sends a request hand-signed for app at the env's clock and returns the
// status and body.
func (e *testEnv) do(t testing.TB, method, path string, extra url.Values, body []byte, app hub.App) (int, []byte) {
	t.Helper()
	params := authParams(app, e.now(), body)
	for k, vs := range extra {
		params[k] = vs
	}
	// Libraries sign the path before escaping it; the server checks the
	// decoded path.
	decoded, err := url.PathUnescape(path)
	if err != nil {
		t.Fatalf("bad test path %q: %v", path, err)
	}
	sign(method, decoded, params, app.Secret)
	return e.raw(t, method, path+"?"+params.Encode(), body)
}

// raw sends a request exactly as given.
func (e *testEnv) raw(t testing.TB, method, pathAndQuery string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+pathAndQuery, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, pathAndQuery, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, pathAndQuery, ct)
	}
	return resp.StatusCode, b
}

// authParams are the auth parameters a Pusher library adds, before signing.
func authParams(app hub.App, ts time.Time, body []byte) url.Values {
	p := url.Values{
		"auth_key":       {app.Key},
		"auth_timestamp": {strconv.FormatInt(ts.Unix(), 10)},
		"auth_version":   {"1.0"},
	}
	if len(body) > 0 {
		sum := md5.Sum(body)
		p.Set("body_md5", hex.EncodeToString(sum[:]))
	}
	return p
}

// sign adds auth_signature to params, computed the way Pusher's reference
// describes, written out independently of the code under test.
func sign(method, path string, params url.Values, secret string) {
	lower := make(map[string]string)
	for k, vs := range params {
		lower[strings.ToLower(k)] = vs[0]
	}
	keys := make([]string, 0, len(lower))
	for k := range lower {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + lower[k]
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + "\n" + path + "\n" + strings.Join(pairs, "&")))
	params.Set("auth_signature", hex.EncodeToString(mac.Sum(nil)))
}

// wantError checks an error reply's status and that its JSON body is
// {"error": "..."} mentioning want.
func wantError(t testing.TB, gotStatus int, body []byte, wantStatus int, want string) {
	t.Helper()
	if gotStatus != wantStatus {
		t.Errorf("status %d, want %d (body %s)", gotStatus, wantStatus, body)
	}
	var reply map[string]any
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	msg, ok := reply["error"].(string)
	if !ok || len(reply) != 1 {
		t.Fatalf("error body %s, want exactly {\"error\": string}", body)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not mention %q", msg, want)
	}
}

// wantJSON checks a 200 reply's body equals want as JSON.
func wantJSON(t testing.TB, gotStatus int, body []byte, want string) {
	t.Helper()
	if gotStatus != http.StatusOK {
		t.Fatalf("status %d, want 200 (body %s)", gotStatus, body)
	}
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if !bytes.Equal(gb, eb) {
		t.Errorf("body %s, want %s", gb, eb)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name, method, path string
		status             int
		want               string
	}{
		{"unknown path", "GET", "/nope", 404, "not found"},
		{"unknown path under app", "GET", "/apps/1001/bogus", 404, "not found"},
		{"too deep", "GET", "/apps/1001/channels/a/b/c", 404, "not found"},
		{"events wants POST", "GET", "/apps/1001/events", 405, "not allowed"},
		{"batch wants POST", "PUT", "/apps/1001/batch_events", 405, "not allowed"},
		{"channels wants GET", "POST", "/apps/1001/channels", 405, "not allowed"},
		{"channel wants GET", "DELETE", "/apps/1001/channels/foo", 405, "not allowed"},
		{"users wants GET", "POST", "/apps/1001/channels/presence-a/users", 405, "not allowed"},
		{"terminate wants POST", "GET", "/apps/1001/users/7/terminate_connections", 405, "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, tc.method, tc.path, nil, nil, appOn)
			wantError(t, status, body, tc.status, tc.want)
		})
	}
}

func TestMethodNotAllowedNamesAllowedMethod(t *testing.T) {
	e := newEnv(t, Options{})
	resp, err := e.srv.Client().Get(e.srv.URL + "/apps/1001/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Allow"); got != "POST" {
		t.Errorf("Allow %q, want POST", got)
	}
}

func TestCommonRefusals(t *testing.T) {
	e := newEnv(t, Options{})
	event := []byte(`{"name":"e","channel":"c","data":"x"}`)
	// Every endpoint goes through the same gate; check each refusal on each.
	endpoints := []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/apps/%s/events", event},
		{"POST", "/apps/%s/batch_events", []byte(`{"batch":[{"name":"e","channel":"c","data":"x"}]}`)},
		{"GET", "/apps/%s/channels", nil},
		{"GET", "/apps/%s/channels/foo", nil},
		{"GET", "/apps/%s/channels/presence-foo/users", nil},
		{"POST", "/apps/%s/users/7/terminate_connections", nil},
	}
	for _, ep := range endpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			path := func(id string) string { return strings.Replace(ep.path, "%s", id, 1) }

			status, body := e.do(t, ep.method, path("9999"), nil, ep.body, hub.App{ID: "9999", Key: "k", Secret: "whatever-secret"})
			wantError(t, status, body, 404, "unknown app")

			status, body = e.do(t, ep.method, path(appOff.ID), nil, ep.body, appOff)
			wantError(t, status, body, 403, "disabled")

			wrong := appOn
			wrong.Secret = "not-the-secret"
			status, body = e.do(t, ep.method, path(appOn.ID), nil, ep.body, wrong)
			wantError(t, status, body, 401, "auth_signature")

			status, body = e.raw(t, ep.method, path(appOn.ID), ep.body)
			wantError(t, status, body, 401, "missing auth parameter")

			// A disabled app's signature is still checked first, so an
			// unauthenticated caller learns nothing about the app.
			wrongOff := appOff
			wrongOff.Secret = "not-the-secret"
			status, body = e.do(t, ep.method, path(appOff.ID), nil, ep.body, wrongOff)
			wantError(t, status, body, 401, "auth_signature")
		})
	}
	if n := len(e.hub.events()); n != 0 {
		t.Errorf("refused requests published %d events", n)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 64})
	small := []byte(`{"name":"e","channel":"c","data":"x"}`)
	status, body := e.do(t, "POST", "/apps/1001/events", nil, small, appOn)
	wantJSON(t, status, body, `{}`)

	big := []byte(`{"name":"e","channel":"c","data":"` + strings.Repeat("x", 64) + `"}`)
	status, body = e.do(t, "POST", "/apps/1001/events", nil, big, appOn)
	wantError(t, status, body, 413, "larger than 64 bytes")
}

func TestDefaultBodyLimit(t *testing.T) {
	e := newEnv(t, Options{})
	big := bytes.Repeat([]byte(" "), DefaultMaxBodyBytes+1)
	status, body := e.do(t, "POST", "/apps/1001/events", nil, big, appOn)
	wantError(t, status, body, 413, "larger than")
}

func TestHubFailureIs500WithoutDetail(t *testing.T) {
	e := newEnv(t, Options{})
	e.hub.setErr(errors.New("redis: connection refused at 10.0.0.7"))
	status, body := e.do(t, "POST", "/apps/1001/events", nil, []byte(`{"name":"e","channel":"c","data":"x"}`), appOn)
	wantError(t, status, body, 500, "internal server error")
	if bytes.Contains(body, []byte("redis")) {
		t.Errorf("500 body leaks the cause: %s", body)
	}
}

func TestInjectedClock(t *testing.T) {
	// A server whose clock is an hour ahead refuses what pusher-http-go
	// signs now: the clock really is the injected one.
	e := newEnv(t, Options{Now: func() time.Time { return time.Now().Add(time.Hour) }})
	err := e.client(appOn).Trigger("c", "e", "x")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Trigger with a skewed server clock: %v, want a 401", err)
	}
}
