package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub/webhook"
)

func TestConnectionEstablished(t *testing.T) {
	s := newTestServer(t, Options{ActivityTimeout: 42 * time.Second})
	c := s.dial(t, "/app/key-1?protocol=7&client=js&version=8.4.0")
	f := c.expect(evConnectionEstablished)
	var d struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	f.decode(t, &d)
	if !regexp.MustCompile(`^\d+\.\d+$`).MatchString(d.SocketID) {
		t.Errorf("socket_id %q does not match \\d+\\.\\d+", d.SocketID)
	}
	if d.ActivityTimeout != 42 {
		t.Errorf("activity_timeout %d, want 42", d.ActivityTimeout)
	}
	other := s.connect(t, "key-1")
	if other.socketID == d.SocketID {
		t.Errorf("two connections share socket id %s", d.SocketID)
	}
}

func TestPingPong(t *testing.T) {
	s := newTestServer(t, Options{})
	c := s.connect(t, "key-1")
	c.send(`{"event":"pusher:ping","data":{}}`)
	c.expect(evPong)
	// Some clients send data as a string.
	c.send(`{"event":"pusher:ping","data":"{}"}`)
	c.expect(evPong)
}

func TestServerPingsIdleClientAndClosesWithoutPong(t *testing.T) {
	s := newTestServer(t, Options{ActivityTimeout: 50 * time.Millisecond, PongTimeout: 50 * time.Millisecond})
	c := s.connect(t, "key-1")
	c.expect(evPing)
	c.send(`{"event":"pusher:pong","data":{}}`)
	c.expect(evPing) // idle again: pinged again, and this time no answer
	if msg := c.expectError(4201); msg == "" {
		t.Error("4201 without a message")
	}
	c.expectClose(4201)
}

func TestPublicChannelDelivery(t *testing.T) {
	s := newTestServer(t, Options{})
	a, b, other := s.connect(t, "key-1"), s.connect(t, "key-1"), s.connect(t, "key-1")
	a.subscribe(testApp, "news", "")
	if f := b.subscribe(testApp, "news", ""); f.dataString(t) != "{}" {
		t.Errorf("subscription_succeeded data %s, want \"{}\"", f.Data)
	}
	other.subscribe(testApp, "sport", "")

	data := `{"text":"héllo <b>&</b>\n"}`
	mustPublish(t, s.hub, testApp, Event{Name: "story", Channels: []string{"news"}, Data: data})
	for _, c := range []*client{a, b} {
		f := c.expect("story")
		if f.Channel != "news" || f.dataString(t) != data {
			t.Errorf("got %s %q, want news %q", f.Channel, f.dataString(t), data)
		}
	}
	other.expectNone()

	// socket_id exclusion
	mustPublish(t, s.hub, testApp, Event{Name: "story", Channels: []string{"news"}, Data: "x", SocketID: a.socketID})
	b.expect("story")
	a.expectNone()

	// after unsubscribe nothing arrives
	a.sendJSON(evUnsubscribe, "", map[string]string{"channel": "news"})
	a.expectNone()
	mustPublish(t, s.hub, testApp, Event{Name: "story", Channels: []string{"news"}, Data: "y"})
	b.expect("story")
	a.expectNone()
}

func TestAppsAreIsolated(t *testing.T) {
	other := App{ID: "app-2", Key: "key-2", Secret: "secret-2-long", Enabled: true}
	s := newTestServer(t, Options{}, testApp, other)
	a, b := s.connect(t, "key-1"), s.connect(t, "key-2")
	a.subscribe(testApp, "shared-name", "")
	b.subscribe(other, "shared-name", "")
	mustPublish(t, s.hub, other, Event{Name: "e", Channels: []string{"shared-name"}, Data: "for app 2"})
	b.expect("e")
	a.expectNone()
	// app 1's signature does not open app 2's private channels
	b.sendJSON(evSubscribe, "", b.subscribeData(testApp, "private-x", ""))
	b.expect(evSubscriptionError)
}

