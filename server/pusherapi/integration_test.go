package pusherapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub"
)

// The real hub must satisfy the interface this package declares.
var _ Hub = (*hub.Hub)(nil)

// stack is the real hub and the API handler on one server, routed the way
// Switchboard's main routes them: /app/ to the hub, /apps/ to the API.
type stack struct {
	srv *httptest.Server
}

func newStack(t testing.TB) *stack {
	t.Helper()
	before := runtime.NumGoroutine()
	apps, err := hub.NewStaticApps(appOn, appOff)
	if err != nil {
		t.Fatalf("NewStaticApps: %v", err)
	}
	log := testLogger(t)
	h, err := hub.New(hub.Options{Apps: apps, Logger: log})
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/app/", h)
	mux.Handle("/apps/", New(h, apps, Options{Logger: log}))
	s := &stack{srv: httptest.NewServer(mux)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		s.srv.Close()
		eventually(t, func() error {
			if n := runtime.NumGoroutine(); n > before {
				return fmt.Errorf("%d goroutines running, %d before the test", n, before)
			}
			return nil
		})
	})
	return s
}

// client returns pusher-http-go for appOn against the stack.
func (s *stack) client() *pusher.Client {
	u, _ := url.Parse(s.srv.URL)
	return &pusher.Client{AppID: appOn.ID, Key: appOn.Key, Secret: appOn.Secret, Host: u.Host, HTTPClient: s.srv.Client()}
}

// eventually polls f until it returns nil, failing after a generous bound.
// Tests wait on state this way, never by sleeping a guessed duration.
func eventually(t testing.TB, f func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// frame is one message from the server.
type frame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// dataString returns data that the protocol sends as a JSON string.
func (f frame) dataString(t testing.TB) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Data, &s); err != nil {
		t.Fatalf("%s data %s is not a JSON string: %v", f.Event, f.Data, err)
	}
	return s
}

// wsClient is a minimal Pusher websocket client.
type wsClient struct {
	t        testing.TB
	ws       *websocket.Conn
	socketID string
	frames   chan frame
	readErr  chan error // the error that ended reading, once
}

// connect opens a websocket to the stack as pusher-js would and waits for
// connection_established.
func (s *stack) connect(t testing.TB) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/app/" + appOn.Key + "?protocol=7&client=js&version=8.4.0"
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: t, ws: ws, frames: make(chan frame, 64), readErr: make(chan error, 1)}
	stop := make(chan struct{})
	go c.read(stop)
	t.Cleanup(func() {
		close(stop)
		ws.CloseNow()
	})
	f := c.expect(t, "pusher:connection_established", "")
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(f.dataString(t)), &d); err != nil || d.SocketID == "" {
		t.Fatalf("connection_established data %s: %v", f.Data, err)
	}
	c.socketID = d.SocketID
	return c
}

func (c *wsClient) read(stop <-chan struct{}) {
	defer close(c.frames)
	for {
		_, msg, err := c.ws.Read(context.Background())
		if err != nil {
			c.readErr <- err
			return
		}
		var f frame
		if err := json.Unmarshal(msg, &f); err != nil {
			c.t.Errorf("server sent invalid JSON %q: %v", msg, err)
			continue
		}
		select {
		case c.frames <- f:
		case <-stop:
			return
		}
	}
}

// next returns the next frame. The bound only stops a broken test from
// hanging; no assertion depends on it.
func (c *wsClient) next(t testing.TB) frame {
	t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			t.Fatalf("socket %s closed: %v", c.socketID, <-c.readErr)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatalf("socket %s: no message", c.socketID)
	}
	return frame{}
}

// expect returns the next frame, failing unless it is event on channel.
func (c *wsClient) expect(t testing.TB, event, channel string) frame {
	t.Helper()
	f := c.next(t)
	if f.Event != event || f.Channel != channel {
		t.Fatalf("socket %s got %s on %q (data %s), want %s on %q", c.socketID, f.Event, f.Channel, f.Data, event, channel)
	}
	return f
}

