package store

import (
	"encoding/json"
	"strings"
	"time"
)

// Direction says whether a message came from the contact or goes to them.
type Direction string

// The directions.
const (
	DirectionIn  Direction = "in"
	DirectionOut Direction = "out"
)

// AuthorKind says who wrote a message.
type AuthorKind string

// The author kinds.
const (
	AuthorContact AuthorKind = "contact"
	AuthorAgent   AuthorKind = "agent"
	AuthorAI      AuthorKind = "ai"
	AuthorSystem  AuthorKind = "system"
)

// MessageType is what a message carries. Notes are private to agents and
// never leave the server.
type MessageType string

// The message types.
const (
	TypeText     MessageType = "text"
	TypeMedia    MessageType = "media"
	TypeTemplate MessageType = "template"
	TypeNote     MessageType = "note"
)

// DeliveryStatus tracks a message through its channel. Inbound messages
// are DeliveryReceived; notes are DeliverySent the moment they are stored;
// outbound messages start DeliveryQueued in the outbox.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryReceived  DeliveryStatus = "received"
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	switch s {
	case DeliveryReceived, DeliveryQueued, DeliverySent, DeliveryDelivered, DeliveryRead, DeliveryFailed:
		return true
	}
	return false
}

// Message is one message or private note in a conversation.
type Message struct {
	ID                int64           `json:"id"`
	WorkspaceID       int64           `json:"workspace_id"`
	ConversationID    int64           `json:"conversation_id"`
	InboxID           int64           `json:"inbox_id"`
	Direction         Direction       `json:"direction"`
	AuthorKind        AuthorKind      `json:"author_kind"`
	AuthorAgentID     int64           `json:"author_agent_id,omitempty"`
	Type              MessageType     `json:"type"`
	Body              string          `json:"body"`
	Content           json.RawMessage `json:"content,omitempty"`
	ProviderMessageID string          `json:"provider_message_id,omitempty"`
	IdempotencyKey    string          `json:"idempotency_key,omitempty"`
	Status            DeliveryStatus  `json:"status"`
	Error             string          `json:"error,omitempty"`
	AIAssisted        bool            `json:"ai_assisted"`
	Mentions          []int64         `json:"mentions,omitempty"`
	// Media are the message's attachments, oldest first: a customer's,
	// with where their download is, or an agent's uploads (stored).
	Media     []MediaRef `json:"media,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// CreatedEventKind is the event a new message is logged as: note.created
// for private notes, message.created for the rest.
func (m Message) CreatedEventKind() string {
	if m.Type == TypeNote {
		return EventNoteCreated
	}
	return EventMessageCreated
}

// NewMessage is the input to CreateMessage.
type NewMessage struct {
	ConversationID int64
	Direction      Direction
	AuthorKind     AuthorKind
	AuthorAgentID  int64
	Type           MessageType
	Body           string
	// Content is type-specific structure (template name and parameters,
	// media descriptors) as a JSON object.
	Content json.RawMessage
	// ProviderMessageID is the channel's id for an inbound message; a
	// second message with the same id in the same inbox is a duplicate.
	ProviderMessageID string
	// IdempotencyKey is the client's key for an outbound send; a second
	// send with the same key in the workspace is a duplicate.
	IdempotencyKey string
	AIAssisted     bool
	// Mentions are agents @mentioned in a note.
	Mentions []int64
	// Media are an inbound message's attachments to download into the
	// blob store, or an outbound media message's uploads (NewMedia.Stored,
	// at most MaxOutboundAttachments of the inbox's kind); they are
	// stored with the message, in its transaction.
	Media []NewMedia
	// Sent records an outbound message the business already sent outside
	// Switchboard (a provider's echo of a reply written in another tool):
	// it is stored as sent, with no outbox entry and no policy check, and
	// needs a ProviderMessageID.
	Sent bool
}

// Normalize reports the first invalid field and returns the status the
// message starts in.
func (m *NewMessage) Normalize() (DeliveryStatus, error) {
	if m.Type == "" {
		m.Type = TypeText
	}
	switch {
	case m.ConversationID <= 0:
		return "", Invalid("conversation_id", "required")
	case m.Direction != DirectionIn && m.Direction != DirectionOut:
		return "", Invalid("direction", "must be in or out, not %q", m.Direction)
	case m.Type != TypeText && m.Type != TypeMedia && m.Type != TypeTemplate && m.Type != TypeNote:
		return "", Invalid("type", "unknown type %q", m.Type)
	case len(m.Body) > MaxBodyBytes:
		return "", Invalid("body", "longer than %d bytes", MaxBodyBytes)
	case (m.Type == TypeText || m.Type == TypeNote) && strings.TrimSpace(m.Body) == "":
		return "", Invalid("body", "must not be empty")
	case len(m.ProviderMessageID) > 255:
		return "", Invalid("provider_message_id", "longer than 255 bytes")
	case len(m.IdempotencyKey) > 255:
		return "", Invalid("idempotency_key", "longer than 255 bytes")
	case len(m.Mentions) > 0 && m.Type != TypeNote:
		return "", Invalid("mentions", "only notes mention agents")
	}
	if err := validObject("content", m.Content); err != nil {
		return "", err
	}
	if err := normalizeMedia(m); err != nil {
		return "", err
	}
	if m.Direction == DirectionIn {
		if m.Sent {
			return "", Invalid("sent", "only an outbound message is sent")
		}
		if m.AuthorKind == "" {
			m.AuthorKind = AuthorContact
		}
		if m.AuthorKind != AuthorContact || m.Type == TypeNote || m.AuthorAgentID != 0 {
			return "", Invalid("author_kind", "an inbound message is written by the contact")
		}
		return DeliveryReceived, nil
	}
	switch m.AuthorKind {
	case AuthorAgent:
		if m.AuthorAgentID <= 0 {
			return "", Invalid("author_agent_id", "an agent's message names the agent")
		}
	case AuthorAI, AuthorSystem:
	default:
		return "", Invalid("author_kind", "an outbound message is written by an agent, the AI or the system")
	}
	if m.Sent {
		if m.ProviderMessageID == "" || m.Type == TypeNote {
			return "", Invalid("provider_message_id", "a message sent outside Switchboard needs its provider id")
		}
		return DeliverySent, nil
	}
	if m.Type == TypeNote {
		// Agents write notes, and the system (an AI hand-over, say)
		// writes notes for them; the AI itself does not.
		if m.AuthorKind != AuthorAgent && m.AuthorKind != AuthorSystem {
			return "", Invalid("author_kind", "notes are written by agents or the system")
		}
		return DeliverySent, nil
	}
	return DeliveryQueued, nil
}

// MaxBodyBytes bounds a message body.
const MaxBodyBytes = 64 << 10

// CreatedMessage is the result of CreateMessage.
type CreatedMessage struct {
	Message Message
	// Duplicate is true when the provider message id or idempotency key
	// was already stored: Message is the earlier row and nothing was
	// written.
	Duplicate bool
	// Events are the events appended with the message, in seq order;
	// empty for a duplicate.
	Events []Event
}

// MessageFilter pages a conversation's messages, newest first.
type MessageFilter struct {
	// BeforeID returns messages older than this id; zero starts at the
	// newest.
	BeforeID int64
	Limit    int
}
