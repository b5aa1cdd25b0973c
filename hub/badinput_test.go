package hub

// These tests specify how the hub answers bad input: every malformed,
// forged or over-limit message gets its documented error, and the server
// keeps serving — the same connection when the error leaves it open, and
// every other and every new connection always.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// stillUsable proves that c survived a bad input: a ping is answered with
// a pong and nothing else, and a subscription still succeeds.
func stillUsable(t testing.TB, c *client) {
	t.Helper()
	c.expectNone()
	c.subscribe(App{}, "still-usable", "")
}

// freshConnectionWorks proves the server still admits and serves a new
// connection to the app with key.
func freshConnectionWorks(t testing.TB, s *testServer, key string) {
	t.Helper()
	c := s.connect(t, key)
	c.expectNone()
	c.subscribe(App{}, "fresh-connection", "")
}

// subscriptionErrorData is the object pusher-js reads from
// pusher:subscription_error.
type subscriptionErrorData struct {
	Type   string `json:"type"`
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// expectSubscriptionRefused reads the next frame, which must be a
// pusher:subscription_error for channel, with an object as data carrying
// a type, an error message and status.
func expectSubscriptionRefused(t testing.TB, c *client, channel string, status int) subscriptionErrorData {
	t.Helper()
	f := c.expect(evSubscriptionError)
	var d subscriptionErrorData
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("subscription_error data %s is not an object: %v", f.Data, err)
	}
	if f.Channel != channel {
		t.Errorf("subscription_error names channel %q (%d bytes), want %q (%d bytes) as requested, which pusher-js needs to route it",
			f.Channel, len(f.Channel), channel, len(channel))
	}
	if d.Status != status || d.Type == "" || d.Error == "" {
		t.Errorf("subscription_error data %s, want status %d with a type and an error", f.Data, status)
	}
	return d
}

// memberData returns channel_data naming user for a presence channel,
// and "" for other kinds.
func memberData(channel, user string) string {
	if KindOf(channel) == KindPresence {
		return `{"user_id":"` + user + `"}`
	}
	return ""
}

// padToSize returns a pusher:ping message of exactly n bytes.
func padToSize(t testing.TB, n int) string {
	t.Helper()
	const head, tail = `{"event":"pusher:ping","data":{},"pad":"`, `"}`
	pad := n - len(head) - len(tail)
	if pad < 0 {
		t.Fatalf("cannot pad a ping to %d bytes", n)
	}
	return head + strings.Repeat("x", pad) + tail
}