func TestPrivateChannel(t *testing.T) {
	s := newTestServer(t, Options{})
	c := s.connect(t, "key-1")
	c.subscribe(testApp, "private-orders", "")
	mustPublish(t, s.hub, testApp, Event{Name: "paid", Channels: []string{"private-orders"}, Data: "1"})
	c.expect("paid")

	c.sendJSON(evSubscribe, "", map[string]string{"channel": "private-other", "auth": "key-1:deadbeef"})
	f := c.expect(evSubscriptionError)
	var d struct {
		Type   string `json:"type"`
		Error  string `json:"error"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("subscription_error data %s: %v", f.Data, err)
	}
	if f.Channel != "private-other" || d.Type != "AuthError" || d.Status != 401 || d.Error == "" {
		t.Errorf("subscription_error %s %+v, want AuthError 401 on private-other", f.Channel, d)
	}
}

func TestEncryptedChannelRelaysCiphertext(t *testing.T) {
	s := newTestServer(t, Options{})
	c := s.connect(t, "key-1")
	c.subscribe(testApp, "private-encrypted-vault", "")
	cipher := `{"nonce":"bm9uY2U=","ciphertext":"Y2lwaGVy"}`
	mustPublish(t, s.hub, testApp, Event{Name: "secret", Channels: []string{"private-encrypted-vault"}, Data: cipher})
	if got := c.expect("secret").dataString(t); got != cipher {
		t.Errorf("data %q, want the ciphertext untouched %q", got, cipher)
	}
}

type presenceReply struct {
	Presence struct {
		IDs   []string                   `json:"ids"`
		Hash  map[string]json.RawMessage `json:"hash"`
		Count int                        `json:"count"`
	} `json:"presence"`
}

func TestPresenceMembers(t *testing.T) {
	s := newTestServer(t, Options{})
	const ch = "presence-room"
	alice1 := s.connect(t, "key-1")
	var p presenceReply
	alice1.subscribe(testApp, ch, `{"user_id":"alice","user_info":{"name":"Alice"}}`).decode(t, &p)
	if p.Presence.Count != 1 || !slices.Equal(p.Presence.IDs, []string{"alice"}) || string(p.Presence.Hash["alice"]) != `{"name":"Alice"}` {
		t.Fatalf("first member sees %+v", p.Presence)
	}

	bob := s.connect(t, "key-1")
	bob.subscribe(testApp, ch, `{"user_id":42}`).decode(t, &p) // numeric ids are strings on the wire
	slices.Sort(p.Presence.IDs)
	if p.Presence.Count != 2 || !slices.Equal(p.Presence.IDs, []string{"42", "alice"}) {
		t.Fatalf("second member sees %+v", p.Presence)
	}
	var added struct {
		UserID   string          `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}
	alice1.expect(evMemberAdded).decode(t, &added)
	if added.UserID != "42" {
		t.Errorf("member_added %+v, want user 42", added)
	}

	// Alice opens a second tab: still one member, nobody told.
	alice2 := s.connect(t, "key-1")
	alice2.subscribe(testApp, ch, `{"user_id":"alice","user_info":{"name":"Alice"}}`).decode(t, &p)
	if p.Presence.Count != 2 {
		t.Errorf("count %d with alice in two tabs, want 2", p.Presence.Count)
	}
	bob.expectNone()
	users, _ := s.hub.PresenceUsers(context.Background(), &testApp, ch)
	if !slices.Equal(users, []string{"42", "alice"}) {
		t.Errorf("PresenceUsers %v", users)
	}

	// Closing one tab removes nothing; closing the last one does.
	alice1.ws.CloseNow()
	bob.expectNone()
	alice2.sendJSON(evUnsubscribe, "", map[string]string{"channel": ch})
	var removed struct {
		UserID string `json:"user_id"`
	}
	bob.expect(evMemberRemoved).decode(t, &removed)
	if removed.UserID != "alice" {
		t.Errorf("member_removed %+v, want alice", removed)
	}
	info, _ := s.hub.Channel(context.Background(), &testApp, ch)
	if info.UserCount != 1 || info.SubscriptionCount != 1 {
		t.Errorf("channel info %+v, want 1 user 1 subscription", info)
	}
}

func TestPresenceMemberLimit(t *testing.T) {
	app := testApp
	app.MaxPresenceMembers = 2
	s := newTestServer(t, Options{}, app)
	for _, id := range []string{"1", "2"} {
		s.connect(t, "key-1").subscribe(app, "presence-small", `{"user_id":"`+id+`"}`)
	}
	// an existing member may open another connection
	s.connect(t, "key-1").subscribe(app, "presence-small", `{"user_id":"2"}`)
	c := s.connect(t, "key-1")
	c.sendJSON(evSubscribe, "", c.subscribeData(app, "presence-small", `{"user_id":"3"}`))
	if f := c.expect(evSubscriptionError); !strings.Contains(string(f.Data), "LimitReached") {
		t.Errorf("subscription_error %s, want LimitReached", f.Data)
	}
}

