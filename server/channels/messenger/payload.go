package messenger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// The shapes below follow Meta's documented Messenger Platform webhook,
// which Instagram messaging shares: an envelope of entries, one per page
// or Instagram account, each with a list of messaging events. An event
// names its sender and recipient and carries one of a message (an echo
// when the page sent it), a postback, a reaction, a delivery or a read.

// The objects a payload names.
const (
	ObjectPage      = "page"
	ObjectInstagram = "instagram"
)

// objectFor is the object the webhooks of an inbox kind name.
func objectFor(kind store.InboxKind) string {
	if kind == store.InboxInstagram {
		return ObjectInstagram
	}
	return ObjectPage
}

// Payload is a webhook body.
type Payload struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one page's or Instagram account's share of a payload.
// Messaging events are kept raw so each is stored whole in the message's
// content; Standby carries the events of threads another app of the page
// controls (handover protocol), filed all the same so agents see them.
type Entry struct {
	ID        string            `json:"id"`
	Time      int64             `json:"time"`
	Messaging []json.RawMessage `json:"messaging,omitempty"`
	Standby   []json.RawMessage `json:"standby,omitempty"`
}

// Party is the sender or recipient of an event.
type Party struct {
	ID string `json:"id"`
}

// Event is one messaging event.
type Event struct {
	Sender    Party     `json:"sender"`
	Recipient Party     `json:"recipient"`
	Timestamp int64     `json:"timestamp"`
	Message   *Message  `json:"message,omitempty"`
	Postback  *Postback `json:"postback,omitempty"`
	Reaction  *Reaction `json:"reaction,omitempty"`
	Delivery  *Delivery `json:"delivery,omitempty"`
	Read      *Read     `json:"read,omitempty"`
}

// ID is an id Meta sends as a JSON string or number (app_id, sticker_id),
// kept as its decimal text.
type ID string

// UnmarshalJSON accepts a string or a number.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	if string(b) == "null" {
		*id = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id: want a string or a number: %w", err)
	}
	*id = ID(n.String())
	return nil
}

// Message is a message from the customer, or an echo of one the page
// sent.
type Message struct {
	Mid           string       `json:"mid"`
	Text          string       `json:"text,omitempty"`
	IsEcho        bool         `json:"is_echo,omitempty"`
	AppID         ID           `json:"app_id,omitempty"`
	Metadata      string       `json:"metadata,omitempty"`
	IsDeleted     bool         `json:"is_deleted,omitempty"`
	IsUnsupported bool         `json:"is_unsupported,omitempty"`
	StickerID     ID           `json:"sticker_id,omitempty"`
	QuickReply    *QuickReply  `json:"quick_reply,omitempty"`
	Attachments   []Attachment `json:"attachments,omitempty"`
	ReplyTo       *ReplyTo     `json:"reply_to,omitempty"`
}

// QuickReply is the payload of a quick-reply button the customer tapped;
// the message's text is the button's title.
type QuickReply struct {
	Payload string `json:"payload"`
}

// ReplyTo names the message a message answers.
type ReplyTo struct {
	Mid string `json:"mid,omitempty"`
}

// Attachment is an image, video, audio, file, location, sticker, shared
// post, story mention, template or fallback (a link) in a message.
type Attachment struct {
	Type    string             `json:"type"`
	Title   string             `json:"title,omitempty"`
	URL     string             `json:"url,omitempty"`
	Payload *AttachmentPayload `json:"payload,omitempty"`
}

// AttachmentPayload is what an attachment carries. server/media fetches
// the media by URL soon after, as the URL expires after a while.
type AttachmentPayload struct {
	URL         string       `json:"url,omitempty"`
	Title       string       `json:"title,omitempty"`
	StickerID   ID           `json:"sticker_id,omitempty"`
	Coordinates *Coordinates `json:"coordinates,omitempty"`
}

// Coordinates are a shared location's.
type Coordinates struct {
	Lat  float64 `json:"lat"`
	Long float64 `json:"long"`
}

// Postback is the press of a button (a template's, the persistent menu's,
// an Instagram ice breaker).
type Postback struct {
	Mid     string `json:"mid,omitempty"`
	Title   string `json:"title,omitempty"`
	Payload string `json:"payload,omitempty"`
}

// Reaction is an emoji reaction to a message, or its removal (action
// "unreact").
type Reaction struct {
	Mid      string `json:"mid"`
	Action   string `json:"action"`
	Reaction string `json:"reaction,omitempty"`
	Emoji    string `json:"emoji,omitempty"`
}

