package rediscluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/hub/webhook"
)

var testApp = hub.App{ID: "app-1", Key: "key-1", Secret: "secret-1-long", Enabled: true, ClientEvents: true,
	MaxPresenceMembers: 100, MaxUserInfoBytes: 1024, MaxEventBytes: 10240, ClientEventRate: 100}

// redisURL is the shared Redis the tests use, each with its own prefix.
func redisURL() string {
	if u := os.Getenv("SWITCHBOARD_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// testRedis connects to the shared Redis, or skips the test loudly when it
// is unreachable — unless REQUIRE_SERVICES=1, when it fails.
func testRedis(t testing.TB, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		if os.Getenv("REQUIRE_SERVICES") == "1" {
			t.Fatalf("Redis at %s is required (REQUIRE_SERVICES=1) but unreachable: %v", url, err)
		}
		t.Skipf("SKIPPING: Redis at %s is unreachable (%v); set REQUIRE_SERVICES=1 to make this a failure", url, err)
	}
	return rdb
}

// testPrefix returns a key prefix of the test's own and deletes its keys
// at the end.
func testPrefix(t testing.TB, rdb *redis.Client) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "sbtest-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// replica is one hub of a test cluster behind a loopback HTTP server.
type replica struct {
	hub     *hub.Hub
	cluster *Cluster
	rdb     *redis.Client
	srv     *httptest.Server
	hooks   *webhook.Dispatcher
}

type clusterOpts struct {
	url       string
	prefix    string
	heartbeat time.Duration
	timeout   time.Duration
	webhooks  string // URL receiving the app's webhooks
}

// newReplica starts a replica; it is shut down gracefully at the end of
// the test unless the test killed it.
func newReplica(t testing.TB, o clusterOpts) *replica {
	t.Helper()
	opt, err := redis.ParseURL(o.url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaxRetries = 1
	opt.DialTimeout = 500 * time.Millisecond
	rdb := redis.NewClient(opt)
	var log *slog.Logger
	if os.Getenv("SWITCHBOARD_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cl, err := New(Options{Client: rdb, Prefix: o.prefix, Heartbeat: o.heartbeat, NodeTimeout: o.timeout, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	app := testApp
	var hooks *webhook.Dispatcher
	if o.webhooks != "" {
		app.Webhooks = []hub.Webhook{{URL: o.webhooks}}
		hooks = webhook.New(webhook.Options{BatchInterval: time.Millisecond})
	}
	apps, err := hub.NewStaticApps(app)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Apps: apps, Broker: cl, Webhooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{hub: h, cluster: cl, rdb: rdb, srv: httptest.NewServer(h), hooks: hooks}
	t.Cleanup(r.stop)
	return r
}

var stopped sync.Map // replicas already stopped

// stop shuts the replica down gracefully.
func (r *replica) stop() {
	if _, done := stopped.LoadOrStore(r, true); done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.hub.Shutdown(ctx)
	r.srv.Close()
	if r.hooks != nil {
		_ = r.hooks.Close(ctx)
	}
	r.rdb.Close()
}

// kill stops the replica the way SIGKILL would, as far as the cluster can
// tell: its Redis connection goes first, so it says no goodbye.
func (r *replica) kill() {
	if _, done := stopped.LoadOrStore(r, true); done {
		return
	}
	r.rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = r.hub.Shutdown(ctx)
	r.srv.Close()
	if r.hooks != nil {
		_ = r.hooks.Close(ctx)
	}
}

// frame is a decoded server message.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	UserID  string          `json:"user_id"`
}

func (f frame) decode(t testing.TB, v any) {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		t.Fatalf("%s: data %s is not a JSON string: %v", f.Event, f.Data, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%s: data: %v", f.Event, err)
	}
}

// client is a raw Pusher protocol client.
type client struct {
	t        testing.TB
	ws       *websocket.Conn
	socketID string
	frames   chan frame
	closed   chan error
}

func (r *replica) connect(t testing.TB) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/app/" + testApp.Key + "?protocol=7&client=test&version=1.0"
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
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
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		ws.CloseNow()
	})
	f := c.expect("pusher:connection_established")
	var d struct {
		SocketID string `json:"socket_id"`
	}
	f.decode(t, &d)
	c.socketID = d.SocketID
	return c
}

func (c *client) sendJSON(event, channel string, data any) {
	c.t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "channel": channel, "data": data})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) next(within time.Duration) frame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatalf("connection closed: %v", <-c.closed)
		}
		return f
	case <-time.After(within):
		c.t.Fatalf("no frame within %v", within)
	}
	return frame{}
}