func TestCacheChannels(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, ch := range []string{"cache-prices", "private-cache-prices", "presence-cache-prices", "private-encrypted-cache-prices"} {
		t.Run(ch, func(t *testing.T) {
			cd := ""
			if IsPresenceChannel(ch) {
				cd = `{"user_id":"u"}`
			}
			first := s.connect(t, "key-1")
			first.subscribe(testApp, ch, cd)
			if f := first.expect(evCacheMiss); f.Channel != ch {
				t.Errorf("cache_miss on %q", f.Channel)
			}
			mustPublish(t, s.hub, testApp, Event{Name: "tick", Channels: []string{ch}, Data: "1"})
			mustPublish(t, s.hub, testApp, Event{Name: "tick", Channels: []string{ch}, Data: "2"})
			first.expect("tick")
			first.expect("tick")
			late := s.connect(t, "key-1")
			late.subscribe(testApp, ch, cd)
			if f := late.expect("tick"); f.dataString(t) != "2" || f.Channel != ch {
				t.Errorf("late subscriber got %s %q, want the last event 2", f.Channel, f.dataString(t))
			}
			info, _ := s.hub.Channel(context.Background(), &testApp, ch)
			if info.Cache == nil || info.Cache.Data != "2" || info.Cache.TTL <= 0 || info.Cache.TTL > CacheTTL {
				t.Errorf("channel cache info %+v", info.Cache)
			}
		})
	}
	// A plain channel caches nothing.
	c := s.connect(t, "key-1")
	mustPublish(t, s.hub, testApp, Event{Name: "tick", Channels: []string{"prices"}, Data: "1"})
	c.subscribe(testApp, "prices", "")
	c.expectNone()
}

func TestCacheExpires(t *testing.T) {
	s := newTestServer(t, Options{})
	mustPublish(t, s.hub, testApp, Event{Name: "tick", Channels: []string{"cache-old"}, Data: "1"})
	st := s.hub.lookupState(testApp.ID)
	st.expireCache(time.Now().Add(CacheTTL + time.Second))
	c := s.connect(t, "key-1")
	c.subscribe(testApp, "cache-old", "")
	c.expect(evCacheMiss)
}

func TestClientEvents(t *testing.T) {
	s := newTestServer(t, Options{})
	for _, ch := range []string{"private-chat", "presence-chat"} {
		t.Run(ch, func(t *testing.T) {
			sender, receiver := s.connect(t, "key-1"), s.connect(t, "key-1")
			cd := func(id string) string {
				if IsPresenceChannel(ch) {
					return `{"user_id":"` + id + `"}`
				}
				return ""
			}
			sender.subscribe(testApp, ch, cd("sender"))
			receiver.subscribe(testApp, ch, cd("receiver"))
			if IsPresenceChannel(ch) {
				sender.expect(evMemberAdded)
			}
			sender.send(`{"event":"client-typing","channel":"` + ch + `","data":{"who":"me"}}`)
			f := receiver.expect("client-typing")
			if f.Channel != ch || string(f.Data) != `{"who":"me"}` {
				t.Errorf("got %s %s, want the data relayed as sent", f.Channel, f.Data)
			}
			wantUser := ""
			if IsPresenceChannel(ch) {
				wantUser = "sender"
			}
			if f.UserID != wantUser {
				t.Errorf("user_id %q, want %q", f.UserID, wantUser)
			}
			sender.expectNone() // never echoed
		})
	}
}

