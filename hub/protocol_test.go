package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestValidateChannelName checks the channel name rules of Pusher's
// protocol: 1–164 characters of [A-Za-z0-9_\-=@,.;], or the reserved
// #server-to-user-{id} whose id follows the same rules.
func TestValidateChannelName(t *testing.T) {
	valid := []struct {
		name, channel string
	}{
		{"lower case", "abc"},
		{"upper case", "ABC"},
		{"digits", "0123456789"},
		{"underscore", "a_b"},
		{"hyphen", "a-b"},
		{"equals", "a=b"},
		{"at", "a@b"},
		{"comma", "a,b"},
		{"dot", "a.b"},
		{"semicolon", "a;b"},
		{"every allowed punctuation", "_-=@,.;"},
		{"every allowed character", "azAZ09_-=@,.;"},
		{"one character", "a"},
		{"164 characters", strings.Repeat("a", 164)},
		{"private", "private-room"},
		{"presence", "presence-room"},
		{"private encrypted", "private-encrypted-room"},
		{"cache", "cache-room"},
		{"presence cache", "presence-cache-room"},
		{"server to user", "#server-to-user-abc"},
		{"server to user with punctuation", "#server-to-user-a_b-c=d@e,f.g;h"},
		{"server to user of 164 characters", "#server-to-user-" + strings.Repeat("x", 164-len("#server-to-user-"))},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.name, func(t *testing.T) {
			if err := ValidateChannelName(tc.channel); err != nil {
				t.Errorf("ValidateChannelName(%q) = %v, want nil", tc.channel, err)
			}
		})
	}

	invalid := []struct {
		name, channel string
	}{
		{"empty", ""},
		{"165 characters", strings.Repeat("a", 165)},
		{"server to user of 165 characters", "#server-to-user-" + strings.Repeat("x", 165-len("#server-to-user-"))},
		{"space", "a b"},
		{"leading space", " abc"},
		{"trailing space", "abc "},
		{"tab", "a\tb"},
		{"newline", "a\nb"},
		{"NUL", "a\x00b"},
		{"slash", "a/b"},
		{"colon", "a:b"},
		{"star", "a*b"},
		{"plus", "a+b"},
		{"quote", `a"b`},
		{"hash in the middle", "a#b"},
		{"hash at the start", "#abc"},
		{"hash at the end", "abc#"},
		{"hash in a user id", "#server-to-user-a#b"},
		{"server to user prefix without the hash", "server-to-user-#abc"},
		{"server to user without an id", "#server-to-user-"},
		{"server to user with a bad id", "#server-to-user-a b"},
		{"unicode letter", "café"},
		{"unicode only", "日本"},
		{"emoji", "room-😀"},
		{"invalid UTF-8", "a\xffb"},
	}
	for _, tc := range invalid {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			err := ValidateChannelName(tc.channel)
			if err == nil {
				t.Fatalf("ValidateChannelName(%q) = nil, want an error", tc.channel)
			}
			if !errors.Is(err, ErrInvalidChannelName) {
				t.Errorf("ValidateChannelName(%q) = %v, want it to wrap ErrInvalidChannelName", tc.channel, err)
			}
			// The message is sent to the client in a text frame.
			if !utf8.ValidString(err.Error()) {
				t.Errorf("error message %q is not valid UTF-8", err.Error())
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		channel string
		want    ChannelKind
	}{
		{"room", KindPublic},
		{"", KindPublic},
		{"cache-room", KindPublic},
		{"privateroom", KindPublic},
		{"presenceroom", KindPublic},
		{"Private-room", KindPublic},
		{"server-to-user-7", KindPublic},
		{"private-room", KindPrivate},
		{"private-", KindPrivate},
		{"private-cache-room", KindPrivate},
		{"private-encryptedroom", KindPrivate},
		{"private-encrypted-room", KindPrivateEncrypted},
		{"private-encrypted-", KindPrivateEncrypted},
		{"private-encrypted-cache-room", KindPrivateEncrypted},
		{"presence-room", KindPresence},
		{"presence-", KindPresence},
		{"presence-cache-room", KindPresence},
		{"#server-to-user-7", KindServerToUser},
	}
	for _, tc := range tests {
		t.Run(tc.channel, func(t *testing.T) {
			if got := KindOf(tc.channel); got != tc.want {
				t.Errorf("KindOf(%q) = %d, want %d", tc.channel, got, tc.want)
			}
		})
	}
}

