package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The shapes below follow Twilio's documented requests to a Messaging
// webhook: an application/x-www-form-urlencoded POST carrying one
// incoming message (MessageSid, AccountSid, From, To, Body, NumMedia,
// MediaUrl{N}, MediaContentType{N} and optional geographic fields), and
// to a status callback: one delivery status of an outgoing message
// (MessageSid, MessageStatus, ErrorCode).

// MaxMedia is the most media items Twilio attaches to one MMS.
const MaxMedia = 10

// Media is one attachment of an MMS: its URL on Twilio's media store and
// its content type. server/media downloads it after the message is stored.
type Media struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

// Inbound is one incoming message.
type Inbound struct {
	MessageSID          string
	AccountSID          string
	MessagingServiceSID string
	// From is the sender (E.164 for SMS and MMS) and To the inbox's
	// number it was sent to.
	From  string
	To    string
	Body  string
	Media []Media
	// Params are every parameter as received, kept in the stored
	// message's content.
	Params url.Values
}

// ErrNotMessage is returned by Parse for a form that is not an incoming
// message: no message SID, account or sender.
var ErrNotMessage = errors.New("twilio: not an incoming message")

// Parse reads an incoming-message webhook form. A form without a message
// SID, an account SID or a sender is an error; a malformed media item of
// an otherwise good message is a problem, and the rest of the message is
// still delivered.
func Parse(form url.Values) (in Inbound, problems []string, err error) {
	form = storable(form)
	in = Inbound{
		MessageSID:          firstOf(form, "MessageSid", "SmsMessageSid", "SmsSid"),
		AccountSID:          strings.TrimSpace(form.Get("AccountSid")),
		MessagingServiceSID: strings.TrimSpace(form.Get("MessagingServiceSid")),
		From:                strings.TrimSpace(form.Get("From")),
		To:                  strings.TrimSpace(form.Get("To")),
		Body:                form.Get("Body"),
		Params:              form,
	}
	switch {
	case in.MessageSID == "":
		return Inbound{}, nil, fmt.Errorf("%w: no MessageSid", ErrNotMessage)
	case in.AccountSID == "":
		return Inbound{}, nil, fmt.Errorf("%w: no AccountSid", ErrNotMessage)
	case in.From == "":
		return Inbound{}, nil, fmt.Errorf("%w: no From", ErrNotMessage)
	case len(in.From) > maxAddressBytes || strings.Contains(in.From, ":"):
		// "whatsapp:+1…", "messenger:…": another channel's address, sent
		// to this SMS inbox's webhook by mistake.
		return Inbound{}, nil, fmt.Errorf("%w: From %.40q is not an SMS sender", ErrNotMessage, in.From)
	}
	// NumMedia says how many MediaUrl{N} there are; when it is not a
	// count, every MediaUrl{N} present is kept instead.
	n, scan := 0, false
	if raw := strings.TrimSpace(form.Get("NumMedia")); raw != "" {
		var err error
		n, err = strconv.Atoi(raw)
		if err != nil || n < 0 || n > MaxMedia {
			problems = append(problems, fmt.Sprintf("message %s: NumMedia %.20q is not a count from 0 to %d", in.MessageSID, raw, MaxMedia))
			n, scan = MaxMedia, true
		}
	}
	for i := range n {
		u := strings.TrimSpace(form.Get("MediaUrl" + strconv.Itoa(i)))
		if u == "" && scan {
			continue
		}
		if !httpURL(u) {
			problems = append(problems, fmt.Sprintf("message %s: MediaUrl%d %.80q is not an http(s) URL", in.MessageSID, i, u))
			continue
		}
		in.Media = append(in.Media, Media{URL: u, ContentType: strings.TrimSpace(form.Get("MediaContentType" + strconv.Itoa(i)))})
	}
	return in, problems, nil
}

// StatusUpdate is one status callback: where a message this inbox sent
// has got to.
type StatusUpdate struct {
	MessageSID string
	AccountSID string
	// Status is Twilio's: queued, sending, sent, delivered, undelivered,
	// failed, read, canceled, …
	Status       string
	ErrorCode    string
	ErrorMessage string
}

// ErrNotStatus is returned by ParseStatus for a form that is not a status
// callback.
var ErrNotStatus = errors.New("twilio: not a message status callback")

// ParseStatus reads a status callback form.
func ParseStatus(form url.Values) (StatusUpdate, error) {
	form = storable(form)
	s := StatusUpdate{
		MessageSID:   firstOf(form, "MessageSid", "SmsSid"),
		AccountSID:   strings.TrimSpace(form.Get("AccountSid")),
		Status:       strings.ToLower(firstOf(form, "MessageStatus", "SmsStatus")),
		ErrorCode:    strings.TrimSpace(form.Get("ErrorCode")),
		ErrorMessage: strings.TrimSpace(form.Get("ErrorMessage")),
	}
	switch {
	case s.MessageSID == "":
		return StatusUpdate{}, fmt.Errorf("%w: no MessageSid", ErrNotStatus)
	case s.Status == "":
		return StatusUpdate{}, fmt.Errorf("%w: no MessageStatus", ErrNotStatus)
	}
	return s, nil
}

// maxAddressBytes bounds a sender: E.164 numbers are at most 16 bytes,
// short codes and alphanumeric sender ids shorter still.
const maxAddressBytes = 32

// storable returns form with every name and value valid UTF-8 without
// NUL bytes, as Postgres keeps neither invalid UTF-8 in text nor
// \u0000 in JSONB; refusing them would make Twilio retry forever.
func storable(form url.Values) url.Values {
	clean := func(s string) string {
		return strings.ReplaceAll(strings.ToValidUTF8(s, "\ufffd"), "\x00", "\ufffd")
	}
	out := make(url.Values, len(form))
	for name, values := range form {
		cv := make([]string, len(values))
		for i, v := range values {
			cv[i] = clean(v)
		}
		name = clean(name)
		out[name] = append(out[name], cv...)
	}
	return out
}

// firstOf returns the first non-blank value of the names, trimmed.
func firstOf(form url.Values, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(form.Get(n)); v != "" {
			return v
		}
	}
	return ""
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