func TestSigninAndSendToUser(t *testing.T) {
	s := newTestServer(t, Options{})
	tab1, tab2, stranger := s.connect(t, "key-1"), s.connect(t, "key-1"), s.connect(t, "key-1")
	userData := `{"id":"7","user_info":{"name":"Seven"}}`
	var ok struct {
		UserData string `json:"user_data"`
	}
	tab1.signin(testApp, userData).decode(t, &ok)
	if ok.UserData != userData {
		t.Errorf("signin_success user_data %q, want %q", ok.UserData, userData)
	}
	tab2.signin(testApp, userData)
	tab1.subscribe(testApp, "#server-to-user-7", "") // as pusher-js does
	stranger.sendJSON(evSubscribe, "", map[string]string{"channel": "#server-to-user-7"})
	stranger.expect(evSubscriptionError)

	mustPublish(t, s.hub, testApp, Event{Name: "notice", Channels: []string{"#server-to-user-7"}, Data: "hi"})
	for _, c := range []*client{tab1, tab2} {
		if f := c.expect("notice"); f.Channel != "#server-to-user-7" || f.dataString(t) != "hi" {
			t.Errorf("got %s %q", f.Channel, f.dataString(t))
		}
	}
	stranger.expectNone()

	if err := s.hub.TerminateUserConnections(context.Background(), &testApp, "7"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{tab1, tab2} {
		c.expectError(4009)
		c.expectClose(4009)
	}
	stranger.expectNone()
}

func TestWatchlist(t *testing.T) {
	s := newTestServer(t, Options{})
	online := s.connect(t, "key-1")
	online.signin(testApp, `{"id":"a"}`)
	watcher := s.connect(t, "key-1")
	watcher.signin(testApp, `{"id":"w","watchlist":["a","b"]}`)
	type events struct {
		Events []struct {
			Name    string   `json:"name"`
			UserIDs []string `json:"user_ids"`
		} `json:"events"`
	}
	var ev events
	watcher.expect(evWatchlistEvents).decode(t, &ev)
	if len(ev.Events) != 1 || ev.Events[0].Name != "online" || !slices.Equal(ev.Events[0].UserIDs, []string{"a"}) {
		t.Fatalf("initial watchlist events %+v, want a online", ev)
	}
	b := s.connect(t, "key-1")
	b.signin(testApp, `{"id":"b"}`)
	watcher.expect(evWatchlistEvents).decode(t, &ev)
	if ev.Events[0].Name != "online" || !slices.Equal(ev.Events[0].UserIDs, []string{"b"}) {
		t.Errorf("got %+v, want b online", ev)
	}
	b.ws.CloseNow()
	watcher.expect(evWatchlistEvents).decode(t, &ev)
	if ev.Events[0].Name != "offline" || !slices.Equal(ev.Events[0].UserIDs, []string{"b"}) {
		t.Errorf("got %+v, want b offline", ev)
	}
}

func TestChannelsQuery(t *testing.T) {
	s := newTestServer(t, Options{})
	s.connect(t, "key-1").subscribe(testApp, "presence-a", `{"user_id":"1"}`)
	s.connect(t, "key-1").subscribe(testApp, "presence-a", `{"user_id":"2"}`)
	s.connect(t, "key-1").subscribe(testApp, "public-b", "")
	eventually(t, 5*time.Second, func() error {
		list, _ := s.hub.Channels(context.Background(), &testApp, "presence-")
		if len(list) != 1 || list[0].Name != "presence-a" || list[0].UserCount != 2 || list[0].SubscriptionCount != 2 {
			return fmt.Errorf("presence- channels %+v", list)
		}
		all, _ := s.hub.Channels(context.Background(), &testApp, "")
		if len(all) != 2 {
			return fmt.Errorf("all channels %+v", all)
		}
		return nil
	})
	if info, _ := s.hub.Channel(context.Background(), &testApp, "nobody-here"); info.Occupied {
		t.Errorf("empty channel reported occupied: %+v", info)
	}
}

func TestShutdownTellsClientsToReconnect(t *testing.T) {
	s := newTestServer(t, Options{})
	c := s.connect(t, "key-1")
	c.subscribe(testApp, "news", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectError(4200)
	c.expectClose(4200)
	late := s.dial(t, "/app/key-1?protocol=7")
	late.expectError(4200)
	late.expectClose(4200)
	if err := s.hub.Ready(ctx); err == nil {
		t.Error("Ready after Shutdown")
	}
}

func TestSlowConsumerIsDisconnected(t *testing.T) {
	// The write timeout is generous so that a fast client whose reader a
	// loaded machine stalls for a moment is not taken for a slow one; the
	// slow one is dropped by its full queue, not by the timeout.
	s := newTestServer(t, Options{SendQueueFrames: 64, WriteTimeout: 5 * time.Second})
	fast := s.connect(t, "key-1")
	fast.subscribe(testApp, "firehose", "")
	slow := s.connect(t, "key-1")
	slow.subscribe(testApp, "firehose", "")
	// The slow client never reads: once the harness's buffer and the
	// socket buffers are full, its queue fills and the hub drops it. The
	// fast client, which paces the publisher, receives every event.
	payload := strings.Repeat("x", 8<<10)
	const n = 3000
	for i := 0; i < n; i++ {
		mustPublish(t, s.hub, testApp, Event{Name: "blob", Channels: []string{"firehose"}, Data: payload})
		fast.expect("blob")
	}
	eventually(t, 10*time.Second, func() error {
		if n := s.hub.Connections(); n != 1 {
			return fmt.Errorf("%d connections, want the slow one dropped", n)
		}
		return nil
	})
	info, _ := s.hub.Channel(context.Background(), &testApp, "firehose")
	if info.SubscriptionCount != 1 {
		t.Errorf("firehose has %d subscribers after the drop, want 1", info.SubscriptionCount)
	}
}

func TestWebhooks(t *testing.T) {
	type delivery struct {
		header http.Header
		body   []byte
	}
	got := make(chan delivery, 64)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), body}
	}))
	defer receiver.Close()
	app := testApp
	app.Webhooks = []Webhook{{URL: receiver.URL}}
	wh := webhook.New(webhook.Options{BatchInterval: 10 * time.Millisecond})
	s := newTestServer(t, Options{Webhooks: wh}, app)
	t.Cleanup(func() { wh.Close(context.Background()) })

	c := s.connect(t, "key-1")
	c.subscribe(app, "presence-hooks", `{"user_id":"u1"}`)
	c.send(`{"event":"client-hi","channel":"presence-hooks","data":{"x":1}}`)
	c.subscribe(app, "cache-hooks", "")
	c.expect(evCacheMiss)
	c.ws.Close(1000, "bye")

	client := pusher.Client{AppID: app.ID, Key: app.Key, Secret: app.Secret}
	var names []string
	eventually(t, 10*time.Second, func() error {
		select {
		case d := <-got:
			wh, err := client.Webhook(d.header, d.body)
			if err != nil {
				t.Fatalf("pusher-http-go rejects the webhook: %v", err)
			}
			for _, e := range wh.Events {
				names = append(names, e.Name+" "+e.Channel)
				if e.Name == WebhookClientEvent && (e.Data != `{"x":1}` || e.UserID != "u1" || e.SocketID != c.socketID || e.Event != "client-hi") {
					t.Errorf("client_event webhook %+v", e)
				}
			}
		default:
		}
		want := []string{
			"channel_occupied presence-hooks", "member_added presence-hooks", "client_event presence-hooks",
			"channel_occupied cache-hooks", "cache_miss cache-hooks",
			"member_removed presence-hooks", "channel_vacated presence-hooks", "channel_vacated cache-hooks",
		}
		for _, w := range want {
			if !slices.Contains(names, w) {
				return fmt.Errorf("webhooks so far %v, missing %q", names, w)
			}
		}
		return nil
	})
}

