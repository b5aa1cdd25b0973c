package hub

// Fuzz targets for everything a client's bytes reach. The pure parts
// (decoding, channel names, encoding) are fuzzed directly; FuzzHandleFrame
// drives a whole connection in process, without a socket, so it runs fast
// enough for the fuzzer to explore. Crashers the fuzzer found are kept in
// testdata/fuzz and run as regression tests by a plain `go test`.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzApp is the app fuzzed connections belong to.
var fuzzApp = App{ID: "fuzz", Key: "fuzz-key", Secret: "fuzz-secret", Enabled: true, ClientEvents: true}

// The fixed socket ids of the fuzzed connections, so seeds can carry
// valid signatures the fuzzer mutates.
const (
	fuzzSenderSocket   = "1234.5678"
	fuzzReceiverSocket = "8765.4321"
)

// fuzzChannels are the channels both fuzzed connections start subscribed
// to, so client events have somewhere to go.
var fuzzChannels = []string{"public-fuzz", "private-fuzz", "presence-fuzz", "private-encrypted-fuzz"}

// newSocketlessHub returns a hub, shut down at the end of the test, whose
// connections can be built without a socket.
func newSocketlessHub(t testing.TB, app App) (*Hub, *App) {
	t.Helper()
	store, err := NewStaticApps(app)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Apps: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	withDefaults, err := store.AppByKey(context.Background(), app.Key)
	if err != nil {
		t.Fatal(err)
	}
	return h, withDefaults
}

// socketlessConn returns a connection with no socket and no writer: what
// the hub sends it stays queued for takeFrames.
func socketlessConn(h *Hub, app *App, socketID string) *conn {
	c := newConn(h, nil, app, h.state(app.ID))
	c.socketID = socketID
	c.writing = true // as if a writer were running, so none is started
	return c
}

