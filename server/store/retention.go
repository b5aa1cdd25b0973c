package store

import (
	"context"
	"time"
)

// RetentionStore is what data retention (server/retention and the
// /api/v1/retention endpoints) needs from storage: each workspace's
// retention settings, and the bounded deletions of what they expire. It
// is part of Store.
//
// Every deletion takes the cutoff ("before") from its caller rather than
// the clock, deletes only rows strictly older than it, and deletes at most
// limit rows of its kind in one transaction, so a caller works through a
// large backlog in short transactions.
type RetentionStore interface {
	// RetentionSettings returns the workspace's retention settings,
	// DefaultRetentionSettings when it never saved any.
	RetentionSettings(ctx context.Context, workspaceID int64) (RetentionSettings, error)
	// SetRetentionSettings validates and saves s (s.UpdatedAt is ignored)
	// and records retention.updated as by, in one transaction.
	SetRetentionSettings(ctx context.Context, workspaceID int64, s RetentionSettings, by Actor) (RetentionSettings, error)
	// RetentionWorkspaceIDs returns the id of every workspace, in order,
	// for the retention job to visit.
	RetentionWorkspaceIDs(ctx context.Context) ([]int64, error)

	// CountExpired counts what the cutoffs expire now, as a run would
	// delete it: the conversations whose last activity is before
	// c.Conversations and their messages; the media of those messages
	// or older than c.Media; the events older than c.Events (see
	// DeleteExpiredEvents).
	CountExpired(ctx context.Context, workspaceID int64, c RetentionCutoffs) (RetentionCounts, error)
	// DeleteExpiredConversations deletes up to limit conversations whose
	// last activity is before before, oldest first, with everything that
	// hangs off them (messages and their search index entries, mentions,
	// outbox entries, media rows, labels, read marks), appending
	// conversation.deleted for each. The blob keys of the deleted media
	// are returned for the caller to delete from the blob store.
	DeleteExpiredConversations(ctx context.Context, workspaceID int64, before time.Time, limit int) (DeletedConversations, error)
	// ExpiredMedia returns up to limit media items created (with their
	// message) before before, oldest first.
	ExpiredMedia(ctx context.Context, workspaceID int64, before time.Time, limit int) ([]Media, error)
	// DeleteMedia deletes the workspace's media items of ids (ids of
	// another workspace or gone already are skipped) and appends
	// message.updated for each message that lost media: the message
	// stays, without them. It returns how many it deleted.
	DeleteMedia(ctx context.Context, workspaceID int64, ids []int64) (int64, error)
	// DeleteExpiredEvents deletes up to limit of the oldest events of the
	// prefix of the log that ends at the newest event created before
	// before (as PruneEvents does, so the log stays gap-free), and
	// returns how many it deleted. Catch-up behind them is then
	// ErrEventsGone.
	DeleteExpiredEvents(ctx context.Context, workspaceID int64, before time.Time, limit int) (int64, error)
}

// EventConversationDeleted is appended for each conversation deleted by
// retention; its payload is a ConversationDeletedPayload. A client drops
// the conversation and its messages.
const EventConversationDeleted = "conversation.deleted"

// ConversationDeletedPayload is the payload of conversation.deleted.
type ConversationDeletedPayload struct {
	ConversationID int64 `json:"conversation_id"`
	// Reason is why it was deleted: DeletedByRetention.
	Reason string `json:"reason"`
}

// DeletedByRetention is the ConversationDeletedPayload.Reason of a
// conversation deleted because its messages expired.
const DeletedByRetention = "retention"

// AuditRetentionUpdated is the audit action of a change of the retention
// settings; its details are the new settings.
const AuditRetentionUpdated = "retention.updated"

// Bounds and defaults of the retention settings, in days.
const (
	DefaultMessageRetentionDays = 90
	MaxMessageRetentionDays     = 3650
	DefaultMediaRetentionDays   = 30
	MaxMediaRetentionDays       = 180
	DefaultEventRetentionDays   = 30
	MaxEventRetentionDays       = 3650
)

// RetentionSettings say how long a workspace keeps its data.
type RetentionSettings struct {
	// MessageDays keeps a conversation, with its messages, for this many
	// days after its last activity.
	MessageDays int `json:"message_days"`
	// MediaDays keeps an inbound media item (its blob and its row) for
	// this many days after its message arrived.
	MediaDays int `json:"media_days"`
	// EventDays keeps the event log (what reconnecting clients catch up
	// from) for this many days.
	EventDays int        `json:"event_days"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// DefaultRetentionSettings are a workspace's settings until it saves its
// own.
func DefaultRetentionSettings() RetentionSettings {
	return RetentionSettings{
		MessageDays: DefaultMessageRetentionDays,
		MediaDays:   DefaultMediaRetentionDays,
		EventDays:   DefaultEventRetentionDays,
	}
}

// Validate reports the first setting out of its range.
func (s RetentionSettings) Validate() error {
	switch {
	case s.MessageDays < 1 || s.MessageDays > MaxMessageRetentionDays:
		return Invalid("message_days", "must be from 1 to %d", MaxMessageRetentionDays)
	case s.MediaDays < 1 || s.MediaDays > MaxMediaRetentionDays:
		return Invalid("media_days", "must be from 1 to %d", MaxMediaRetentionDays)
	case s.EventDays < 1 || s.EventDays > MaxEventRetentionDays:
		return Invalid("event_days", "must be from 1 to %d", MaxEventRetentionDays)
	}
	return nil
}

// Cutoffs returns the settings' cutoffs at now: what is older than them
// has expired, what is exactly as old is kept.
func (s RetentionSettings) Cutoffs(now time.Time) RetentionCutoffs {
	day := 24 * time.Hour
	return RetentionCutoffs{
		Conversations: now.Add(-time.Duration(s.MessageDays) * day),
		Media:         now.Add(-time.Duration(s.MediaDays) * day),
		Events:        now.Add(-time.Duration(s.EventDays) * day),
	}
}

// RetentionCutoffs are the times before which each kind of data expired.
type RetentionCutoffs struct {
	Conversations time.Time
	Media         time.Time
	Events        time.Time
}

// RetentionCounts count the rows a retention run deleted, or would
// delete. Messages and media deleted with their conversation are counted
// as messages and media.
type RetentionCounts struct {
	Conversations int64 `json:"conversations"`
	Messages      int64 `json:"messages"`
	Media         int64 `json:"media"`
	Events        int64 `json:"events"`
}

// Add adds o to c.
func (c *RetentionCounts) Add(o RetentionCounts) {
	c.Conversations += o.Conversations
	c.Messages += o.Messages
	c.Media += o.Media
	c.Events += o.Events
}

// DeletedConversations is what DeleteExpiredConversations deleted.
type DeletedConversations struct {
	Conversations int64
	Messages      int64
	Media         int64
	// BlobKeys are the blobs of the deleted media that were stored.
	BlobKeys []string
}

// RetentionAudit returns the audit entry of by saving s as the
// workspace's retention settings.
func RetentionAudit(by Actor, workspaceID int64, s RetentionSettings) AuditEntry {
	return AuditEntry{
		ActorID: by.AgentID, TokenID: by.TokenID, Action: AuditRetentionUpdated,
		TargetKind: AuditTargetWorkspace, TargetID: workspaceID,
		Details: auditDetails(map[string]any{
			"message_days": s.MessageDays, "media_days": s.MediaDays, "event_days": s.EventDays,
		}),
	}
}