func TestChannelKindNeedsAuth(t *testing.T) {
	tests := []struct {
		kind ChannelKind
		want bool
	}{
		{KindPublic, false},
		{KindPrivate, true},
		{KindPrivateEncrypted, true},
		{KindPresence, true},
		// Sign-in, not a channel signature, authorizes a user's own channel.
		{KindServerToUser, false},
	}
	for _, tc := range tests {
		if got := tc.kind.needsAuth(); got != tc.want {
			t.Errorf("kind %d needsAuth() = %v, want %v", tc.kind, got, tc.want)
		}
	}
}

func TestIsCacheChannel(t *testing.T) {
	tests := []struct {
		channel string
		want    bool
	}{
		{"cache-room", true},
		{"cache-", true},
		{"private-cache-room", true},
		{"private-encrypted-cache-room", true},
		{"presence-cache-room", true},
		{"room", false},
		{"", false},
		{"cache", false},
		{"cacheroom", false},
		{"room-cache-x", false},
		{"private-room", false},
		{"private-encrypted-room", false},
		{"presence-room", false},
		{"private-encrypted-cacheroom", false},
		{"Cache-room", false},
		{"#server-to-user-cache-7", false},
	}
	for _, tc := range tests {
		t.Run(tc.channel, func(t *testing.T) {
			if got := IsCacheChannel(tc.channel); got != tc.want {
				t.Errorf("IsCacheChannel(%q) = %v, want %v", tc.channel, got, tc.want)
			}
		})
	}
}

// TestEncodeError checks pusher:error's shape: unlike every other server
// event, its data is an object, {"code":…,"message":…}.
func TestEncodeError(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		message string
		want    string
	}{
		{"app not found", 4001, "Application does not exist",
			`{"event":"pusher:error","data":{"code":4001,"message":"Application does not exist"}}`},
		{"bad message", 4300, "malformed message",
			`{"event":"pusher:error","data":{"code":4300,"message":"malformed message"}}`},
		{"no code is null", 0, "x",
			`{"event":"pusher:error","data":{"code":null,"message":"x"}}`},
		{"message is escaped", 4301, "quote \" backslash \\ newline \n tab \t nul \x00",
			`{"event":"pusher:error","data":{"code":4301,"message":"quote \" backslash \\ newline \n tab \t nul \u0000"}}`},
		{"HTML is not escaped", 4009, "<b>&</b>",
			`{"event":"pusher:error","data":{"code":4009,"message":"<b>&</b>"}}`},
		{"unicode passes through", 4300, "café 😀",
			`{"event":"pusher:error","data":{"code":4300,"message":"café 😀"}}`},
		{"empty message", 4200, "",
			`{"event":"pusher:error","data":{"code":4200,"message":""}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeError(tc.code, tc.message)
			if string(got) != tc.want {
				t.Errorf("encodeError(%d, %q)\n got %s\nwant %s", tc.code, tc.message, got, tc.want)
			}
			var f struct {
				Event string                     `json:"event"`
				Data  map[string]json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(got, &f); err != nil {
				t.Fatalf("not a JSON object with object data: %v", err)
			}
			if f.Event != "pusher:error" {
				t.Errorf("event %q, want pusher:error", f.Event)
			}
			var msg string
			if err := json.Unmarshal(f.Data["message"], &msg); err != nil || msg != tc.message {
				t.Errorf("data.message = %s (%v), want %q", f.Data["message"], err, tc.message)
			}
			if tc.code != 0 {
				var code int
				if err := json.Unmarshal(f.Data["code"], &code); err != nil || code != tc.code {
					t.Errorf("data.code = %s (%v), want %d", f.Data["code"], err, tc.code)
				}
			}
		})
	}
}

// TestEncodeSubscriptionError checks the shape pusher-js reads from
// pusher:subscription_error: data is an object {type, error, status}.
func TestEncodeSubscriptionError(t *testing.T) {
	tests := []struct {
		name                 string
		channel, typ, errMsg string
		status               int
		want                 string
	}{
		{"auth error", "private-room", "AuthError", "invalid signature", 401,
			`{"event":"pusher:subscription_error","channel":"private-room","data":{"type":"AuthError","error":"invalid signature","status":401}}`},
		{"invalid channel", "a b", "InvalidChannel", `character ' ' not allowed`, 400,
			`{"event":"pusher:subscription_error","channel":"a b","data":{"type":"InvalidChannel","error":"character ' ' not allowed","status":400}}`},
		{"limit", "room", "LimitReached", "at most 100 channels", 403,
			`{"event":"pusher:subscription_error","channel":"room","data":{"type":"LimitReached","error":"at most 100 channels","status":403}}`},
		{"escaping", "a\"\\\n", "T\"", "e\x01", 400,
			`{"event":"pusher:subscription_error","channel":"a\"\\\n","data":{"type":"T\"","error":"e\u0001","status":400}}`},
		{"empty channel", "", "InvalidChannel", "length", 400,
			`{"event":"pusher:subscription_error","channel":"","data":{"type":"InvalidChannel","error":"length","status":400}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeSubscriptionError(tc.channel, tc.typ, tc.errMsg, tc.status)
			if string(got) != tc.want {
				t.Errorf("encodeSubscriptionError\n got %s\nwant %s", got, tc.want)
			}
			var f struct {
				Event   string `json:"event"`
				Channel string `json:"channel"`
				Data    struct {
					Type   string `json:"type"`
					Error  string `json:"error"`
					Status int    `json:"status"`
				} `json:"data"`
			}
			if err := json.Unmarshal(got, &f); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			if f.Event != "pusher:subscription_error" || f.Channel != tc.channel ||
				f.Data.Type != tc.typ || f.Data.Error != tc.errMsg || f.Data.Status != tc.status {
				t.Errorf("decoded %+v, want channel %q type %q error %q status %d", f, tc.channel, tc.typ, tc.errMsg, tc.status)
			}
		})
	}
}