func TestBadInputMalformedMessages(t *testing.T) {
	s := newTestServer(t, Options{})
	bystander := s.connect(t, testApp.Key)
	bystander.subscribe(testApp, "bystander", "")

	tests := []struct {
		name string
		typ  websocket.MessageType
		msg  string
	}{
		{"truncated JSON", websocket.MessageText, `{"event":"pusher:ping","data":{`},
		{"not an object: string", websocket.MessageText, `"pusher:ping"`},
		{"not an object: array", websocket.MessageText, `[{"event":"pusher:ping","data":{}}]`},
		{"not an object: number", websocket.MessageText, `42`},
		{"not an object: boolean", websocket.MessageText, `true`},
		{"null", websocket.MessageText, `null`},
		{"empty message", websocket.MessageText, ``},
		{"only whitespace", websocket.MessageText, " \n\t"},
		{"garbage", websocket.MessageText, `}{`},
		{"two objects", websocket.MessageText, `{"event":"pusher:ping"}{"event":"pusher:ping"}`},
		{"binary frame", websocket.MessageBinary, `{"event":"pusher:ping","data":{}}`},
		{"binary garbage", websocket.MessageBinary, "\x00\xff\xfe"},
		{"no event", websocket.MessageText, `{"data":{}}`},
		{"empty event", websocket.MessageText, `{"event":"","data":{}}`},
		{"null event", websocket.MessageText, `{"event":null,"data":{}}`},
		{"event not a string", websocket.MessageText, `{"event":5,"data":{}}`},
		{"channel not a string", websocket.MessageText, `{"event":"pusher:ping","channel":5,"data":{}}`},
		{"unknown pusher event", websocket.MessageText, `{"event":"pusher:foo","data":{}}`},
		{"unknown event", websocket.MessageText, `{"event":"bar","data":{}}`},
		{"server event sent by a client", websocket.MessageText, `{"event":"pusher_internal:subscription_succeeded","channel":"room","data":"{}"}`},
		{"long unknown event", websocket.MessageText, `{"event":"` + strings.Repeat("e", 5000) + `","data":{}}`},
		{"subscribe without data", websocket.MessageText, `{"event":"pusher:subscribe"}`},
		{"subscribe with number data", websocket.MessageText, `{"event":"pusher:subscribe","data":42}`},
		{"subscribe with array data", websocket.MessageText, `{"event":"pusher:subscribe","data":["room"]}`},
		{"subscribe with boolean data", websocket.MessageText, `{"event":"pusher:subscribe","data":true}`},
		{"subscribe with a string that is not JSON", websocket.MessageText, `{"event":"pusher:subscribe","data":"room"}`},
		{"subscribe with an empty string", websocket.MessageText, `{"event":"pusher:subscribe","data":""}`},
		{"subscribe with doubly encoded data", websocket.MessageText, `{"event":"pusher:subscribe","data":"\"{\\\"channel\\\":\\\"room\\\"}\""}`},
		{"subscribe with a numeric channel", websocket.MessageText, `{"event":"pusher:subscribe","data":{"channel":5}}`},
		{"subscribe with a non-string auth", websocket.MessageText, `{"event":"pusher:subscribe","data":{"channel":"private-a","auth":{}}}`},
		{"unsubscribe without data", websocket.MessageText, `{"event":"pusher:unsubscribe"}`},
		{"unsubscribe without channel", websocket.MessageText, `{"event":"pusher:unsubscribe","data":{}}`},
		{"unsubscribe with number data", websocket.MessageText, `{"event":"pusher:unsubscribe","data":1}`},
		{"signin without data", websocket.MessageText, `{"event":"pusher:signin"}`},
		{"signin with number data", websocket.MessageText, `{"event":"pusher:signin","data":1}`},
		{"signin with non-string user_data", websocket.MessageText, `{"event":"pusher:signin","data":{"auth":"a:b","user_data":{"id":"7"}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect(t, testApp.Key)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := c.ws.Write(ctx, tc.typ, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			if msg := c.expectError(CodeBadMessage); msg == "" {
				t.Error("pusher:error 4300 without a message")
			}
			stillUsable(t, c)
			freshConnectionWorks(t, s, testApp.Key)
		})
	}
	stillUsable(t, bystander)
}

// TestBadInputDataAsJSONString checks that data sent JSON-encoded as a
// string, as some clients do, is accepted like an object.
func TestBadInputDataAsJSONString(t *testing.T) {
	s := newTestServer(t, Options{})
	encode := func(t testing.TB, v any) string {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, channel := range []string{"room", "private-room", "private-encrypted-room", "presence-room", "cache-room"} {
		t.Run("subscribe "+channel, func(t *testing.T) {
			c := s.connect(t, testApp.Key)
			c.sendJSON(evSubscribe, "", encode(t, c.subscribeData(testApp, channel, memberData(channel, "u1"))))
			if f := c.expect(evSubscriptionSucceeded); f.Channel != channel {
				t.Errorf("subscription_succeeded for %q, want %q", f.Channel, channel)
			}
			if IsCacheChannel(channel) {
				c.expect(evCacheMiss)
			}
			mustPublish(t, s.hub, testApp, Event{Name: "e", Channels: []string{channel}, Data: "d"})
			c.expect("e")

			c.sendJSON(evUnsubscribe, "", encode(t, map[string]string{"channel": channel}))
			c.expectNone()
			mustPublish(t, s.hub, testApp, Event{Name: "e", Channels: []string{channel}, Data: "d"})
			c.expectNone()
		})
	}
	t.Run("signin", func(t *testing.T) {
		c := s.connect(t, testApp.Key)
		userData := `{"id":"u1"}`
		c.sendJSON(evSignin, "", encode(t, map[string]string{
			"auth":      testApp.Key + ":" + Sign(testApp.Secret, userAuthMessage(c.socketID, userData)),
			"user_data": userData,
		}))
		c.expect(evSigninSuccess)
	})
}

func TestBadInputInvalidChannelNames(t *testing.T) {
	s := newTestServer(t, Options{})
	tests := []struct {
		name    string
		data    map[string]any
		channel string // as the subscription_error must name it
	}{
		{"missing channel", map[string]any{}, ""},
		{"null channel", map[string]any{"channel": nil}, ""},
		{"empty", map[string]any{"channel": ""}, ""},
		{"165 characters", map[string]any{"channel": strings.Repeat("a", 165)}, strings.Repeat("a", 165)},
		{"165 characters, private", map[string]any{"channel": "private-" + strings.Repeat("a", 157), "auth": "x:y"}, "private-" + strings.Repeat("a", 157)},
		{"space", map[string]any{"channel": "my room"}, "my room"},
		{"slash", map[string]any{"channel": "a/b"}, "a/b"},
		{"star", map[string]any{"channel": "a*b"}, "a*b"},
		{"hash not at the start", map[string]any{"channel": "room#1"}, "room#1"},
		{"hash without the user prefix", map[string]any{"channel": "#room"}, "#room"},
		{"server-to-user without an id", map[string]any{"channel": "#server-to-user-"}, "#server-to-user-"},
		{"unicode", map[string]any{"channel": "café"}, "café"},
		{"newline", map[string]any{"channel": "a\nb"}, "a\nb"},
		{"NUL", map[string]any{"channel": "a\x00b"}, "a\x00b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect(t, testApp.Key)
			c.sendJSON(evSubscribe, "", tc.data)
			expectSubscriptionRefused(t, c, tc.channel, 400)
			stillUsable(t, c)
			freshConnectionWorks(t, s, testApp.Key)
		})
	}
}

// TestBadInputForgedAuth checks that no forged signature opens a private,
// presence or encrypted channel, and that a refused subscriber neither
// joins nor receives anything.
func TestBadInputForgedAuth(t *testing.T) {
	s := newTestServer(t, Options{})
	app := testApp
	sig := func(secret, socketID, channel, channelData string) string {
		return Sign(secret, channelAuthMessage(socketID, channel, channelData))
	}
	type forgery struct {
		name string
		// presenceOnly forgeries tamper with channel_data.
		presenceOnly bool
		data         func(socketID, channel string) map[string]any
	}
	forgeries := []forgery{
		{"wrong secret", false, func(sid, ch string) map[string]any {
			cd := memberData(ch, "mallory")
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig("not-the-secret", sid, ch, cd), "channel_data": cd}
		}},
		{"wrong key", false, func(sid, ch string) map[string]any {
			cd := memberData(ch, "mallory")
			return map[string]any{"channel": ch, "auth": "key-2:" + sig(app.Secret, sid, ch, cd), "channel_data": cd}
		}},
		{"signature without the key", false, func(sid, ch string) map[string]any {
			cd := memberData(ch, "mallory")
			return map[string]any{"channel": ch, "auth": sig(app.Secret, sid, ch, cd), "channel_data": cd}
		}},
		{"signature for another socket_id", false, func(sid, ch string) map[string]any {
			cd := memberData(ch, "mallory")
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig(app.Secret, "1234.5678", ch, cd), "channel_data": cd}
		}},
		{"signature for another channel", false, func(sid, ch string) map[string]any {
			cd := memberData(ch, "mallory")
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig(app.Secret, sid, ch+"-other", cd), "channel_data": cd}
		}},
		{"upper-case signature", false, func(sid, ch string) map[string]any {
			cd := memberData(ch, "mallory")
			return map[string]any{"channel": ch, "auth": app.Key + ":" + strings.ToUpper(sig(app.Secret, sid, ch, cd)), "channel_data": cd}
		}},
		{"no auth", false, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "channel_data": memberData(ch, "mallory")}
		}},
		{"empty auth", false, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "auth": "", "channel_data": memberData(ch, "mallory")}
		}},
		{"key and colon only", false, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "auth": app.Key + ":", "channel_data": memberData(ch, "mallory")}
		}},
		{"channel_data altered after signing", true, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig(app.Secret, sid, ch, `{"user_id":"mallory"}`), "channel_data": `{"user_id":"admin"}`}
		}},
		{"user_info altered after signing", true, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig(app.Secret, sid, ch, `{"user_id":"mallory","user_info":{"role":"guest"}}`),
				"channel_data": `{"user_id":"mallory","user_info":{"role":"admin"}}`}
		}},
		{"channel_data dropped after signing", true, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig(app.Secret, sid, ch, `{"user_id":"mallory"}`)}
		}},
		{"signed without channel_data, sent with it", true, func(sid, ch string) map[string]any {
			return map[string]any{"channel": ch, "auth": app.Key + ":" + sig(app.Secret, sid, ch, ""), "channel_data": `{"user_id":"mallory"}`}
		}},
	}
	for _, kind := range []string{"private-vault", "presence-vault", "private-encrypted-vault"} {
		for i, fg := range forgeries {
			if fg.presenceOnly && KindOf(kind) != KindPresence {
				continue
			}
			t.Run(kind+"/"+fg.name, func(t *testing.T) {
				// A channel of its own, so no other subtest's members come
				// and go on it.
				channel := fmt.Sprintf("%s-%d", kind, i)
				member := s.connect(t, app.Key)
				member.subscribe(app, channel, memberData(channel, "member"))
				c := s.connect(t, app.Key)
				c.sendJSON(evSubscribe, "", fg.data(c.socketID, channel))
				if d := expectSubscriptionRefused(t, c, channel, 401); d.Type != "AuthError" {
					t.Errorf("subscription_error type %q, want AuthError", d.Type)
				}
				member.expectNone() // no member_added for a refused subscriber

				mustPublish(t, s.hub, app, Event{Name: "secret", Channels: []string{channel}, Data: "for members"})
				member.expect("secret")
				c.expectNone()

				// The same connection subscribes once it signs properly.
				c.subscribe(app, channel, memberData(channel, "late"))
				if KindOf(channel) == KindPresence {
					member.expect(evMemberAdded)
				}
				freshConnectionWorks(t, s, app.Key)
			})
		}
	}
}

// TestBadInputPresenceChannelData checks channel_data that is correctly
// signed but not a valid member: it is refused and nobody is told.
func TestBadInputPresenceChannelData(t *testing.T) {
	s := newTestServer(t, Options{})
	// Each subtest has a channel of its own, so no other subtest's members
	// come and go on it.
	lobby := func(t testing.TB, name string) (channel string, member *client) {
		t.Helper()
		channel = "presence-" + strings.NewReplacer(" ", "-", "_", "-").Replace(name)
		member = s.connect(t, testApp.Key)
		member.subscribe(testApp, channel, `{"user_id":"member"}`)
		return channel, member
	}
	infoOfSize := func(n int) string { return `"` + strings.Repeat("i", n-2) + `"` }
	max := testApp.WithDefaults().MaxUserInfoBytes

	refused := []struct {
		name, channelData string
	}{
		{"not JSON", `user 7`},
		{"truncated JSON", `{"user_id":"7"`},
		{"array", `["7"]`},
		{"string", `"7"`},
		{"number", `7`},
		{"null", `null`},
		{"empty", ``},
		{"missing user_id", `{"user_info":{"name":"x"}}`},
		{"null user_id", `{"user_id":null}`},
		{"empty user_id", `{"user_id":""}`},
		{"boolean user_id", `{"user_id":true}`},
		{"object user_id", `{"user_id":{"id":"7"}}`},
		{"array user_id", `{"user_id":["7"]}`},
		{"user_info too large", `{"user_id":"7","user_info":` + infoOfSize(max+1) + `}`},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			channel, member := lobby(t, tc.name)
			c := s.connect(t, testApp.Key)
			c.sendJSON(evSubscribe, "", c.subscribeData(testApp, channel, tc.channelData))
			expectSubscriptionRefused(t, c, channel, 400)
			member.expectNone()
			stillUsable(t, c)
			freshConnectionWorks(t, s, testApp.Key)
		})
	}

	accepted := []struct {
		name, channelData, userID string
	}{
		{"numeric user_id", `{"user_id":7}`, "7"},
		{"user_info at the limit", `{"user_id":"8","user_info":` + infoOfSize(max) + `}`, "8"},
	}
	for _, tc := range accepted {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			channel, member := lobby(t, tc.name)
			c := s.connect(t, testApp.Key)
			c.subscribe(testApp, channel, tc.channelData)
			var added memberAddedData
			member.expect(evMemberAdded).decode(t, &added)
			if added.UserID != tc.userID {
				t.Errorf("member_added for %q, want %q", added.UserID, tc.userID)
			}
		})
	}
}

// TestBadInputOversizedMessage checks that a message over MaxMessageBytes
// closes its connection with websocket status 1009 and nothing else.
func TestBadInputOversizedMessage(t *testing.T) {
	const limit = 1024
	s := newTestServer(t, Options{MaxMessageBytes: limit})
	bystander := s.connect(t, testApp.Key)
	bystander.subscribe(testApp, "room", "")

	t.Run("at the limit is accepted", func(t *testing.T) {
		c := s.connect(t, testApp.Key)
		c.send(padToSize(t, limit))
		c.expect(evPong)
	})
	for _, size := range []int{limit + 1, 4 * limit} {
		t.Run(fmt.Sprintf("%d bytes closes with 1009", size), func(t *testing.T) {
			c := s.connect(t, testApp.Key)
			c.subscribe(testApp, "room", "")
			c.send(padToSize(t, size))
			c.expectClose(int(websocket.StatusMessageTooBig))

			stillUsable(t, bystander)
			mustPublish(t, s.hub, testApp, Event{Name: "after", Channels: []string{"room"}, Data: "x"})
			bystander.expect("after")
			freshConnectionWorks(t, s, testApp.Key)
			eventually(t, 5*time.Second, func() error {
				info, err := s.hub.Channel(context.Background(), &testApp, "room")
				if err != nil {
					return err
				}
				if info.SubscriptionCount != 1 {
					return fmt.Errorf("room has %d subscriptions, want only the bystander's", info.SubscriptionCount)
				}
				return nil
			})
		})
	}
}

// TestBadInputRefusedConnections checks the Pusher refusals: pusher:error
// with the code, then a close with the same code.
func TestBadInputRefusedConnections(t *testing.T) {
	disabled := App{ID: "app-off", Key: "key-off", Secret: "secret-off-long", Enabled: false}
	s := newTestServer(t, Options{}, testApp, disabled)
	bystander := s.connect(t, testApp.Key)

	refused := []struct {
		name, path string
		code       int
	}{
		{"unknown app key", "/app/no-such-key?protocol=7", 4001},
		{"app id instead of key", "/app/" + testApp.ID + "?protocol=7", 4001},
		{"disabled app", "/app/" + disabled.Key + "?protocol=7", 4003},
		{"no key", "/app/?protocol=7", 4005},
		{"extra path segment", "/app/a/b?protocol=7", 4005},
		{"trailing slash", "/app/" + testApp.Key + "/?protocol=7", 4005},
		{"apps instead of app", "/apps/" + testApp.Key + "?protocol=7", 4005},
		{"root", "/?protocol=7", 4005},
		{"no protocol", "/app/" + testApp.Key, 4008},
		{"no protocol, other parameters", "/app/" + testApp.Key + "?client=js&version=8.4.0", 4008},
		{"empty protocol", "/app/" + testApp.Key + "?protocol=", 4008},
		{"protocol not a number", "/app/" + testApp.Key + "?protocol=abc", 4006},
		{"protocol with a fraction", "/app/" + testApp.Key + "?protocol=7.0", 4006},
		{"protocol 4", "/app/" + testApp.Key + "?protocol=4", 4007},
		{"protocol 8", "/app/" + testApp.Key + "?protocol=8", 4007},
		{"protocol 0", "/app/" + testApp.Key + "?protocol=0", 4007},
		{"negative protocol", "/app/" + testApp.Key + "?protocol=-7", 4007},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t, tc.path)
			if msg := c.expectError(tc.code); msg == "" {
				t.Errorf("pusher:error %d without a message", tc.code)
			}
			c.expectClose(tc.code)
			freshConnectionWorks(t, s, testApp.Key)
		})
	}
	for _, proto := range []string{"5", "6", "7"} {
		t.Run("protocol "+proto+" is accepted", func(t *testing.T) {
			c := s.dial(t, "/app/"+testApp.Key+"?protocol="+proto)
			c.expect(evConnectionEstablished)
		})
	}
	stillUsable(t, bystander)
}

// dialUntilEstablished dials path until the server admits the connection,
// for limits that free up once an earlier connection has been cleaned up.
func dialUntilEstablished(t testing.TB, s *testServer, path string) *client {
	t.Helper()
	var c *client
	eventually(t, 5*time.Second, func() error {
		c = s.dial(t, path)
		if f := c.next(); f.Event != evConnectionEstablished {
			return fmt.Errorf("got %s %s", f.Event, f.Data)
		}
		return nil
	})
	return c
}

func TestBadInputAppConnectionQuota(t *testing.T) {
	quota := App{ID: "app-quota", Key: "key-quota", Secret: "secret-quota", Enabled: true, MaxConnections: 1}
	s := newTestServer(t, Options{}, testApp, quota)
	first := s.connect(t, quota.Key)
	first.subscribe(quota, "room", "")

	second := s.dial(t, "/app/"+quota.Key+"?protocol=7")
	second.expectError(4004)
	second.expectClose(4004)

	stillUsable(t, first)
	mustPublish(t, s.hub, quota, Event{Name: "e", Channels: []string{"room"}, Data: "x"})
	first.expect("e")
	freshConnectionWorks(t, s, testApp.Key) // other apps are not limited

	if err := first.ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	dialUntilEstablished(t, s, "/app/"+quota.Key+"?protocol=7")
}

func TestBadInputServerCapacity(t *testing.T) {
	other := App{ID: "app-2", Key: "key-2", Secret: "secret-2-long", Enabled: true}
	s := newTestServer(t, Options{MaxConnections: 2}, testApp, other)
	first, second := s.connect(t, testApp.Key), s.connect(t, other.Key)

	for _, key := range []string{testApp.Key, other.Key} {
		c := s.dial(t, "/app/"+key+"?protocol=7")
		c.expectError(4100)
		c.expectClose(4100)
	}
	stillUsable(t, first)
	stillUsable(t, second)

	if err := second.ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	dialUntilEstablished(t, s, "/app/"+testApp.Key+"?protocol=7")
}

// TestBadInputClientEventsRejected checks every reason a client event is
// refused: the sender gets pusher:error 4301, stays connected, and the
// other subscriber receives nothing. The allowed cases are controls that
// show the receiver would have seen the event.
func TestBadInputClientEventsRejected(t *testing.T) {
	noClientEvents := App{ID: "app-quiet", Key: "key-quiet", Secret: "secret-quiet", Enabled: true}
	small := App{ID: "app-small", Key: "key-small", Secret: "secret-small", Enabled: true, ClientEvents: true, MaxEventBytes: 64}
	s := newTestServer(t, Options{}, testApp, noClientEvents, small)

	// msg is the sender's message; {ch} stands for the subtest's channel.
	clientEvent := func(event, data string) string {
		return `{"event":"` + event + `","channel":"{ch}","data":` + data + `}`
	}
	tests := []struct {
		name string
		app  App
		// channel is the kind of channel both subscribe to (each subtest
		// gets one of its own), unless senderOut.
		channel string
		// senderOut leaves the sender unsubscribed.
		senderOut bool
		// signinAs signs both in as this user first, and channel is then
		// its #server-to-user channel.
		signinAs  string
		msg       string
		delivered bool
	}{
		{name: "allowed on a private channel", app: testApp, channel: "private-chat",
			msg: clientEvent("client-typing", `{"x":1}`), delivered: true},
		{name: "allowed on a presence channel", app: testApp, channel: "presence-chat",
			msg: clientEvent("client-typing", `{"x":1}`), delivered: true},
		{name: "allowed at MaxEventBytes", app: small, channel: "private-chat",
			msg: clientEvent("client-big", `"`+strings.Repeat("d", 62)+`"`), delivered: true},
		{name: "public channel", app: testApp, channel: "chat",
			msg: clientEvent("client-typing", `{"x":1}`)},
		{name: "cache channel", app: testApp, channel: "cache-chat",
			msg: clientEvent("client-typing", `{"x":1}`)},
		{name: "encrypted channel", app: testApp, channel: "private-encrypted-chat",
			msg: clientEvent("client-typing", `{"x":1}`)},
		{name: "private channel not subscribed", app: testApp, channel: "private-chat", senderOut: true,
			msg: clientEvent("client-typing", `{"x":1}`)},
		{name: "presence channel not subscribed", app: testApp, channel: "presence-chat", senderOut: true,
			msg: clientEvent("client-typing", `{"x":1}`)},
		{name: "app without client events", app: noClientEvents, channel: "private-chat",
			msg: clientEvent("client-typing", `{"x":1}`)},
		{name: "data larger than MaxEventBytes", app: small, channel: "private-chat",
			msg: clientEvent("client-big", `"`+strings.Repeat("d", 63)+`"`)},
		{name: "event name over 200 characters", app: testApp, channel: "private-chat",
			msg: clientEvent("client-"+strings.Repeat("n", 194), `{"x":1}`)},
		{name: "no channel", app: testApp, channel: "private-chat",
			msg: `{"event":"client-typing","data":{"x":1}}`},
		{name: "user channel", app: testApp, signinAs: "u",
			msg: clientEvent("client-typing", `{"x":1}`)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			channel := fmt.Sprintf("%s-%d", tc.channel, i)
			sender, receiver := s.connect(t, tc.app.Key), s.connect(t, tc.app.Key)
			if tc.signinAs != "" {
				user := fmt.Sprintf("%s-%d", tc.signinAs, i)
				channel = "#server-to-user-" + user
				for _, c := range []*client{sender, receiver} {
					c.signin(tc.app, `{"id":"`+user+`"}`)
				}
			}
			receiver.subscribe(tc.app, channel, memberData(channel, "receiver"))
			if IsCacheChannel(channel) {
				receiver.expect(evCacheMiss)
			}
			if !tc.senderOut {
				sender.subscribe(tc.app, channel, memberData(channel, "sender"))
				if IsCacheChannel(channel) {
					sender.expect(evCacheMiss)
				}
				if IsPresenceChannel(channel) {
					receiver.expect(evMemberAdded)
				}
			}
			msg := strings.ReplaceAll(tc.msg, "{ch}", channel)
			sender.send(msg)
			if tc.delivered {
				var f frame
				if err := json.Unmarshal([]byte(msg), &f); err != nil {
					t.Fatal(err)
				}
				if got := receiver.expect(f.Event); got.Channel != channel || string(got.Data) != string(f.Data) {
					t.Errorf("delivered %s %s, want %s %s", got.Channel, got.Data, channel, f.Data)
				}
				sender.expectNone()
				return
			}
			if msg := sender.expectError(CodeClientEventRejected); msg == "" {
				t.Error("pusher:error 4301 without a message")
			}
			receiver.expectNone()
			stillUsable(t, sender)
		})
	}
}

// TestBadInputClientEventRateLimit checks the per-connection rate limit:
// with ClientEventRate 2, the third event of a back-to-back burst is
// refused with 4301 and the connection stays open.
func TestBadInputClientEventRateLimit(t *testing.T) {
	app := App{ID: "app-slow", Key: "key-slow", Secret: "secret-slow", Enabled: true, ClientEvents: true, ClientEventRate: 2}
	s := newTestServer(t, Options{}, app)
	sender, receiver := s.connect(t, app.Key), s.connect(t, app.Key)
	sender.subscribe(app, "private-chat", "")
	receiver.subscribe(app, "private-chat", "")

	for i := 1; i <= 3; i++ {
		sender.send(fmt.Sprintf(`{"event":"client-n","channel":"private-chat","data":{"n":%d}}`, i))
	}
	for i := 1; i <= 2; i++ {
		if f := receiver.expect("client-n"); string(f.Data) != fmt.Sprintf(`{"n":%d}`, i) {
			t.Errorf("event %d has data %s", i, f.Data)
		}
	}
	if msg := sender.expectError(CodeClientEventRejected); msg == "" {
		t.Error("pusher:error 4301 without a message")
	}
	receiver.expectNone()
	stillUsable(t, sender)
}

// TestBadInputSignin checks that a sign-in that is not properly signed, or
// whose user_data has no id, closes the connection with 4009.
func TestBadInputSignin(t *testing.T) {
	s := newTestServer(t, Options{})
	bystander := s.connect(t, testApp.Key)
	bystander.signin(testApp, `{"id":"bystander"}`)
	sig := func(secret, socketID, userData string) string {
		return Sign(secret, userAuthMessage(socketID, userData))
	}
	const ud = `{"id":"7"}`
	tests := []struct {
		name string
		data func(socketID string) map[string]any
	}{
		{"wrong secret", func(sid string) map[string]any {
			return map[string]any{"auth": testApp.Key + ":" + sig("not-the-secret", sid, ud), "user_data": ud}
		}},
		{"wrong key", func(sid string) map[string]any {
			return map[string]any{"auth": "key-2:" + sig(testApp.Secret, sid, ud), "user_data": ud}
		}},
		{"signature for another socket_id", func(sid string) map[string]any {
			return map[string]any{"auth": testApp.Key + ":" + sig(testApp.Secret, "1234.5678", ud), "user_data": ud}
		}},
		{"user_data altered after signing", func(sid string) map[string]any {
			return map[string]any{"auth": testApp.Key + ":" + sig(testApp.Secret, sid, ud), "user_data": `{"id":"admin"}`}
		}},
		{"channel signature instead of user signature", func(sid string) map[string]any {
			return map[string]any{"auth": testApp.Key + ":" + Sign(testApp.Secret, channelAuthMessage(sid, "private-x", "")), "user_data": ud}
		}},
		{"no auth", func(sid string) map[string]any {
			return map[string]any{"user_data": ud}
		}},
		{"user_data without id", func(sid string) map[string]any {
			const bad = `{"user_info":{"name":"x"}}`
			return map[string]any{"auth": testApp.Key + ":" + sig(testApp.Secret, sid, bad), "user_data": bad}
		}},
		{"user_data with an empty id", func(sid string) map[string]any {
			const bad = `{"id":""}`
			return map[string]any{"auth": testApp.Key + ":" + sig(testApp.Secret, sid, bad), "user_data": bad}
		}},
		{"user_data not JSON", func(sid string) map[string]any {
			const bad = `user 7`
			return map[string]any{"auth": testApp.Key + ":" + sig(testApp.Secret, sid, bad), "user_data": bad}
		}},
		{"user_data missing", func(sid string) map[string]any {
			return map[string]any{"auth": testApp.Key + ":" + sig(testApp.Secret, sid, "")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect(t, testApp.Key)
			c.sendJSON(evSignin, "", tc.data(c.socketID))
			if msg := c.expectError(4009); msg == "" {
				t.Error("pusher:error 4009 without a message")
			}
			c.expectClose(4009)
			stillUsable(t, bystander)
			freshConnectionWorks(t, s, testApp.Key)
		})
	}
}

func TestBadInputWatchlistTooLong(t *testing.T) {
	s := newTestServer(t, Options{})
	watchlist := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("friend-%d", i)
		}
		b, err := json.Marshal(map[string]any{"id": "u1", "watchlist": ids})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	c := s.connect(t, testApp.Key)
	tooLong := watchlist(MaxWatchlist + 1)
	c.sendJSON(evSignin, "", map[string]string{
		"auth":      testApp.Key + ":" + Sign(testApp.Secret, userAuthMessage(c.socketID, tooLong)),
		"user_data": tooLong,
	})
	if msg := c.expectError(CodeWatchlistTooLong); msg == "" {
		t.Error("pusher:error 4302 without a message")
	}
	stillUsable(t, c)

	// The refused sign-in left the connection signed out.
	c.sendJSON(evSubscribe, "", map[string]string{"channel": "#server-to-user-u1"})
	expectSubscriptionRefused(t, c, "#server-to-user-u1", 401)

	c.signin(testApp, watchlist(MaxWatchlist))
	c.subscribe(testApp, "#server-to-user-u1", "")
}

// TestBadInputServerToUserChannel checks that only a connection signed in
// as the user may subscribe to its #server-to-user channel, and that a
// refused one receives none of its events.
func TestBadInputServerToUserChannel(t *testing.T) {
	s := newTestServer(t, Options{})
	const channel = "#server-to-user-alice"
	alice := s.connect(t, testApp.Key)
	alice.signin(testApp, `{"id":"alice"}`)
	alice.subscribe(testApp, channel, "")

	tests := []struct {
		name     string
		signinAs string // "" stays signed out
	}{
		{"not signed in", ""},
		{"signed in as another user", "bob"},
		{"signed in as a prefix of the user", "ali"},
		{"signed in as an extension of the user", "alice2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := s.connect(t, testApp.Key)
			if tc.signinAs != "" {
				c.signin(testApp, `{"id":"`+tc.signinAs+`"}`)
			}
			c.sendJSON(evSubscribe, "", map[string]string{"channel": channel})
			if d := expectSubscriptionRefused(t, c, channel, 401); d.Type != "AuthError" {
				t.Errorf("subscription_error type %q, want AuthError", d.Type)
			}
			mustPublish(t, s.hub, testApp, Event{Name: "private-note", Channels: []string{channel}, Data: "for alice"})
			alice.expect("private-note")
			c.expectNone()
			stillUsable(t, c)
		})
	}
}

// TestBadInputTooManyChannels checks MaxChannelsPerConnection: the
// subscription beyond it is refused with status 403, already held ones
// may be repeated, and unsubscribing frees a place.
func TestBadInputTooManyChannels(t *testing.T) {
	s := newTestServer(t, Options{MaxChannelsPerConnection: 3})
	c := s.connect(t, testApp.Key)
	for _, ch := range []string{"room-1", "private-room-2", "presence-room-3"} {
		c.subscribe(testApp, ch, memberData(ch, "u1"))
	}
	for _, ch := range []string{"room-4", "private-room-4", "presence-room-4", "cache-room-4"} {
		c.sendJSON(evSubscribe, "", c.subscribeData(testApp, ch, memberData(ch, "u1")))
		expectSubscriptionRefused(t, c, ch, 403)
	}
	mustPublish(t, s.hub, testApp, Event{Name: "e", Channels: []string{"room-4"}, Data: "x"})
	c.expectNone()

	// Subscribing again to a held channel is not a new one.
	c.subscribe(testApp, "room-1", "")

	// The limit is per connection.
	other := s.connect(t, testApp.Key)
	other.subscribe(testApp, "room-4", "")

	c.sendJSON(evUnsubscribe, "", map[string]string{"channel": "room-1"})
	c.subscribe(testApp, "room-4", "")
	c.sendJSON(evSubscribe, "", map[string]string{"channel": "room-5"})
	expectSubscriptionRefused(t, c, "room-5", 403)
	c.expectNone()
}

// rawClient is a Pusher connection that keeps each server message as the
// bytes on the wire, for properties the decoding client cannot see, such
// as whether a text frame is valid UTF-8.
type rawClient struct {
	t        testing.TB
	ws       *websocket.Conn
	socketID string
	msgs     chan []byte
	closed   chan error
}

func dialRaw(t testing.TB, s *testServer, key string) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/app/" + key + "?protocol=7"
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	c := &rawClient{t: t, ws: ws, msgs: make(chan []byte, 1024), closed: make(chan error, 1)}
	go func() {
		for {
			_, msg, err := ws.Read(context.Background())
			if err != nil {
				c.closed <- err
				close(c.msgs)
				return
			}
			c.msgs <- msg
		}
	}()
	t.Cleanup(func() { ws.CloseNow() })
	var d struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(c.expect(evConnectionEstablished).dataString(t)), &d); err != nil {
		t.Fatal(err)
	}
	c.socketID = d.SocketID
	return c
}

// write sends a text message; it reports failure rather than failing the
// test, since the server may rightly have closed the connection.
func (c *rawClient) write(msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, []byte(msg))
}

// next returns the next message, or ok false once the connection closed.
func (c *rawClient) next() (msg []byte, ok bool) {
	c.t.Helper()
	select {
	case msg, ok := <-c.msgs:
		return msg, ok
	case <-time.After(5 * time.Second):
		c.t.Fatal("no message within 5s")
	}
	return nil, false
}

// expect returns the next message decoded, which must be event.
func (c *rawClient) expect(event string) frame {
	c.t.Helper()
	msg, ok := c.next()
	if !ok {
		c.t.Fatalf("connection closed waiting for %s: %v", event, <-c.closed)
	}
	var f frame
	if err := json.Unmarshal(msg, &f); err != nil {
		c.t.Fatalf("server sent invalid JSON %q: %v", msg, err)
	}
	if f.Event != event {
		c.t.Fatalf("got %s (%s), want %s", f.Event, msg, event)
	}
	return f
}

// untilPong sends a ping and returns every message before the pong; ok is
// false if the connection closed first.
func (c *rawClient) untilPong() (before [][]byte, ok bool) {
	c.t.Helper()
	if err := c.write(`{"event":"pusher:ping","data":{}}`); err != nil {
		return nil, false
	}
	for {
		msg, ok := c.next()
		if !ok {
			return before, false
		}
		var f frame
		if json.Unmarshal(msg, &f) == nil && f.Event == evPong {
			return before, true
		}
		before = append(before, msg)
	}
}

// TestBadInputServerSendsOnlyValidUTF8 checks that the server never writes
// a text frame that is not valid UTF-8, whatever a client sent: RFC 6455
// §8.1 makes a browser fail the whole connection on one (close 1007), so
// such a frame would disconnect every pusher-js client that receives it.
func TestBadInputServerSendsOnlyValidUTF8(t *testing.T) {
	s := newTestServer(t, Options{})

	t.Run("subscription_error for a long non-ASCII channel name", func(t *testing.T) {
		c := dialRaw(t, s, testApp.Key)
		// 165 bytes whose last character is two bytes wide: cutting the
		// name to 164 bytes would split it.
		name := strings.Repeat("a", 163) + "é"
		b, err := json.Marshal(map[string]any{"event": evSubscribe, "data": map[string]string{"channel": name}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.write(string(b)); err != nil {
			t.Fatal(err)
		}
		msg, ok := c.next()
		if !ok {
			t.Fatal("connection closed")
		}
		if !utf8.Valid(msg) {
			t.Errorf("subscription_error is not valid UTF-8: %q", msg)
		}
		if _, ok := c.untilPong(); !ok {
			t.Error("connection closed")
		}
	})

	t.Run("client event data carrying invalid UTF-8", func(t *testing.T) {
		sender, receiver := dialRaw(t, s, testApp.Key), dialRaw(t, s, testApp.Key)
		for _, c := range []*rawClient{sender, receiver} {
			auth := testApp.Key + ":" + Sign(testApp.Secret, channelAuthMessage(c.socketID, "private-utf8", ""))
			if err := c.write(`{"event":"pusher:subscribe","data":{"channel":"private-utf8","auth":"` + auth + `"}}`); err != nil {
				t.Fatal(err)
			}
			c.expect(evSubscriptionSucceeded)
		}
		// The sender's text frame is itself invalid; the server may refuse
		// it or close the sender (1007), but must not pass it on.
		if err := sender.write("{\"event\":\"client-x\",\"channel\":\"private-utf8\",\"data\":{\"t\":\"\xff\xfe\xc3\"}}"); err != nil {
			t.Fatal(err)
		}
		sender.untilPong() // the event, if relayed, is queued to the receiver by now
		got, ok := receiver.untilPong()
		if !ok {
			t.Fatal("receiver closed")
		}
		for _, msg := range got {
			if !utf8.Valid(msg) {
				t.Errorf("receiver was sent a text frame that is not valid UTF-8: %q", msg)
			}
		}
		freshConnectionWorks(t, s, testApp.Key)
	})
}