// Delivery reports the page's messages delivered: those listed, and all
// sent before the watermark (milliseconds since the epoch).
type Delivery struct {
	Mids      []string `json:"mids,omitempty"`
	Watermark int64    `json:"watermark"`
}

// Read reports the page's messages read: on Messenger all sent before the
// watermark (ms), on Instagram (messaging_seen) the message mid and those
// before it.
type Read struct {
	Watermark int64  `json:"watermark,omitempty"`
	Mid       string `json:"mid,omitempty"`
}

// ErrNotMeta is returned by Parse for a JSON body that is not a
// Messenger or Instagram webhook.
var ErrNotMeta = errors.New("messenger: not a page or instagram webhook")

// Inbound is one message, postback or reaction with what the inbox needs
// to file it.
type Inbound struct {
	// AccountID is the entry's id: the page's or Instagram account's.
	AccountID string
	Event     Event
	// Raw is the event exactly as received, kept in the stored
	// message's content.
	Raw json.RawMessage
}

// Echo reports an echo: a message the page or account sent.
func (in Inbound) Echo() bool { return in.Event.Message != nil && in.Event.Message.IsEcho }

// CustomerID is the customer's page- or Instagram-scoped id: the
// recipient of an echo, the sender of anything else.
func (in Inbound) CustomerID() string {
	if in.Echo() {
		return in.Event.Recipient.ID
	}
	return in.Event.Sender.ID
}

// BusinessID is the page's or account's id as the event names it.
func (in Inbound) BusinessID() string {
	if in.Echo() {
		return in.Event.Sender.ID
	}
	return in.Event.Recipient.ID
}

// Receipt is one delivery or read of the page's messages by a customer.
type Receipt struct {
	AccountID  string
	CustomerID string
	Delivery   *Delivery
	Read       *Read
}

// Batch is everything a payload asks of the inbox, in payload order, plus
// what in it could not be understood.
type Batch struct {
	Object   string
	Messages []Inbound
	Receipts []Receipt
	// Problems describe the parts skipped as malformed; the handler keeps
	// the raw payload as a dead letter when there are any.
	Problems []string
}

// Parse decodes a webhook body, walking every entry and every messaging
// (and standby) event. A body that is not JSON or not a page or
// instagram webhook is an error; a malformed event of an otherwise good
// body is a Problem, so the good parts are still delivered. Events of
// other kinds (opt-ins, referrals, handovers) are not for the inbox and
// are skipped.
func Parse(body []byte) (Batch, error) {
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return Batch{}, fmt.Errorf("messenger: decode payload: %w", err)
	}
	if p.Object != ObjectPage && p.Object != ObjectInstagram {
		return Batch{}, fmt.Errorf("%w (object %.40q)", ErrNotMeta, p.Object)
	}
	b := Batch{Object: p.Object}
	for ei, e := range p.Entry {
		for _, list := range []struct {
			name   string
			events []json.RawMessage
		}{{"messaging", e.Messaging}, {"standby", e.Standby}} {
			for i, raw := range list.events {
				where := fmt.Sprintf("entry[%d].%s[%d]", ei, list.name, i)
				if problem := b.add(e.ID, raw); problem != "" {
					b.Problems = append(b.Problems, where+": "+problem)
				}
			}
		}
	}
	return b, nil
}

// add files one event into b, or says what is wrong with it.
func (b *Batch) add(accountID string, raw json.RawMessage) string {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return err.Error()
	}
	if strings.TrimSpace(ev.Sender.ID) == "" || strings.TrimSpace(ev.Recipient.ID) == "" {
		return "no sender or recipient id"
	}
	in := Inbound{AccountID: accountID, Event: ev, Raw: raw}
	switch {
	case ev.Message != nil:
		if strings.TrimSpace(ev.Message.Mid) == "" {
			return "message without a mid"
		}
		b.Messages = append(b.Messages, in)
	case ev.Postback != nil:
		b.Messages = append(b.Messages, in)
	case ev.Reaction != nil:
		if strings.TrimSpace(ev.Reaction.Mid) == "" {
			return "reaction without the mid it reacts to"
		}
		b.Messages = append(b.Messages, in)
	case ev.Delivery != nil:
		b.Receipts = append(b.Receipts, Receipt{AccountID: accountID, CustomerID: ev.Sender.ID, Delivery: ev.Delivery})
	case ev.Read != nil:
		if ev.Read.Watermark <= 0 && strings.TrimSpace(ev.Read.Mid) == "" {
			return "read without a watermark or mid"
		}
		b.Receipts = append(b.Receipts, Receipt{AccountID: accountID, CustomerID: ev.Sender.ID, Read: ev.Read})
	}
	return ""
}