// TestEncodeEventDataIsAString checks the rule every server event but
// pusher:error follows: data is a JSON string, even when it holds JSON.
func TestEncodeEventDataIsAString(t *testing.T) {
	tests := []struct {
		name                 string
		event, channel, data string
		want                 string
	}{
		{"with channel", "my-event", "room", `{"a":1}`,
			`{"event":"my-event","channel":"room","data":"{\"a\":1}"}`},
		{"without channel", "pusher:pong", "", "{}",
			`{"event":"pusher:pong","data":"{}"}`},
		{"plain text data", "e", "c", "hello",
			`{"event":"e","channel":"c","data":"hello"}`},
		{"empty data", "e", "c", "",
			`{"event":"e","channel":"c","data":""}`},
		{"HTML and U+2028 pass through", "e", "c", "<a>&\u2028",
			"{\"event\":\"e\",\"channel\":\"c\",\"data\":\"<a>&\u2028\"}"},
		{"control characters are escaped", "e", "c", "\b\f\x1f\x7f",
			`{"event":"e","channel":"c","data":"\u0008\u000c\u001f` + "\x7f" + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeEvent(tc.event, tc.channel, tc.data)
			if string(got) != tc.want {
				t.Errorf("encodeEvent(%q, %q, %q)\n got %s\nwant %s", tc.event, tc.channel, tc.data, got, tc.want)
			}
		})
	}
}

// hmacSHA256Hex is the reference the test checks Sign against, written
// with crypto/hmac directly.
func hmacSHA256Hex(t testing.TB, secret, msg string) string {
	t.Helper()
	m := hmac.New(sha256.New, []byte(secret))
	if _, err := m.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(m.Sum(nil))
}

