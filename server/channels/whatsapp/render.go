package whatsapp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Rendered is an inbound message as the inbox stores it: a body an agent
// can read, the message type, and the raw WhatsApp message as content.
type Rendered struct {
	Type    store.MessageType
	Body    string
	Content json.RawMessage
	// Media are the attachments to download (server/media), by their
	// Cloud API media id.
	Media []store.NewMedia
}

// Render turns an inbound message into its stored form. Media is
// downloaded later (server/media): the body names it, the content keeps
// its media id, mime type and hash, and Media describes it for the
// download. A type this code does not know is still
// stored, as "[unsupported ...]" with its raw content, so an agent sees
// the customer wrote.
func Render(in Inbound) (Rendered, error) {
	m := in.Message
	// Postgres keeps neither NUL in text nor \u0000 in JSONB; refusing
	// them would make Meta retry the payload forever.
	raw := bytes.ReplaceAll(in.Raw, []byte(`\u0000`), []byte(`\ufffd`))
	content, err := json.Marshal(struct {
		Provider string          `json:"provider"`
		Type     string          `json:"type"`
		Message  json.RawMessage `json:"message"`
	}{"whatsapp", m.Type, raw})
	if err != nil {
		return Rendered{}, fmt.Errorf("whatsapp: encode content: %w", err)
	}
	r := Rendered{Type: store.TypeText, Content: content}
	media := func(kind string, md *Media) string {
		r.Type = store.TypeMedia
		if md != nil && md.ID != "" {
			src, _ := json.Marshal(struct { // strings always encode
				ID     string `json:"id"`
				SHA256 string `json:"sha256,omitempty"`
			}{md.ID, md.SHA256})
			r.Media = append(r.Media, store.NewMedia{Provider: string(store.InboxWhatsApp), Source: src,
				MimeType: connector.TruncateUTF8(md.MimeType, store.MaxMediaNameBytes), Filename: connector.TruncateUTF8(md.Filename, store.MaxMediaNameBytes),
				Caption: connector.TruncateUTF8(md.Caption, store.MaxMediaCaption)})
		}
		label := "[" + kind
		if md != nil && md.Filename != "" {
			label += ": " + md.Filename
		}
		label += "]"
		if md != nil && md.Caption != "" {
			return label + " " + md.Caption
		}
		return label
	}
	switch m.Type {
	case "text":
		if m.Text == nil || strings.TrimSpace(m.Text.Body) == "" {
			return Rendered{}, fmt.Errorf("whatsapp: message %s: text without a body", m.ID)
		}
		r.Body = m.Text.Body
	case "image":
		r.Body = media("image", m.Image)
	case "video":
		r.Body = media("video", m.Video)
	case "audio":
		kind := "audio"
		if m.Audio != nil && m.Audio.Voice {
			kind = "voice message"
		}
		r.Body = media(kind, m.Audio)
	case "document":
		r.Body = media("document", m.Document)
	case "sticker":
		r.Body = media("sticker", m.Sticker)
	case "location":
		if m.Location == nil {
			return Rendered{}, fmt.Errorf("whatsapp: message %s: location without coordinates", m.ID)
		}
		l := m.Location
		parts := []string{}
		for _, s := range []string{l.Name, l.Address} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		parts = append(parts, fmt.Sprintf("(%g, %g)", l.Latitude, l.Longitude))
		r.Body = "[location] " + strings.Join(parts, ", ")
	case "contacts":
		cards := make([]string, 0, len(m.Contacts))
		for _, c := range m.Contacts {
			card := c.Name.FormattedName
			for _, p := range c.Phones {
				card += " " + p.Phone
			}
			cards = append(cards, strings.TrimSpace(card))
		}
		r.Body = "[contact] " + strings.Join(cards, "; ")
	case "interactive":
		switch {
		case m.Interactive != nil && m.Interactive.ButtonReply != nil:
			r.Body = "[button] " + m.Interactive.ButtonReply.Title
		case m.Interactive != nil && m.Interactive.ListReply != nil:
			r.Body = "[list reply] " + m.Interactive.ListReply.Title
			if d := m.Interactive.ListReply.Description; d != "" {
				r.Body += " — " + d
			}
		default:
			r.Body = "[interactive reply]"
		}
	case "button":
		if m.Button == nil {
			return Rendered{}, fmt.Errorf("whatsapp: message %s: button without its text", m.ID)
		}
		r.Body = "[button] " + m.Button.Text
	case "reaction":
		if m.Reaction == nil {
			return Rendered{}, fmt.Errorf("whatsapp: message %s: reaction without its emoji", m.ID)
		}
		if m.Reaction.Emoji == "" {
			r.Body = "[reaction removed]"
		} else {
			r.Body = "[reaction] " + m.Reaction.Emoji
		}
	default:
		r.Body = fmt.Sprintf("[unsupported WhatsApp message type %.40q]", m.Type)
		for _, e := range m.Errors {
			r.Body += " " + e.String()
		}
	}
	r.Body = connector.Clean(r.Body)
	return r, nil
}