// takeFrames removes and returns the frames queued to c.
func takeFrames(c *conn) [][]byte {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

// closingReason returns why the hub asked c to close, or nil.
func closingReason(c *conn) *Disconnect {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.closing
}

// subscribeFrame returns a correctly signed pusher:subscribe for socketID.
func subscribeFrame(app App, socketID, channel, channelData string) string {
	d := map[string]string{"channel": channel}
	if KindOf(channel).needsAuth() {
		d["auth"] = app.Key + ":" + Sign(app.Secret, channelAuthMessage(socketID, channel, channelData))
	}
	if channelData != "" {
		d["channel_data"] = channelData
	}
	b, _ := json.Marshal(map[string]any{"event": evSubscribe, "data": d})
	return string(b)
}

// signinFrame returns a correctly signed pusher:signin for socketID.
func signinFrame(app App, socketID, userData string) string {
	b, _ := json.Marshal(map[string]any{"event": evSignin, "data": map[string]string{
		"auth":      app.Key + ":" + Sign(app.Secret, userAuthMessage(socketID, userData)),
		"user_data": userData,
	}})
	return string(b)
}

// checkServerFrame checks what every server→client message must be: valid
// UTF-8 (browsers fail a connection on a text frame that is not), a JSON
// object naming its event, and data of the shape pusher-js expects — an
// object for the two error events, raw JSON for relayed client events and
// a string for everything else.
func checkServerFrame(t testing.TB, msg []byte) {
	t.Helper()
	if !utf8.Valid(msg) {
		t.Fatalf("server frame is not valid UTF-8: %q", msg)
	}
	var f struct {
		Event   *string         `json:"event"`
		Channel *string         `json:"channel"`
		Data    json.RawMessage `json:"data"`
		UserID  *string         `json:"user_id"`
	}
	if err := json.Unmarshal(msg, &f); err != nil {
		t.Fatalf("server frame %q is not a JSON object: %v", msg, err)
	}
	if f.Event == nil || *f.Event == "" {
		t.Fatalf("server frame %q has no event", msg)
	}
	switch ev := *f.Event; {
	case ev == evError:
		var d struct {
			Code    json.RawMessage `json:"code"`
			Message *string         `json:"message"`
		}
		err := json.Unmarshal(f.Data, &d)
		var code *int
		if err == nil && d.Code != nil {
			err = json.Unmarshal(d.Code, &code) // a number, or null
		}
		if err != nil || d.Code == nil || d.Message == nil {
			t.Fatalf("pusher:error %q: data must be an object with a code (a number or null) and a message (%v)", msg, err)
		}
	case ev == evSubscriptionError:
		var d struct {
			Type   *string `json:"type"`
			Error  *string `json:"error"`
			Status *int    `json:"status"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil || d.Type == nil || d.Error == nil || d.Status == nil || f.Channel == nil {
			t.Fatalf("subscription_error %q: want channel and data {type, error, status} (%v)", msg, err)
		}
	case strings.HasPrefix(ev, clientEventPrefix):
		if f.Channel == nil || *f.Channel == "" {
			t.Fatalf("client event %q relayed without a channel", msg)
		}
	case ev == evCacheMiss && f.Data == nil:
	default:
		var s string
		if err := json.Unmarshal(f.Data, &s); err != nil {
			t.Fatalf("%s %q: data must be a JSON string: %v", ev, msg, err)
		}
	}
}

// handleFrameSeeds are realistic client messages; signed ones are signed
// for fuzzSenderSocket.
func handleFrameSeeds() []string {
	long := strings.Repeat("a", 164)
	return []string{
		`{"event":"pusher:ping","data":{}}`,
		`{"event":"pusher:ping","data":"{}"}`,
		`{"event":"pusher:pong","data":{}}`,
		`{"event":"pusher:subscribe","data":{"channel":"my-channel"}}`,
		`{"event":"pusher:subscribe","data":"{\"channel\":\"my-channel\"}"}`,
		`{"event":"pusher:subscribe","data":{"auth":"","channel":"cache-prices"}}`,
		`{"event":"pusher:subscribe","data":{"channel":"` + long + `"}}`,
		`{"event":"pusher:subscribe","data":{"channel":"` + long + `é"}}`,
		`{"event":"pusher:subscribe","data":{"channel":"#server-to-user-7"}}`,
		subscribeFrame(fuzzApp, fuzzSenderSocket, "private-orders", ""),
		subscribeFrame(fuzzApp, fuzzSenderSocket, "private-encrypted-vault", ""),
		subscribeFrame(fuzzApp, fuzzSenderSocket, "presence-room", `{"user_id":"7","user_info":{"name":"Seven"}}`),
		subscribeFrame(fuzzApp, fuzzSenderSocket, "presence-room", `{"user_id":7}`),
		subscribeFrame(fuzzApp, fuzzSenderSocket, "presence-cache-room", `{"user_id":"7"}`),
		`{"event":"pusher:subscribe","data":{"channel":"private-orders","auth":"fuzz-key:00"}}`,
		`{"event":"pusher:unsubscribe","data":{"channel":"private-fuzz"}}`,
		`{"event":"pusher:unsubscribe","data":{"channel":"presence-fuzz"}}`,
		signinFrame(fuzzApp, fuzzSenderSocket, `{"id":"7"}`),
		signinFrame(fuzzApp, fuzzSenderSocket, `{"id":"7","user_info":{"name":"Seven"},"watchlist":["8","9"]}`),
		signinFrame(fuzzApp, fuzzSenderSocket, `{"user_info":{}}`),
		`{"event":"pusher:signin","data":{"auth":"fuzz-key:00","user_data":"{\"id\":\"7\"}"}}`,
		`{"event":"client-typing","channel":"private-fuzz","data":{"who":"me"}}`,
		`{"event":"client-typing","channel":"presence-fuzz","data":"text"}`,
		`{"event":"client-message","channel":"private-fuzz","data":{"text":"héllo 😀"}}`,
		`{"event":"client-typing","channel":"presence-fuzz"}`,
		`{"event":"client-typing","channel":"public-fuzz","data":{}}`,
		`{"event":"client-typing","channel":"private-encrypted-fuzz","data":{}}`,
		`{"event":"client-x","channel":"#server-to-user-7","data":{}}`,
		`{"event":"pusher:foo","data":{}}`,
		`{"event":"","data":{}}`,
		`{"data":{}}`,
		`[1,2,3]`,
		`42`,
		`null`,
		``,
		`{"event":"pusher:subscribe","data":{`,
	}
}

// FuzzHandleFrame feeds arbitrary bytes to a connection as one client
// message. Whatever they are, the hub must not panic; every frame it
// sends — to the sender, or relayed to another subscriber — must be a
// well-formed Pusher message; the connection must still answer a ping
// unless the hub closed it with 4009 after a failed sign-in; and once both
// connections are gone no channel, member or user is left behind.
func FuzzHandleFrame(f *testing.F) {
	for _, s := range handleFrameSeeds() {
		f.Add([]byte(s))
	}
	h, app := newSocketlessHub(f, fuzzApp)
	st := h.state(app.ID)
	f.Fuzz(func(t *testing.T, msg []byte) {
		sender := socketlessConn(h, app, fuzzSenderSocket)
		receiver := socketlessConn(h, app, fuzzReceiverSocket)
		defer func() {
			// Undo both even when a check failed, so one failure does not
			// leave state that fails every later input.
			sender.cleanup()
			receiver.cleanup()
		}()
		for _, ch := range fuzzChannels {
			sender.handle([]byte(subscribeFrame(fuzzApp, fuzzSenderSocket, ch, memberData(ch, "sender"))))
			receiver.handle([]byte(subscribeFrame(fuzzApp, fuzzReceiverSocket, ch, memberData(ch, "receiver"))))
		}
		if len(sender.subs) != len(fuzzChannels) || len(receiver.subs) != len(fuzzChannels) {
			t.Fatalf("setup: subscribed to %d and %d channels, want %d", len(sender.subs), len(receiver.subs), len(fuzzChannels))
		}
		takeFrames(sender)
		takeFrames(receiver)

		sender.handle(msg)

		for _, fr := range takeFrames(sender) {
			checkServerFrame(t, fr)
		}
		for _, fr := range takeFrames(receiver) {
			checkServerFrame(t, fr)
		}
		if d := closingReason(sender); d != nil {
			if d.Code != DisconnectUnauthorized.Code {
				t.Fatalf("input %q closed the connection with %d %q; only a failed sign-in (4009) may", msg, d.Code, d.Message)
			}
		} else {
			sender.handle([]byte(`{"event":"pusher:ping","data":{}}`))
			frames := takeFrames(sender)
			if len(frames) != 1 || !bytes.Equal(frames[0], encodeEvent(evPong, "", "{}")) {
				t.Fatalf("after input %q a ping got %q, want one pong", msg, frames)
			}
		}

		sender.cleanup()
		receiver.cleanup()
		if left := st.channels(""); len(left) != 0 {
			t.Fatalf("after input %q and both connections gone, channels remain: %+v", msg, left)
		}
		st.usersMu.Lock()
		users, watchers := len(st.users), len(st.watchers)
		st.usersMu.Unlock()
		if users != 0 || watchers != 0 {
			t.Fatalf("after input %q and both connections gone, %d users and %d watched ids remain", msg, users, watchers)
		}
	})
}

// FuzzInFrame decodes arbitrary bytes as a client message. A decoded
// frame's data is valid JSON (client events relay it verbatim), and
// relaying it produces a valid message carrying the same event, channel,
// data and user id.
func FuzzInFrame(f *testing.F) {
	for _, s := range handleFrameSeeds() {
		f.Add([]byte(s), "7")
	}
	f.Add([]byte(`{"event":"client-a","channel":"private-a","data":null}`), "")
	f.Add([]byte(`{"event":"client-a","channel":"private-a","data": [1, {"b" : 2}] }`), "u\"1")
	f.Fuzz(func(t *testing.T, msg []byte, userID string) {
		var in inFrame
		if json.Unmarshal(msg, &in) != nil {
			return
		}
		if len(in.Data) > 0 && !json.Valid(in.Data) {
			t.Fatalf("decoded data %q is not valid JSON", in.Data)
		}
		if !utf8.Valid(msg) || !utf8.ValidString(userID) {
			return // checked end to end by FuzzHandleFrame
		}
		out := encodeRawEvent(in.Event, in.Channel, in.Data, userID)
		if !utf8.Valid(out) {
			t.Fatalf("encodeRawEvent output is not valid UTF-8: %q", out)
		}
		var got struct {
			Event   string          `json:"event"`
			Channel string          `json:"channel"`
			Data    json.RawMessage `json:"data"`
			UserID  string          `json:"user_id"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("encodeRawEvent output %q is not JSON: %v", out, err)
		}
		if got.Event != in.Event || got.Channel != in.Channel || got.UserID != userID || !bytes.Equal(got.Data, in.Data) {
			t.Fatalf("relayed %q as %q", msg, out)
		}
	})
}

// FuzzDecodeData checks that data JSON-encoded as a string decodes
// exactly as the same data sent as an object, and that decoding never
// panics on anything.
func FuzzDecodeData(f *testing.F) {
	for _, s := range []string{
		`{"channel":"my-channel"}`,
		`{"channel":"presence-room","auth":"key:abc","channel_data":"{\"user_id\":\"7\"}"}`,
		`"{\"channel\":\"my-channel\"}"`,
		`{"auth":"key:abc","user_data":"{\"id\":\"7\"}"}`,
		`null`, `""`, `" "`, `42`, `[]`, ` {} `, `"\"{}\""`, `{"channel":5}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var sub subscribeData
		subErr := decodeData(raw, &sub)
		var sign signinData
		_ = decodeData(raw, &sign)
		var anything any
		_ = decodeData(raw, &anything)

		if subErr != nil || !json.Valid(raw) || !utf8.Valid(raw) {
			return
		}
		if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '"' {
			return // already a string
		}
		wrapped, err := json.Marshal(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		var fromString subscribeData
		if err := decodeData(wrapped, &fromString); err != nil {
			t.Fatalf("%s decodes as an object but %s, the same as a string, fails: %v", raw, wrapped, err)
		}
		if fromString != sub {
			t.Fatalf("%s decodes to %+v as an object but %+v as a string", raw, sub, fromString)
		}
	})
}

// FuzzParseChannelData checks presence channel_data against an
// independent reading: an accepted member has the user_id the JSON holds,
// as a string or as a number's literal, and a bounded user_info that
// encodes into member_added without the hub panicking.
func FuzzParseChannelData(f *testing.F) {
	for _, s := range []string{
		`{"user_id":"7"}`, `{"user_id":7}`, `{"user_id":7.5e3}`, `{"user_id":"7","user_info":{"name":"Ann"}}`,
		`{"user_id":"7","user_info":null}`, `{"user_id":""}`, `{"user_id":null}`, `{"user_id":true}`,
		`{"user_id":{"a":1}}`, `{"user_info":{}}`, `[]`, `"x"`, ``, `{"USER_ID":"7"}`, `{"user_id":"a","user_id":"b"}`,
		`{"user_id":"\u00e9\ud83d\ude00"}`,
	} {
		f.Add(s, uint16(64))
	}
	f.Fuzz(func(t *testing.T, s string, max uint16) {
		id, info, err := parseChannelData(s, int(max))
		if err != nil {
			return
		}
		if id == "" {
			t.Fatalf("%s accepted with an empty user id", s)
		}
		if len(info) > int(max) {
			t.Fatalf("%s accepted with %d bytes of user_info, limit %d", s, len(info), max)
		}
		if info != nil && (!json.Valid(info) || string(info) == "null") {
			t.Fatalf("%s accepted with user_info %q", s, info)
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var ref struct {
			UserID any `json:"user_id"`
		}
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("%s accepted but is not a JSON object: %v", s, err)
		}
		var want string
		switch v := ref.UserID.(type) {
		case string:
			want = v
		case json.Number:
			want = v.String()
		default:
			t.Fatalf("%s accepted with user_id %#v", s, ref.UserID)
		}
		if id != want {
			t.Fatalf("%s: user id %q, want %q", s, id, want)
		}
		if utf8.ValidString(s) {
			checkServerFrame(t, encodeJSONEvent(evMemberAdded, "presence-x", memberAddedData{UserID: id, UserInfo: info}))
		}
	})
}

// validChannelNameRe is an independent statement of Pusher's channel name
// rules.
var validChannelNameRe = regexp.MustCompile(`^(#server-to-user-)?[A-Za-z0-9_\-=@,.;]+$`)

func FuzzValidateChannelName(f *testing.F) {
	for _, s := range []string{
		"my-channel", "private-a", "presence-a", "private-encrypted-a", "cache-a", "#server-to-user-7",
		"#server-to-user-", "#server-to-user-#", "a b", "café", strings.Repeat("a", 164), strings.Repeat("a", 165),
		"", "_-=@,.;", "a\x00", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateChannelName(name)
		want := len(name) <= MaxChannelNameLen && validChannelNameRe.MatchString(name)
		if (err == nil) != want {
			t.Fatalf("ValidateChannelName(%q) = %v, want valid %v", name, err, want)
		}
		if err == nil {
			return
		}
		if !errors.Is(err, ErrInvalidChannelName) {
			t.Fatalf("ValidateChannelName(%q) = %v, which does not wrap ErrInvalidChannelName", name, err)
		}
		if !utf8.ValidString(err.Error()) {
			t.Fatalf("ValidateChannelName(%q): message %q is not valid UTF-8", name, err.Error())
		}
	})
}

// FuzzAppendJSONString checks that appendJSONString writes a JSON string
// that decodes back to its input, byte for byte, for any valid UTF-8, and
// keeps what the buffer already held.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{
		"", "plain", `{"a":"b"}`, "quote \" backslash \\", "\n\r\t\b\f\x00\x1f\x7f",
		"<script>&amp;</script>", "\u2028\u2029", "é😀日本", "\xff", "\\u0000",
	} {
		f.Add("prefix:", s)
	}
	f.Fuzz(func(t *testing.T, prefix, s string) {
		out := appendJSONString([]byte(prefix), s)
		if !bytes.HasPrefix(out, []byte(prefix)) {
			t.Fatalf("appendJSONString(%q, %q) = %q lost the prefix", prefix, s, out)
		}
		enc := out[len(prefix):]
		if !json.Valid(enc) {
			t.Fatalf("appendJSONString(%q) = %q is not valid JSON", s, enc)
		}
		if !utf8.ValidString(s) {
			return
		}
		if !utf8.Valid(enc) {
			t.Fatalf("appendJSONString(%q) = %q is not valid UTF-8", s, enc)
		}
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("appendJSONString(%q) = %q: %v", s, enc, err)
		}
		if got != s {
			t.Fatalf("appendJSONString(%q) = %q decodes to %q", s, enc, got)
		}
	})
}

// FuzzEncodeEvent checks that encodeEvent writes one valid JSON object
// whose event, channel (absent when empty) and string data decode to its
// inputs.
func FuzzEncodeEvent(f *testing.F) {
	f.Add("my-event", "my-channel", `{"message":"hello"}`)
	f.Add("pusher:pong", "", "{}")
	f.Add("pusher_internal:subscription_succeeded", "presence-room", `{"presence":{"ids":["7"],"hash":{"7":null},"count":1}}`)
	f.Add("e", "#server-to-user-7", "quote \" backslash \\ newline \n <b>&</b> é")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, event, channel, data string) {
		if !utf8.ValidString(event) || !utf8.ValidString(channel) || !utf8.ValidString(data) {
			return
		}
		out := encodeEvent(event, channel, data)
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("encodeEvent(%q, %q, %q) = %q is not a JSON object: %v", event, channel, data, out, err)
		}
		field := func(name string) (string, bool) {
			raw, ok := got[name]
			if !ok {
				return "", false
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("%s field %s is not a string: %v", name, raw, err)
			}
			return s, true
		}
		if s, _ := field("event"); s != event {
			t.Fatalf("event decodes to %q, want %q", s, event)
		}
		if s, ok := field("channel"); s != channel || ok != (channel != "") {
			t.Fatalf("channel decodes to %q (present %v), want %q", s, ok, channel)
		}
		if s, ok := field("data"); s != data || !ok {
			t.Fatalf("data decodes to %q (present %v), want %q", s, ok, data)
		}
		if len(got) != 2+btoi(channel != "") {
			t.Fatalf("encodeEvent(%q, %q, %q) = %q has unexpected fields", event, channel, data, out)
		}
		if !utf8.Valid(out) {
			t.Fatalf("encodeEvent output %q is not valid UTF-8", out)
		}
	})
}