func TestSign(t *testing.T) {
	tests := []struct {
		name, secret, msg string
		// want is a published vector; empty means only the crypto/hmac
		// reference is checked.
		want string
	}{
		{"RFC 4231 test case 2", "Jefe", "what do ya want for nothing?",
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"Pusher docs private channel example", "7ad3773142a6692b25b8", "1234.1234:private-foobar",
			"58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"},
		{"presence channel string", "7ad3773142a6692b25b8",
			`1234.1234:presence-foobar:{"user_id":10,"user_info":{"name":"Mr. Channels"}}`, ""},
		{"user sign-in string", testApp.Secret, `1234.1234::user::{"id":"7"}`, ""},
		{"empty message", "secret-1-long", "", ""},
		{"secret longer than a block", strings.Repeat("k", 200), "m", ""},
		{"binary and unicode", "s\x00é", "m\xff😀", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Sign(tc.secret, tc.msg)
			if ref := hmacSHA256Hex(t, tc.secret, tc.msg); got != ref {
				t.Errorf("Sign = %s, crypto/hmac says %s", got, ref)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("Sign = %s, published vector %s", got, tc.want)
			}
			if len(got) != 64 || strings.ToLower(got) != got {
				t.Errorf("Sign = %q, want 64 lower-case hex digits", got)
			}
		})
	}
}

// TestCheckAuth checks what a channel or sign-in auth must be: the app's
// own key, a colon, and the hex signature of exactly the signed string.
func TestCheckAuth(t *testing.T) {
	app := testApp
	msg := channelAuthMessage("1234.5678", "private-room", "")
	sig := Sign(app.Secret, msg)
	tests := []struct {
		name string
		auth string
		want bool
	}{
		{"valid", app.Key + ":" + sig, true},
		{"wrong key", "other-key:" + sig, false},
		{"no key", ":" + sig, false},
		{"no colon", app.Key + sig, false},
		{"empty", "", false},
		{"wrong secret", app.Key + ":" + Sign("another-secret", msg), false},
		{"upper-case hex", app.Key + ":" + strings.ToUpper(sig), false},
		{"truncated signature", app.Key + ":" + sig[:63], false},
		{"extra character", app.Key + ":" + sig + "0", false},
		{"another socket", app.Key + ":" + Sign(app.Secret, channelAuthMessage("1234.5679", "private-room", "")), false},
		{"another channel", app.Key + ":" + Sign(app.Secret, channelAuthMessage("1234.5678", "private-other", "")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkAuth(&app, tc.auth, msg); got != tc.want {
				t.Errorf("checkAuth(%q) = %v, want %v", tc.auth, got, tc.want)
			}
		})
	}
}

// TestAuthMessages pins the strings Pusher signs.
func TestAuthMessages(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"private", channelAuthMessage("1.2", "private-a", ""), "1.2:private-a"},
		{"presence", channelAuthMessage("1.2", "presence-a", `{"user_id":"7"}`), `1.2:presence-a:{"user_id":"7"}`},
		{"user", userAuthMessage("1.2", `{"id":"7"}`), `1.2::user::{"id":"7"}`},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// TestDecodeData checks that subscribe and sign-in data is accepted both