// send writes one protocol message.
func (c *wsClient) send(t testing.TB, event string, data any) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event": event, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// subscribe joins a public channel.
func (c *wsClient) subscribe(t testing.TB, channel string) {
	t.Helper()
	c.send(t, "pusher:subscribe", map[string]string{"channel": channel})
	c.expect(t, "pusher_internal:subscription_succeeded", channel)
}

// joinPresence joins a presence channel as userID, authorized the way an
// app server does it with pusher-http-go.
func (c *wsClient) joinPresence(t testing.TB, api *pusher.Client, channel, userID string) {
	t.Helper()
	params := url.Values{"socket_id": {c.socketID}, "channel_name": {channel}}
	resp, err := api.AuthorizePresenceChannel([]byte(params.Encode()), pusher.MemberData{UserID: userID, UserInfo: map[string]string{"name": "user " + userID}})
	if err != nil {
		t.Fatalf("AuthorizePresenceChannel: %v", err)
	}
	var auth struct {
		Auth        string `json:"auth"`
		ChannelData string `json:"channel_data"`
	}
	if err := json.Unmarshal(resp, &auth); err != nil {
		t.Fatal(err)
	}
	c.send(t, "pusher:subscribe", map[string]string{"channel": channel, "auth": auth.Auth, "channel_data": auth.ChannelData})
	c.expect(t, "pusher_internal:subscription_succeeded", channel)
}

// signIn signs the connection in as userID, with pusher-http-go's user auth.
func (c *wsClient) signIn(t testing.TB, api *pusher.Client, userID string) {
	t.Helper()
	resp, err := api.AuthenticateUser([]byte("socket_id="+c.socketID), map[string]any{"id": userID})
	if err != nil {
		t.Fatalf("AuthenticateUser: %v", err)
	}
	var auth struct {
		Auth     string `json:"auth"`
		UserData string `json:"user_data"`
	}
	if err := json.Unmarshal(resp, &auth); err != nil {
		t.Fatal(err)
	}
	c.send(t, "pusher:signin", map[string]string{"auth": auth.Auth, "user_data": auth.UserData})
	c.expect(t, "pusher:signin_success", "")
	// The hub queues signin_success before it indexes the user, so an API
	// call made on seeing it can miss this connection (reported as a hub
	// bug). The hub reads a connection's messages in order: once a ping
	// sent now is answered, the sign-in has been fully handled.
	c.send(t, "pusher:ping", map[string]string{})
	c.expect(t, "pusher:pong", "")
}

// closeCode waits for the server to close the socket and returns the
// websocket close code.
func (c *wsClient) closeCode(t testing.TB) websocket.StatusCode {
	t.Helper()
	for {
		select {
		case _, ok := <-c.frames:
			if ok {
				continue // a pusher:error may precede the close
			}
			return websocket.CloseStatus(<-c.readErr)
		case <-time.After(5 * time.Second):
			t.Fatalf("socket %s was not closed", c.socketID)
		}
	}
}

func TestIntegrationTriggerDelivers(t *testing.T) {
	s := newStack(t)
	api := s.client()
	a, b := s.connect(t), s.connect(t)
	a.subscribe(t, "news")
	b.subscribe(t, "news")

	if err := api.Trigger("news", "story", map[string]string{"headline": "hi"}); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	for _, c := range []*wsClient{a, b} {
		f := c.expect(t, "story", "news")
		if got := f.dataString(t); got != `{"headline":"hi"}` {
			t.Errorf("data %q, want the JSON the server library sent", got)
		}
	}

	if _, err := api.TriggerBatch([]pusher.Event{
		{Channel: "news", Name: "first", Data: "1"},
		{Channel: "other", Name: "nobody", Data: "2"},
		{Channel: "news", Name: "second", Data: "3"},
	}); err != nil {
		t.Fatalf("TriggerBatch: %v", err)
	}
	for _, c := range []*wsClient{a, b} {
		c.expect(t, "first", "news")
		c.expect(t, "second", "news")
	}
}

