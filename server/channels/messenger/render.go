package messenger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Rendered is a message, postback or reaction as the inbox stores it: a
// body an agent can read, the message type, the raw event as content, and
// the provider message id that makes a retry a duplicate.
type Rendered struct {
	Type              store.MessageType
	Body              string
	Content           json.RawMessage
	ProviderMessageID string
	// Media are the customer's images, videos, audio and files to
	// download (server/media), by their payload URL; none for an echo.
	Media []store.NewMedia
}

// content is the stored form of an event: which provider, what kind of
// event, and the event exactly as Meta sent it.
type content struct {
	Provider  string          `json:"provider"`
	Event     string          `json:"event"`
	Echo      bool            `json:"echo,omitempty"`
	Messaging json.RawMessage `json:"messaging"`
}

// The Event values of a stored content.
const (
	eventMessage  = "message"
	eventDeletion = "deletion"
	eventPostback = "postback"
	eventReaction = "reaction"
)

// derivedID is the provider message id of an event that has no mid of
// its own (a reaction, a deletion, an old postback): a hash of what
// identifies it, so Meta's retry of the event gets the same id.
func derivedID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + ":" + hex.EncodeToString(h.Sum(nil))[:40]
}

// Render turns an inbound event into its stored form. Media is
// downloaded later (server/media): the body names it, the content keeps
// its URL, and Media describes it for the download. A message of a kind this code does not know is still stored, as
// "[unsupported ...]" with its raw content, so an agent sees the customer
// wrote.
//
// Reactions are stored as short messages ("[reaction] ❤️"), so an agent
// sees them in the thread; a message the customer deleted is noted as a
// message of its own ("[message deleted]"), the original staying as it
// was received.
func Render(kind store.InboxKind, in Inbound) (Rendered, error) {
	ev := in.Event
	var r Rendered
	event := eventMessage
	r.Type = store.TypeText
	switch {
	case ev.Message != nil && ev.Message.IsDeleted:
		event = eventDeletion
		r.ProviderMessageID = derivedID("deleted", ev.Message.Mid)
		r.Body = "[message deleted]"
	case ev.Message != nil:
		r.ProviderMessageID = ev.Message.Mid
		r.Type, r.Body = renderMessage(kind, ev.Message)
		if !in.Echo() {
			r.Media = attachmentMedia(kind, ev.Message.Attachments)
		}
	case ev.Postback != nil:
		event = eventPostback
		r.ProviderMessageID = ev.Postback.Mid
		if r.ProviderMessageID == "" {
			r.ProviderMessageID = derivedID("postback", ev.Sender.ID, strconv.FormatInt(ev.Timestamp, 10), ev.Postback.Payload)
		}
		r.Body = "[button] " + orElse(ev.Postback.Title, "(untitled)") + payloadNote(ev.Postback.Payload, ev.Postback.Title)
	case ev.Reaction != nil:
		event = eventReaction
		rc := ev.Reaction
		r.ProviderMessageID = derivedID("reaction", ev.Sender.ID, rc.Mid, rc.Action, rc.Reaction, rc.Emoji, strconv.FormatInt(ev.Timestamp, 10))
		if rc.Action == "unreact" {
			r.Body = "[reaction removed]"
		} else {
			r.Body = "[reaction] " + orElse(rc.Emoji, orElse(rc.Reaction, "?"))
		}
	default:
		return Rendered{}, fmt.Errorf("%s: event of %s is not a message, postback or reaction", kind, ev.Sender.ID)
	}
	// Postgres keeps neither NUL in text nor \u0000 in JSONB; refusing
	// them would make Meta retry the payload forever.
	raw := bytes.ReplaceAll(in.Raw, []byte(`\u0000`), []byte(`\ufffd`))
	c, err := json.Marshal(content{Provider: string(kind), Event: event, Echo: in.Echo(), Messaging: raw})
	if err != nil {
		return Rendered{}, fmt.Errorf("%s: encode content: %w", kind, err)
	}
	r.Content = c
	r.Body = connector.Clean(r.Body)
	return r, nil
}

