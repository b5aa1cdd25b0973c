package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Pusher protocol event names.
const (
	evConnectionEstablished = "pusher:connection_established"
	evError                 = "pusher:error"
	evPing                  = "pusher:ping"
	evPong                  = "pusher:pong"
	evSubscribe             = "pusher:subscribe"
	evUnsubscribe           = "pusher:unsubscribe"
	evSignin                = "pusher:signin"
	evSigninSuccess         = "pusher:signin_success"
	evSubscriptionError     = "pusher:subscription_error"
	evCacheMiss             = "pusher:cache_miss"
	evSubscriptionSucceeded = "pusher_internal:subscription_succeeded"
	evMemberAdded           = "pusher_internal:member_added"
	evMemberRemoved         = "pusher_internal:member_removed"
	evWatchlistEvents       = "pusher_internal:watchlist_events"
)

// Channel name prefixes, most specific first where they overlap.
const (
	prefixPrivateEncrypted = "private-encrypted-"
	prefixPrivate          = "private-"
	prefixPresence         = "presence-"
	prefixServerToUser     = "#server-to-user-"
	// onlineChannel and prefixWatch are a cluster's internal channels,
	// never valid for clients: who is signed in anywhere, and the
	// online/offline events of one user's watchers.
	onlineChannel     = "#online"
	prefixWatch       = "#watch-"
	clientEventPrefix = "client-"
)

// Name limits from Pusher's protocol reference.
const (
	MaxChannelNameLen = 164
	MaxEventNameLen   = 200
	// MaxWatchlist is the most user ids a sign-in may watch (4302 beyond).
	MaxWatchlist = 100
)

// ErrInvalidChannelName is wrapped by ValidateChannelName.
var ErrInvalidChannelName = errors.New("invalid channel name")

// ValidateChannelName checks a channel name against Pusher's rules: 1–164
// characters of [A-Za-z0-9_\-=@,.;], or the reserved #server-to-user-{id}.
func ValidateChannelName(name string) error {
	if len(name) == 0 || len(name) > MaxChannelNameLen {
		return fmt.Errorf("%w: length must be 1-%d, got %d", ErrInvalidChannelName, MaxChannelNameLen, len(name))
	}
	body := name
	if id, ok := strings.CutPrefix(name, prefixServerToUser); ok {
		if id == "" {
			return fmt.Errorf("%w: %s needs a user id", ErrInvalidChannelName, prefixServerToUser)
		}
		body = id
	}
	for i := 0; i < len(body); i++ {
		if !validChannelByte[body[i]] {
			return fmt.Errorf("%w: character %q not allowed", ErrInvalidChannelName, body[i])
		}
	}
	return nil
}

var validChannelByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_-=@,.;" {
		t[c] = true
	}
	return t
}()

// ChannelKind classifies a channel by its name's prefix.
type ChannelKind uint8

// The channel kinds.
const (
	KindPublic ChannelKind = iota
	KindPrivate
	KindPrivateEncrypted
	KindPresence
	KindServerToUser
)

// KindOf returns the kind of the named channel.
func KindOf(name string) ChannelKind {
	switch {
	case strings.HasPrefix(name, prefixPrivateEncrypted):
		return KindPrivateEncrypted
	case strings.HasPrefix(name, prefixPrivate):
		return KindPrivate
	case strings.HasPrefix(name, prefixPresence):
		return KindPresence
	case strings.HasPrefix(name, prefixServerToUser):
		return KindServerToUser
	}
	return KindPublic
}

// IsPresenceChannel reports whether name is a presence channel.
func IsPresenceChannel(name string) bool { return KindOf(name) == KindPresence }

// IsCacheChannel reports whether name is a cache channel: cache-,
// private-cache-, private-encrypted-cache- or presence-cache-.
func IsCacheChannel(name string) bool {
	for _, p := range [...]string{"cache-", "private-cache-", "private-encrypted-cache-", "presence-cache-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// needsAuth reports whether subscribing to a channel of kind k takes a
// signature.
func (k ChannelKind) needsAuth() bool {
	return k == KindPrivate || k == KindPrivateEncrypted || k == KindPresence
}

// inFrame is any message a client sends. Data stays raw: its shape depends
// on the event, and client events relay it untouched.
type inFrame struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// subscribeData is the data of pusher:subscribe.
type subscribeData struct {
	Channel     string `json:"channel"`
	Auth        string `json:"auth"`
	ChannelData string `json:"channel_data"`
}

// signinData is the data of pusher:signin.
type signinData struct {
	Auth     string `json:"auth"`
	UserData string `json:"user_data"`
}

// decodeData decodes a frame's data into v. Pusher clients send data as an
// object, but some send it JSON-encoded as a string; both are accepted.
func decodeData(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		raw = []byte(s)
	}
	if len(raw) == 0 {
		return errors.New("missing data")
	}
	return json.Unmarshal(raw, v)
}

// encodeEvent encodes a server→client frame whose data is a string: the
// form of every event except pusher:error. channel may be empty.
func encodeEvent(event, channel, data string) []byte {
	b := make([]byte, 0, len(event)+len(channel)+len(data)+48)
	b = append(b, `{"event":`...)
	b = appendJSONString(b, event)
	if channel != "" {
		b = append(b, `,"channel":`...)
		b = appendJSONString(b, channel)
	}
	b = append(b, `,"data":`...)
	b = appendJSONString(b, data)
	return append(b, '}')
}

// encodeRawEvent encodes a frame whose data is relayed as the sender wrote
// it (client events) and optionally carries the sender's user_id.
func encodeRawEvent(event, channel string, data json.RawMessage, userID string) []byte {
	b := make([]byte, 0, len(event)+len(channel)+len(data)+len(userID)+64)
	b = append(b, `{"event":`...)
	b = appendJSONString(b, event)
	b = append(b, `,"channel":`...)
	b = appendJSONString(b, channel)
	if len(data) > 0 {
		b = append(b, `,"data":`...)
		b = append(b, data...)
	}
	if userID != "" {
		b = append(b, `,"user_id":`...)
		b = appendJSONString(b, userID)
	}
	return append(b, '}')
}

// encodeJSONEvent encodes a frame whose data is v, JSON-encoded into a
// string as Pusher does.
func encodeJSONEvent(event, channel string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		// Only our own fixed types reach here; failing to encode them is a bug.
		panic(fmt.Sprintf("hub: encode %s: %v", event, err))
	}
	return encodeEvent(event, channel, string(data))
}

// encodeError encodes pusher:error, whose data is an object, not a string.
func encodeError(code int, message string) []byte {
	b := []byte(`{"event":"pusher:error","data":{"code":`)
	if code == 0 {
		b = append(b, "null"...)
	} else {
		b = fmt.Appendf(b, "%d", code)
	}
	b = append(b, `,"message":`...)
	b = appendJSONString(b, message)
	return append(b, "}}"...)
}

// encodeSubscriptionError encodes pusher:subscription_error in the shape
// pusher-js reads: {type, error, status}.
func encodeSubscriptionError(channel, typ, msg string, status int) []byte {
	b := []byte(`{"event":"pusher:subscription_error","channel":`)
	b = appendJSONString(b, channel)
	b = append(b, `,"data":{"type":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, msg)
	b = fmt.Appendf(b, `,"status":%d}}`, status)
	return b
}

// appendJSONString appends s as a JSON string. It escapes only what JSON
// requires (no HTML escaping), so data round-trips byte for byte.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