func (c *client) expect(event string) frame {
	c.t.Helper()
	return c.expectWithin(event, 5*time.Second)
}

func (c *client) expectWithin(event string, within time.Duration) frame {
	c.t.Helper()
	f := c.next(within)
	if f.Event != event {
		c.t.Fatalf("got %s %s (data %s), want %s", f.Event, f.Channel, f.Data, event)
	}
	return f
}

// expectNone checks that nothing is queued for the client: the pong to a
// ping comes after anything queued before it.
func (c *client) expectNone() {
	c.t.Helper()
	c.sendJSON("pusher:ping", "", map[string]any{})
	if f := c.next(5 * time.Second); f.Event != "pusher:pong" {
		c.t.Fatalf("got unexpected %s %s (data %s)", f.Event, f.Channel, f.Data)
	}
}

func (c *client) expectClose(code int) {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue
			}
			err := <-c.closed
			var ce websocket.CloseError
			if !errors.As(err, &ce) || int(ce.Code) != code {
				c.t.Fatalf("closed with %v, want code %d", err, code)
			}
			return
		case <-timeout:
			c.t.Fatalf("not closed within 10s")
		}
	}
}

// subscribe subscribes, signing when the channel needs it, and returns
// subscription_succeeded.
func (c *client) subscribe(channel, channelData string) frame {
	c.t.Helper()
	d := map[string]any{"channel": channel}
	if strings.HasPrefix(channel, "private-") || strings.HasPrefix(channel, "presence-") {
		msg := c.socketID + ":" + channel
		if channelData != "" {
			msg += ":" + channelData
			d["channel_data"] = channelData
		}
		d["auth"] = testApp.Key + ":" + hub.Sign(testApp.Secret, msg)
	}
	c.sendJSON("pusher:subscribe", "", d)
	return c.expect("pusher_internal:subscription_succeeded")
}

// join subscribes to a presence channel as user and returns the member
// ids it was told about.
func (c *client) join(channel, user string) []string {
	c.t.Helper()
	f := c.subscribe(channel, fmt.Sprintf(`{"user_id":%q,"user_info":{"name":%q}}`, user, "N "+user))
	var d struct {
		Presence struct {
			IDs   []string                   `json:"ids"`
			Hash  map[string]json.RawMessage `json:"hash"`
			Count int                        `json:"count"`
		} `json:"presence"`
	}
	f.decode(c.t, &d)
	if d.Presence.Count != len(d.Presence.IDs) || len(d.Presence.Hash) != len(d.Presence.IDs) {
		c.t.Fatalf("inconsistent presence data %s", f.Data)
	}
	return d.Presence.IDs
}

func (c *client) signin(user string) {
	c.t.Helper()
	userData := fmt.Sprintf(`{"id":%q}`, user)
	c.sendJSON("pusher:signin", "", map[string]any{
		"auth":      testApp.Key + ":" + hub.Sign(testApp.Secret, c.socketID+"::user::"+userData),
		"user_data": userData,
	})
	c.expect("pusher:signin_success")
}

// memberEvent returns the user id of a member_added/removed frame.
func memberEvent(t testing.TB, f frame) string {
	var d struct {
		UserID string `json:"user_id"`
	}
	f.decode(t, &d)
	return d.UserID
}

func publish(t testing.TB, r *replica, channel, event, data string) {
	t.Helper()
	app := testApp
	if err := r.hub.Publish(context.Background(), &app, hub.Event{Name: event, Channels: []string{channel}, Data: data}); err != nil {
		t.Fatal(err)
	}
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
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMain(m *testing.M) {
	LogTo(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// waitMembers waits until the cluster's member list of a presence channel
// is users: joins reach Redis asynchronously, so a test that wants a later
// subscriber to see them in its member list waits for them first.
func waitMembers(t testing.TB, r *replica, channel string, users ...string) {
	t.Helper()
	slices.Sort(users)
	eventually(t, 5*time.Second, func() error {
		got, err := r.hub.PresenceUsers(context.Background(), &testApp, channel)
		if err != nil {
			return err
		}
		if !slices.Equal(got, users) {
			return fmt.Errorf("members %v, want %v", got, users)
		}
		return nil
	})
}

func (c *client) signinWatching(user string, watchlist ...string) {
	c.t.Helper()
	b, _ := json.Marshal(map[string]any{"id": user, "watchlist": watchlist})
	userData := string(b)
	c.sendJSON("pusher:signin", "", map[string]any{
		"auth":      testApp.Key + ":" + hub.Sign(testApp.Secret, c.socketID+"::user::"+userData),
		"user_data": userData,
	})
	c.expect("pusher:signin_success")
}
