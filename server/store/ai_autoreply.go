package store

import (
	"context"
	"math"
	"time"
)

// AIAutoReplyStore is what AI auto-replies (server/drafts) and their
// endpoints need from storage: each inbox's auto-reply settings and each
// conversation's hand-over to the team. It is part of Store.
type AIAutoReplyStore interface {
	// InboxAI returns the inbox's auto-reply settings,
	// DefaultInboxAI when it never saved any; an inbox of another
	// workspace is ErrNotFound.
	InboxAI(ctx context.Context, workspaceID, inboxID int64) (InboxAI, error)
	// SetInboxAI validates and saves the inbox's auto-reply settings
	// (s.WorkspaceID, s.InboxID and s.UpdatedAt are ignored) and returns
	// what was saved.
	SetInboxAI(ctx context.Context, workspaceID, inboxID int64, s InboxAI) (InboxAI, error)
	// HandOver records that the conversation was handed over to the team
	// now, with reason (cut to MaxHandoffReasonBytes), and returns the
	// hand-over; first is false, and the earlier hand-over is returned
	// unchanged, when it already was handed over.
	HandOver(ctx context.Context, workspaceID, conversationID int64, reason string) (h Handoff, first bool, err error)
	// ConversationHandoff returns the conversation's hand-over, or
	// ErrNotFound while it has not been handed over (or is not the
	// workspace's).
	ConversationHandoff(ctx context.Context, workspaceID, conversationID int64) (Handoff, error)
}

// DefaultMinConfidence is an inbox's auto-reply confidence threshold until
// it saves its own.
const DefaultMinConfidence = 0.8

// InboxAI are an inbox's AI auto-reply settings.
type InboxAI struct {
	WorkspaceID int64 `json:"-"`
	InboxID     int64 `json:"inbox_id"`
	// AutoReply sends a confident AI draft to the customer as a reply
	// without an agent.
	AutoReply bool `json:"auto_reply"`
	// MinConfidence, in [0, 1], is the least draft confidence that is
	// sent by itself; a less confident draft stays a draft for agents.
	MinConfidence float64    `json:"min_confidence"`
	UpdatedAt     *time.Time `json:"updated_at,omitempty"`
}

// DefaultInboxAI are an inbox's settings until it saves its own:
// auto-reply off.
func DefaultInboxAI(workspaceID, inboxID int64) InboxAI {
	return InboxAI{WorkspaceID: workspaceID, InboxID: inboxID, MinConfidence: DefaultMinConfidence}
}

// Validate reports the first invalid field.
func (s InboxAI) Validate() error {
	if math.IsNaN(s.MinConfidence) || s.MinConfidence < 0 || s.MinConfidence > 1 {
		return Invalid("min_confidence", "must be between 0 and 1")
	}
	return nil
}

// MaxHandoffReasonBytes bounds a Handoff's reason.
const MaxHandoffReasonBytes = 500

// Handoff is a conversation's hand-over from the AI to the team: from
// then on the AI does not reply to the customer by itself.
type Handoff struct {
	ConversationID int64     `json:"conversation_id"`
	HandedOverAt   time.Time `json:"handed_over_at"`
	Reason         string    `json:"reason"`
}

// TruncateHandoffReason cuts a hand-over reason to MaxHandoffReasonBytes
// at a rune boundary; both implementations store it so.
func TruncateHandoffReason(reason string) string { return truncate(reason, MaxHandoffReasonBytes) }

// AuditInboxAIUpdated is the audit action of a change of an inbox's
// auto-reply settings (target: the inbox).
const AuditInboxAIUpdated = "inbox_ai.updated"
