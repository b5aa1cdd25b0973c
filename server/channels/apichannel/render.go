package apichannel

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Rendered is an inbound message as the inbox stores it: a body an agent
// can read, the message type, and the source's message as content.
type Rendered struct {
	Type    store.MessageType
	Body    string
	Content json.RawMessage
}

// Render turns a validated inbound request into its stored form.
// Attachments are not downloaded: the body names each ("[image:
// photo.png]") before the text, and the content keeps their URLs, types
// and names.
func Render(r InboundRequest) (Rendered, error) {
	content, err := json.Marshal(struct {
		Provider    string       `json:"provider"`
		MessageID   string       `json:"message_id"`
		Attachments []Attachment `json:"attachments,omitempty"`
	}{Provider, r.Message.ID, r.Message.Attachments})
	if err != nil {
		return Rendered{}, fmt.Errorf("api channel: encode content: %w", err)
	}
	out := Rendered{Type: store.TypeText, Content: content}
	parts := make([]string, 0, len(r.Message.Attachments)+1)
	for _, a := range r.Message.Attachments {
		out.Type = store.TypeMedia
		parts = append(parts, a.label())
	}
	if text := strings.TrimSpace(r.Message.Text); text != "" {
		parts = append(parts, r.Message.Text)
	}
	out.Body = connector.Clean(strings.Join(parts, " "))
	return out, nil
}

// label names an attachment for an agent by its kind and file name.
func (a Attachment) label() string {
	kind, ct := "file", strings.ToLower(a.ContentType)
	switch {
	case strings.HasPrefix(ct, "image/"):
		kind = "image"
	case strings.HasPrefix(ct, "video/"):
		kind = "video"
	case strings.HasPrefix(ct, "audio/"):
		kind = "audio"
	}
	if a.Filename == "" {
		return "[" + kind + "]"
	}
	return "[" + kind + ": " + a.Filename + "]"
}