func TestIntegrationTriggerExclusiveSkipsSocket(t *testing.T) {
	s := newStack(t)
	api := s.client()
	sender, other := s.connect(t), s.connect(t)
	sender.subscribe(t, "news")
	other.subscribe(t, "news")

	if err := api.TriggerExclusive("news", "echo", "x", sender.socketID); err != nil {
		t.Fatalf("TriggerExclusive: %v", err)
	}
	if err := api.Trigger("news", "marker", "y"); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	// Events reach a socket in publish order, so the excluded socket seeing
	// the marker first proves it never got the excluded event.
	sender.expect(t, "marker", "news")
	other.expect(t, "echo", "news")
	other.expect(t, "marker", "news")
}

func TestIntegrationChannelQueries(t *testing.T) {
	s := newStack(t)
	api := s.client()
	tab1, tab2, bob, reader := s.connect(t), s.connect(t), s.connect(t), s.connect(t)
	tab1.joinPresence(t, api, "presence-room", "7")
	tab2.joinPresence(t, api, "presence-room", "7") // the same user in a second tab
	bob.joinPresence(t, api, "presence-room", "9")
	reader.subscribe(t, "news")

	all, err := api.Channels(pusher.ChannelsParams{})
	if err != nil {
		t.Fatalf("Channels: %v", err)
	}
	if want := map[string]pusher.ChannelListItem{"presence-room": {}, "news": {}}; !mapsEqual(all.Channels, want) {
		t.Errorf("Channels() = %s, want %s", dump(all.Channels), dump(want))
	}

	presence, err := api.Channels(pusher.ChannelsParams{FilterByPrefix: ptr("presence-"), Info: ptr("user_count")})
	if err != nil {
		t.Fatalf("Channels(presence-): %v", err)
	}
	if want := map[string]pusher.ChannelListItem{"presence-room": {UserCount: 2}}; !mapsEqual(presence.Channels, want) {
		t.Errorf("Channels(presence-, user_count) = %s, want %s", dump(presence.Channels), dump(want))
	}

	room, err := api.Channel("presence-room", pusher.ChannelParams{Info: ptr("user_count,subscription_count")})
	if err != nil {
		t.Fatalf("Channel: %v", err)
	}
	if want := (pusher.Channel{Name: "presence-room", Occupied: true, UserCount: 2, SubscriptionCount: 3}); *room != want {
		t.Errorf("Channel(presence-room) = %+v, want %+v", *room, want)
	}

	empty, err := api.Channel("nobody-here", pusher.ChannelParams{Info: ptr("subscription_count")})
	if err != nil {
		t.Fatalf("Channel(nobody-here): %v", err)
	}
	if empty.Occupied || empty.SubscriptionCount != 0 {
		t.Errorf("Channel(nobody-here) = %+v, want unoccupied", *empty)
	}

	users, err := api.GetChannelUsers("presence-room")
	if err != nil {
		t.Fatalf("GetChannelUsers: %v", err)
	}
	if got := userIDs(users); !slices.Equal(got, []string{"7", "9"}) {
		t.Errorf("GetChannelUsers = %v, want [7 9]", got)
	}

	info, err := api.TriggerMultiWithParams([]string{"presence-room", "news"}, "e", "d", pusher.TriggerParams{Info: ptr("user_count,subscription_count")})
	if err != nil {
		t.Fatalf("TriggerMultiWithParams: %v", err)
	}
	want := map[string]pusher.TriggerChannelListItem{
		"presence-room": {UserCount: ptr(2), SubscriptionCount: ptr(3)},
		"news":          {SubscriptionCount: ptr(1)},
	}
	if !mapsEqual(info.Channels, want) {
		t.Errorf("trigger info = %s, want %s", dump(info.Channels), dump(want))
	}

	// Closing one of user 7's tabs leaves the user present; closing bob
	// removes him. Departures are asynchronous, so poll.
	tab2.ws.CloseNow()
	bob.ws.CloseNow()
	eventually(t, func() error {
		users, err := api.GetChannelUsers("presence-room")
		if err != nil {
			return err
		}
		room, err := api.Channel("presence-room", pusher.ChannelParams{Info: ptr("user_count,subscription_count")})
		if err != nil {
			return err
		}
		if got := userIDs(users); !slices.Equal(got, []string{"7"}) || room.UserCount != 1 || room.SubscriptionCount != 1 {
			return fmt.Errorf("users %v, channel %+v; want [7], 1 user, 1 subscription", got, *room)
		}
		return nil
	})

	reader.ws.CloseNow()
	eventually(t, func() error {
		all, err := api.Channels(pusher.ChannelsParams{})
		if err != nil {
			return err
		}
		if _, ok := all.Channels["news"]; ok {
			return fmt.Errorf("news still listed after its last subscriber left: %s", dump(all.Channels))
		}
		return nil
	})
}

