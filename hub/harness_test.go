package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// testApp is the app most tests connect to.
var testApp = App{ID: "app-1", Key: "key-1", Secret: "secret-1-long", Enabled: true, ClientEvents: true}

// testServer is a hub behind a real HTTP server on a loopback port.
type testServer struct {
	hub  *Hub
	srv  *httptest.Server
	apps *StaticApps
}

// newTestServer starts a hub serving apps (testApp when none are given)
// and shuts it down at the end of the test, checking for leaked goroutines.
func newTestServer(t testing.TB, opts Options, apps ...App) *testServer {
	t.Helper()
	before := runtime.NumGoroutine()
	if len(apps) == 0 {
		apps = []App{testApp}
	}
	store, err := NewStaticApps(apps...)
	if err != nil {
		t.Fatal(err)
	}
	opts.Apps = store
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		srv.Close()
		eventually(t, 5*time.Second, func() error {
			if n := runtime.NumGoroutine(); n > before {
				return fmt.Errorf("%d goroutines, %d before the test", n, before)
			}
			return nil
		})
	})
	return &testServer{hub: h, srv: srv, apps: store}
}

// eventually polls f until it returns nil or the deadline passes.
func eventually(t testing.TB, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", within, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// frame is a decoded server message.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	UserID  string          `json:"user_id"`
}

// dataString returns the data of a frame whose data is a JSON string.
func (f frame) dataString(t testing.TB) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		t.Fatalf("%s: data %s is not a JSON string: %v", f.Event, f.Data, err)
	}
	return s
}

// decodeDataString decodes a frame's string data as JSON into v.
func (f frame) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(f.dataString(t)), v); err != nil {
		t.Fatalf("%s: data: %v", f.Event, err)
	}
}

// client is a raw Pusher protocol client.
type client struct {
	t        testing.TB
	ws       *websocket.Conn
	socketID string
	frames   chan frame
	closed   chan error // receives the read error once the socket closes
}

// dial connects to path (e.g. "/app/key-1?protocol=7") without waiting for
// connection_established.
func (s *testServer) dial(t testing.TB, path string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + path
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	ws.SetReadLimit(1 << 20)
	c := &client{t: t, ws: ws, frames: make(chan frame, 1024), closed: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		for {
			_, msg, err := ws.Read(context.Background())
			if err != nil {
				c.closed <- err
				close(c.frames)
				return
			}
			var f frame
			if err := json.Unmarshal(msg, &f); err != nil {
				t.Errorf("server sent invalid JSON %q: %v", msg, err)
				continue
			}
			select {
			case c.frames <- f:
			case <-done: // the test is over and nobody reads this client
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		ws.CloseNow()
	})
	return c
}

// connect dials the app by key and waits for connection_established.
func (s *testServer) connect(t testing.TB, key string) *client {
	t.Helper()
	c := s.dial(t, "/app/"+key+"?protocol=7&client=test&version=1.0")
	f := c.expect(evConnectionEstablished)
	var d struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	f.decode(t, &d)
	c.socketID = d.SocketID
	return c
}

// send writes a raw text message.
func (c *client) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// sendJSON writes {"event":event,"data":data[,"channel":channel]}.
func (c *client) sendJSON(event, channel string, data any) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "channel": channel, "data": data})
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(string(b))
}

// next returns the next frame, failing after a generous deadline.
func (c *client) next() frame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("connection closed: %v", c.closeErr())
		}
		return f
	case <-time.After(5 * time.Second):
		c.t.Fatalf("no frame within 5s")
	}
	return frame{}
}

// expect returns the next frame, which must be event.
func (c *client) expect(event string) frame {
	c.t.Helper()
	f := c.next()
	if f.Event != event {
		c.t.Fatalf("got %s %s (data %s), want %s", f.Event, f.Channel, f.Data, event)
	}
	return f
}

// expectNone checks that no frame arrives while a ping round trip
// completes: the server answers in order, so anything queued before the
// pong would arrive first.
func (c *client) expectNone() {
	c.t.Helper()
	c.sendJSON(evPing, "", map[string]any{})
	f := c.next()
	if f.Event != evPong {
		c.t.Fatalf("got unexpected %s %s (data %s)", f.Event, f.Channel, f.Data)
	}
}

// closeErr waits for the connection to close and returns the read error.
func (c *client) closeErr() error {
	select {
	case err := <-c.closed:
		c.closed <- err
		return err
	case <-time.After(10 * time.Second):
		c.t.Fatalf("connection not closed within 10s")
	}
	return nil
}

// expectClose waits for the server to close with code, skipping frames.
func (c *client) expectClose(code int) {
	c.t.Helper()
	for range c.frames {
	}
	err := c.closeErr()
	var ce websocket.CloseError
	if !errors.As(err, &ce) || int(ce.Code) != code {
		c.t.Fatalf("closed with %v, want code %d", err, code)
	}
}

// expectError returns the data of the next frame, which must be pusher:error.
func (c *client) expectError(code int) string {
	c.t.Helper()
	f := c.expect(evError)
	var d struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		c.t.Fatalf("pusher:error data %s is not an object: %v", f.Data, err)
	}
	if d.Code != code {
		c.t.Fatalf("pusher:error code %d (%s), want %d", d.Code, d.Message, code)
	}
	return d.Message
}

// subscribe subscribes to a channel, signing as app when it needs auth,
// and returns the subscription_succeeded frame.
func (c *client) subscribe(app App, channel, channelData string) frame {
	c.t.Helper()
	c.sendJSON(evSubscribe, "", c.subscribeData(app, channel, channelData))
	return c.expect(evSubscriptionSucceeded)
}

func (c *client) subscribeData(app App, channel, channelData string) map[string]any {
	d := map[string]any{"channel": channel}
	if KindOf(channel).needsAuth() {
		d["auth"] = app.Key + ":" + Sign(app.Secret, channelAuthMessage(c.socketID, channel, channelData))
	}
	if channelData != "" {
		d["channel_data"] = channelData
	}
	return d
}

// signin signs the connection in with userData.
func (c *client) signin(app App, userData string) frame {
	c.t.Helper()
	c.sendJSON(evSignin, "", map[string]any{
		"auth":      app.Key + ":" + Sign(app.Secret, userAuthMessage(c.socketID, userData)),
		"user_data": userData,
	})
	return c.expect(evSigninSuccess)
}

func mustPublish(t testing.TB, h *Hub, app App, ev Event) {
	t.Helper()
	if err := h.Publish(context.Background(), &app, ev); err != nil {
		t.Fatal(err)
	}
}