// FuzzEncodeErrorFrames checks pusher:error and pusher:subscription_error
// round trips for any code, message and channel.
func FuzzEncodeErrorFrames(f *testing.F) {
	f.Add(4001, "Application does not exist", "private-room", "AuthError")
	f.Add(0, "", "", "")
	f.Add(-1, "quote \" \\ \n é", "a\"b", "T")
	f.Fuzz(func(t *testing.T, code int, message, channel, typ string) {
		if !utf8.ValidString(message) || !utf8.ValidString(channel) || !utf8.ValidString(typ) {
			return
		}
		out := encodeError(code, message)
		checkServerFrame(t, out)
		var e struct {
			Data struct {
				Code    *int   `json:"code"`
				Message string `json:"message"`
			} `json:"data"`
		}
		if err := json.Unmarshal(out, &e); err != nil {
			t.Fatal(err)
		}
		if e.Data.Message != message || (code != 0 && (e.Data.Code == nil || *e.Data.Code != code)) || (code == 0 && e.Data.Code != nil) {
			t.Fatalf("encodeError(%d, %q) = %q", code, message, out)
		}

		out = encodeSubscriptionError(channel, typ, message, code)
		checkServerFrame(t, out)
		var se struct {
			Channel string                `json:"channel"`
			Data    subscriptionErrorData `json:"data"`
		}
		if err := json.Unmarshal(out, &se); err != nil {
			t.Fatal(err)
		}
		if se.Channel != channel || se.Data != (subscriptionErrorData{Type: typ, Error: message, Status: code}) {
			t.Fatalf("encodeSubscriptionError(%q, %q, %q, %d) = %q", channel, typ, message, code, out)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
