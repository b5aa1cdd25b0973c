package twilio

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Rendered is an incoming message as the inbox stores it: a body an agent
// can read, the message type, and Twilio's parameters as content.
type Rendered struct {
	Type    store.MessageType
	Body    string
	Content json.RawMessage
	// Media are the attachments to download (server/media), by their
	// MediaUrl.
	Media []store.NewMedia
}

// Content is the stored content of an incoming SMS or MMS.
type Content struct {
	Provider string `json:"provider"`
	// Kind is "sms", or "mms" when media is attached.
	Kind string `json:"kind"`
	// Media are the attachments as Twilio described them; Rendered.Media
	// has them downloaded.
	Media []Media `json:"media,omitempty"`
	// Params are Twilio's request parameters as received (with the
	// sender's city, state, zip and country when Twilio knew them).
	Params url.Values `json:"params"`
}

var errEmpty = errors.New("no body and no media")

// Render turns an incoming message into its stored form. A message with
// media is a media message whose body names each attachment by kind,
// followed by the text ("[image] Is this the right part?"); the media
// URLs and content types are kept in the content.
func Render(in Inbound) (Rendered, error) {
	c := Content{Provider: Provider, Kind: "sms", Media: in.Media, Params: in.Params}
	r := Rendered{Type: store.TypeText, Body: in.Body}
	if len(in.Media) > 0 {
		c.Kind = "mms"
		r.Type = store.TypeMedia
		kinds := make([]string, len(in.Media))
		for i, m := range in.Media {
			kinds[i] = mediaKind(m.ContentType)
			src, _ := json.Marshal(map[string]string{"url": m.URL}) // strings always encode
			r.Media = append(r.Media, store.NewMedia{Provider: Provider, Source: src,
				MimeType: connector.TruncateUTF8(m.ContentType, store.MaxMediaNameBytes)})
		}
		r.Body = "[" + strings.Join(kinds, ", ") + "]"
		if strings.TrimSpace(in.Body) != "" {
			r.Body += " " + in.Body
		}
	} else if strings.TrimSpace(in.Body) == "" {
		return Rendered{}, fmt.Errorf("twilio: message %s: %w", in.MessageSID, errEmpty)
	}
	content, err := json.Marshal(c)
	if err != nil {
		return Rendered{}, fmt.Errorf("twilio: encode content: %w", err)
	}
	r.Content = content
	r.Body = connector.Clean(r.Body)
	return r, nil
}

// mediaKind names an attachment for an agent by its content type.
func mediaKind(contentType string) string {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	switch {
	case strings.HasPrefix(ct, "image/"):
		return "image"
	case strings.HasPrefix(ct, "video/"):
		return "video"
	case strings.HasPrefix(ct, "audio/"):
		return "audio"
	case ct == "text/vcard" || ct == "text/x-vcard":
		return "contact"
	case ct == "application/pdf":
		return "document"
	}
	return "file"
}
