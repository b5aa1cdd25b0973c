package store

import (
	"context"
	"time"
)

// BulkLoader is an optional capability of a Store: filling a workspace
// with a large synthetic data set (tens of thousands of conversations,
// millions of messages) far faster than writing it row by row. The
// inbox's seed command and the scale benchmarks use it when the store
// offers it (a type assertion), and fall back to the normal path when it
// does not.
//
// A load is one change to the workspace, with the invariants of the normal
// path:
//   - it is all or nothing: the inbox, contacts (with their identities),
//     conversations, messages and outbox rows commit in one transaction,
//     or none of them does;
//   - every conversation's last_message_id and last_activity_at are those
//     of its newest message, and its messages are numbered in time order;
//   - the full-text indexes (Postgres tsvector columns, SQLite FTS5
//     tables) cover every contact and message written;
//   - ids come from the database's own allocator, so later ordinary
//     inserts do not collide with them;
//   - rather than one event per row, the load appends exactly one event,
//     EventWorkspaceImported, with the next gap-free seq and in the same
//     transaction. Clients following the log take it as "refetch": it
//     carries counts, not rows (ImportPayload).
type BulkLoader interface {
	// BulkLoad creates spec's inbox, contacts, conversations and
	// messages in the workspace. progress, when not nil, is called after
	// each batch with the conversations written so far and the total.
	BulkLoad(ctx context.Context, workspaceID int64, spec BulkSpec, progress func(done, total int)) (BulkResult, error)
}

// Bounds of one bulk load.
const (
	// MaxBulkConversations bounds BulkSpec.Conversations.
	MaxBulkConversations = 10_000_000
	// MaxBulkMessagesPerConversation bounds
	// BulkSpec.MessagesPerConversation.
	MaxBulkMessagesPerConversation = 1000
	// DefaultBulkBatchMessages is BulkSpec.BatchMessages by default:
	// enough that per-statement costs vanish, few enough that a batch's
	// rows are cheap to hold in memory.
	DefaultBulkBatchMessages = 20_000
)

// BulkSpan is how far back from BulkSpec.Now generated activity reaches.
const BulkSpan = 180 * 24 * time.Hour

// BulkOrderBase is the first order number a load mentions: conversation i
// of a load (counting from 0) is about order BulkOrderBase+i, which its
// first message quotes, so a search for that number finds that
// conversation.
const BulkOrderBase = 1_000_000

// BulkSpec describes a bulk load.
type BulkSpec struct {
	// Conversations is how many conversations to create, each with a new
	// contact of its own.
	Conversations int
	// MessagesPerConversation is each conversation's length: the
	// customer's messages alternating with replies, customer first.
	MessagesPerConversation int
	// Seed makes a load reproducible: the same spec and the same members
	// generate the same rows.
	Seed uint64
	// InboxName names the API-channel inbox the load creates; "Imported"
	// when empty.
	InboxName string
	// Now is the newest time the load writes; activity spreads over
	// BulkSpan before it. Zero means the current time.
	Now time.Time
	// BatchMessages is about how many messages are generated and written
	// at a time, whole conversations per batch; progress is reported
	// after each batch. DefaultBulkBatchMessages when zero.
	BatchMessages int
}

// Normalize fills defaults and reports the first invalid field.
func (s *BulkSpec) Normalize() error {
	if s.InboxName == "" {
		s.InboxName = "Imported"
	}
	if s.Now.IsZero() {
		s.Now = Now()
	}
	s.Now = s.Now.UTC().Truncate(time.Microsecond)
	if s.BatchMessages == 0 {
		s.BatchMessages = DefaultBulkBatchMessages
	}
	switch {
	case s.Conversations < 1 || s.Conversations > MaxBulkConversations:
		return Invalid("conversations", "must be 1-%d", MaxBulkConversations)
	case s.MessagesPerConversation < 1 || s.MessagesPerConversation > MaxBulkMessagesPerConversation:
		return Invalid("messages", "must be 1-%d per conversation", MaxBulkMessagesPerConversation)
	case s.BatchMessages < 0:
		return Invalid("batch_messages", "must not be negative")
	}
	return NewInbox{Kind: InboxAPI, Name: s.InboxName}.Validate()
}

// BatchConversations is how many conversations make a batch.
func (s BulkSpec) BatchConversations() int { return max(1, s.BatchMessages/s.MessagesPerConversation) }

// BulkResult is what a bulk load wrote.
type BulkResult struct {
	InboxID       int64 `json:"inbox_id"`
	Conversations int   `json:"conversations"`
	Messages      int   `json:"messages"`
	// Rows counts every row inserted: the inbox, contacts and their
	// identities, conversations, messages, outbox rows and the event.
	Rows int `json:"rows"`
	// Event is the EventWorkspaceImported event appended with the load.
	Event Event `json:"-"`
}

// ImportPayload is the payload of EventWorkspaceImported.
type ImportPayload struct {
	InboxID       int64 `json:"inbox_id"`
	Conversations int   `json:"conversations"`
	Messages      int   `json:"messages"`
}