// TestAuthorizationFromPusherHTTPGo subscribes with signatures made by the
// reference server SDK, as an app's auth endpoint would produce them.
func TestAuthorizationFromPusherHTTPGo(t *testing.T) {
	s := newTestServer(t, Options{})
	sdk := pusher.Client{
		AppID: testApp.ID, Key: testApp.Key, Secret: testApp.Secret,
		EncryptionMasterKeyBase64: "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", // 32 bytes
	}
	for _, ch := range []string{"private-sdk", "private-encrypted-sdk", "presence-sdk"} {
		t.Run(ch, func(t *testing.T) {
			c := s.connect(t, "key-1")
			params := []byte("socket_id=" + c.socketID + "&channel_name=" + ch)
			var raw []byte
			var err error
			if IsPresenceChannel(ch) {
				raw, err = sdk.AuthorizePresenceChannel(params, pusher.MemberData{UserID: "9", UserInfo: map[string]string{"name": "Nine"}})
			} else {
				raw, err = sdk.AuthorizePrivateChannel(params)
			}
			if err != nil {
				t.Fatal(err)
			}
			var auth struct {
				Auth         string `json:"auth"`
				ChannelData  string `json:"channel_data"`
				SharedSecret string `json:"shared_secret"`
			}
			if err := json.Unmarshal(raw, &auth); err != nil {
				t.Fatal(err)
			}
			if KindOf(ch) == KindPrivateEncrypted && auth.SharedSecret == "" {
				t.Error("the SDK gave no shared_secret for an encrypted channel")
			}
			c.sendJSON(evSubscribe, "", map[string]string{"channel": ch, "auth": auth.Auth, "channel_data": auth.ChannelData})
			c.expect(evSubscriptionSucceeded)
		})
	}
}