func TestIntegrationCacheChannel(t *testing.T) {
	s := newStack(t)
	api := s.client()
	if err := api.Trigger("cache-quotes", "quote", `{"p":1}`); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	e := &testEnv{srv: s.srv, now: time.Now}
	status, body := e.do(t, "GET", "/apps/1001/channels/cache-quotes", url.Values{"info": {"cache"}}, nil, appOn)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var reply struct {
		Occupied bool `json:"occupied"`
		Cache    *struct {
			Data string `json:"data"`
			TTL  int    `json:"ttl"`
		} `json:"cache"`
	}
	if err := json.Unmarshal(body, &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Occupied || reply.Cache == nil || reply.Cache.Data != `{"p":1}` {
		t.Fatalf("reply %s, want unoccupied with the cached data", body)
	}
	if limit := int(hub.CacheTTL / time.Second); reply.Cache.TTL < 1 || reply.Cache.TTL > limit {
		t.Errorf("ttl %d, want 1..%d", reply.Cache.TTL, limit)
	}

	// A subscriber now gets the cached event straight after succeeding.
	c := s.connect(t)
	c.subscribe(t, "cache-quotes")
	if got := c.expect(t, "quote", "cache-quotes").dataString(t); got != `{"p":1}` {
		t.Errorf("cached data %q", got)
	}
}

func TestIntegrationUsers(t *testing.T) {
	s := newStack(t)
	api := s.client()
	ann1, ann2, bob := s.connect(t), s.connect(t), s.connect(t)
	ann1.signIn(t, api, "7")
	ann2.signIn(t, api, "7")
	bob.signIn(t, api, "9")
	bob.subscribe(t, "news")

	// Events to #server-to-user-{id} reach that user's connections only.
	if err := api.SendToUser("9", "dm", "hello"); err != nil {
		t.Fatalf("SendToUser: %v", err)
	}
	if got := bob.expect(t, "dm", "#server-to-user-9").dataString(t); got != "hello" {
		t.Errorf("dm data %q", got)
	}

	e := &testEnv{srv: s.srv, now: time.Now}
	status, body := e.do(t, "POST", "/apps/1001/users/7/terminate_connections", nil, nil, appOn)
	wantJSON(t, status, body, `{}`)
	for _, c := range []*wsClient{ann1, ann2} {
		if code := c.closeCode(t); code != 4009 {
			t.Errorf("user 7's socket closed with %d, want 4009", code)
		}
	}

	// Bob is untouched.
	if err := api.Trigger("news", "still-here", "x"); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	bob.expect(t, "still-here", "news")
}

func userIDs(u *pusher.Users) []string {
	ids := make([]string, 0, len(u.List))
	for _, x := range u.List {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	return ids
}

func mapsEqual[K comparable, V any](a, b map[K]V) bool {
	return dump(a) == dump(b) // json.Marshal sorts map keys and follows pointers
}