// renderMessage is the type and body of a message: its text, then a line
// per attachment.
func renderMessage(kind store.InboxKind, m *Message) (store.MessageType, string) {
	typ := store.TypeText
	var lines []string
	text := strings.TrimSpace(m.Text)
	switch {
	case m.QuickReply != nil:
		lines = append(lines, "[quick reply] "+orElse(text, "(untitled)")+payloadNote(m.QuickReply.Payload, text))
	case text != "":
		lines = append(lines, m.Text)
	}
	if m.StickerID != "" && len(m.Attachments) == 0 {
		typ = store.TypeMedia
		lines = append(lines, "[sticker]")
	}
	for _, a := range m.Attachments {
		label, media := renderAttachment(a)
		if media {
			typ = store.TypeMedia
		}
		lines = append(lines, label)
	}
	if len(lines) == 0 {
		name := "Messenger"
		if kind == store.InboxInstagram {
			name = "Instagram"
		}
		return store.TypeText, "[unsupported " + name + " message]"
	}
	return typ, strings.Join(lines, "\n")
}

// attachmentMedia describes the attachments that are media the customer
// sent, to be downloaded from their payload URL. Shared posts, reels and
// story mentions are the platform's content, not the customer's, and stay
// links.
func attachmentMedia(kind store.InboxKind, as []Attachment) []store.NewMedia {
	var out []store.NewMedia
	for _, a := range as {
		if a.Payload == nil || a.Payload.URL == "" || len(out) == store.MaxMediaPerMessage {
			continue
		}
		switch a.Type {
		case "image", "video", "audio", "file":
		default:
			continue
		}
		src, _ := json.Marshal(map[string]string{"url": a.Payload.URL}) // strings always encode
		if len(src) > store.MaxMediaSourceBytes {
			continue
		}
		out = append(out, store.NewMedia{Provider: string(kind), Source: src,
			Filename: connector.TruncateUTF8(orElse(a.Title, a.Payload.Title), store.MaxMediaNameBytes)})
	}
	return out
}

// renderAttachment is an attachment's line and whether it is media.
func renderAttachment(a Attachment) (string, bool) {
	p := a.Payload
	if p == nil {
		p = &AttachmentPayload{}
	}
	title := orElse(a.Title, p.Title)
	switch a.Type {
	case "image":
		if p.StickerID != "" {
			return "[sticker]", true
		}
		return "[image]", true
	case "video", "audio":
		return "[" + a.Type + "]", true
	case "file":
		return strings.TrimSpace("[file] " + title), true
	case "location":
		parts := []string{}
		if title != "" {
			parts = append(parts, title)
		}
		if p.Coordinates != nil {
			parts = append(parts, fmt.Sprintf("(%g, %g)", p.Coordinates.Lat, p.Coordinates.Long))
		}
		return strings.TrimSpace("[location] " + strings.Join(parts, ", ")), false
	case "fallback":
		return strings.TrimSpace("[link] " + strings.TrimSpace(title+" "+orElse(a.URL, p.URL))), false
	case "share":
		return "[shared post]", true
	case "story_mention":
		return "[story mention]", true
	case "ig_reel", "reel":
		return strings.TrimSpace("[reel] " + title), true
	case "template":
		return strings.TrimSpace("[template] " + title), false
	}
	return fmt.Sprintf("[attachment %.40q]", a.Type), false
}

// payloadNote shows a button's payload when it says more than its title.
func payloadNote(payload, title string) string {
	if payload == "" || payload == title {
		return ""
	}
	return " (payload: " + connector.TruncateUTF8(payload, 200) + ")"
}

func orElse(s, dflt string) string {
	if strings.TrimSpace(s) == "" {
		return dflt
	}
	return strings.TrimSpace(s)
}