// as an object and as a JSON-encoded string of one, as some clients send.
func TestDecodeData(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    subscribeData
		wantErr bool
	}{
		{"object", `{"channel":"room"}`, subscribeData{Channel: "room"}, false},
		{"string holding an object", `"{\"channel\":\"room\",\"auth\":\"k:s\"}"`, subscribeData{Channel: "room", Auth: "k:s"}, false},
		{"surrounding whitespace", " \n{\"channel\":\"room\"} ", subscribeData{Channel: "room"}, false},
		{"presence fields", `{"channel":"presence-a","auth":"k:s","channel_data":"{\"user_id\":\"7\"}"}`,
			subscribeData{Channel: "presence-a", Auth: "k:s", ChannelData: `{"user_id":"7"}`}, false},
		{"null", `null`, subscribeData{}, false},
		{"missing", ``, subscribeData{}, true},
		{"empty string", `""`, subscribeData{}, true},
		{"number", `42`, subscribeData{}, true},
		{"array", `[1]`, subscribeData{}, true},
		{"string not holding JSON", `"room"`, subscribeData{}, true},
		{"doubly encoded", `"\"{\\\"channel\\\":\\\"room\\\"}\""`, subscribeData{}, true},
		{"unterminated string", `"{`, subscribeData{}, true},
		{"channel of the wrong type", `{"channel":5}`, subscribeData{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got subscribeData
			err := decodeData(json.RawMessage(tc.raw), &got)
			if (err != nil) != tc.wantErr {
				t.Fatalf("decodeData(%s) error = %v, want error %v", tc.raw, err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("decodeData(%s) = %+v, want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

// TestParseChannelData checks presence channel_data: a non-empty user_id,
// string or number, and a bounded optional user_info.
func TestParseChannelData(t *testing.T) {
	const max = 32
	tests := []struct {
		name     string
		data     string
		wantID   string
		wantInfo string
		wantErr  bool
	}{
		{"string id", `{"user_id":"7"}`, "7", "", false},
		{"number id", `{"user_id":7}`, "7", "", false},
		{"big number id keeps its digits", `{"user_id":12345678901234567890}`, "12345678901234567890", "", false},
		{"with info", `{"user_id":"7","user_info":{"name":"Ann"}}`, "7", `{"name":"Ann"}`, false},
		{"null info", `{"user_id":"7","user_info":null}`, "7", "", false},
		{"info at the limit", `{"user_id":"7","user_info":"` + strings.Repeat("x", max-2) + `"}`, "7", `"` + strings.Repeat("x", max-2) + `"`, false},
		{"info over the limit", `{"user_id":"7","user_info":"` + strings.Repeat("x", max-1) + `"}`, "", "", true},
		{"not JSON", `user 7`, "", "", true},
		{"empty", ``, "", "", true},
		{"array", `["7"]`, "", "", true},
		{"string", `"7"`, "", "", true},
		{"missing user_id", `{"user_info":{}}`, "", "", true},
		{"null user_id", `{"user_id":null}`, "", "", true},
		{"empty user_id", `{"user_id":""}`, "", "", true},
		{"bool user_id", `{"user_id":true}`, "", "", true},
		{"object user_id", `{"user_id":{"id":"7"}}`, "", "", true},
		{"array user_id", `{"user_id":["7"]}`, "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, info, err := parseChannelData(tc.data, max)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseChannelData(%s) error = %v, want error %v", tc.data, err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if id != tc.wantID || string(info) != tc.wantInfo {
				t.Errorf("parseChannelData(%s) = %q, %s; want %q, %s", tc.data, id, info, tc.wantID, tc.wantInfo)
			}
		})
	}
}

// TestSigninSuccessOnlyOnceSignedIn checks the order sign-in takes: the
// connection is in the user index before pusher:signin_success goes out.
// A client (or its backend) that acts on signin_success — an event sent to
// #server-to-user-{id}, terminate_connections — must find it signed in.
//
// The test holds the user index's lock while the connection handles the
// sign-in, and watches its queue: signin_success must not appear while the
// index cannot yet have recorded the user.
func TestSigninSuccessOnlyOnceSignedIn(t *testing.T) {
	h, app := newSocketlessHub(t, fuzzApp)
	st := h.state(app.ID)
	for i := range 20 {
		user := fmt.Sprintf("user-%d", i)
		c := socketlessConn(h, app, fuzzSenderSocket)
		st.usersMu.Lock()
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.handle([]byte(signinFrame(fuzzApp, fuzzSenderSocket, `{"id":"`+user+`"}`)))
		}()
		announced := false
		for range 10000 {
			runtime.Gosched()
			c.wmu.Lock()
			announced = len(c.queue) > 0
			c.wmu.Unlock()
			if announced {
				break
			}
		}
		recorded := len(st.users[user]) > 0
		st.usersMu.Unlock()
		<-done
		if announced && !recorded {
			t.Fatalf("pusher:signin_success was queued (%q) before the user index recorded %s", takeFrames(c), user)
		}
		if frames := takeFrames(c); len(frames) != 1 || !strings.Contains(string(frames[0]), evSigninSuccess) {
			t.Fatalf("sign-in answered %q, want signin_success", frames)
		}
		c.cleanup()
	}
}
