package store

import (
	"errors"
	"fmt"
	"time"
)

// Outbox states, as the outbox table keeps them: pending waits for its
// next attempt, sending is claimed by a drainer under a lease, done was
// accepted by the provider, failed gave up.
const (
	OutboxPending = "pending"
	OutboxSending = "sending"
	OutboxDone    = "done"
	OutboxFailed  = "failed"
)

// ErrLeaseLost is returned by the outbox completion methods when the
// entry is no longer claimed by the caller: its lease expired and another
// drainer claimed it, or it was completed already. The caller drops the
// entry; whoever holds the newer claim finishes it.
var ErrLeaseLost = errors.New("store: outbox lease lost")

// ErrNotRetryable is returned by RequeueMessage for a message that is not
// a failed outbound send. It wraps ErrConflict (HTTP 409).
var ErrNotRetryable = fmt.Errorf("store: only a failed outbound message can be retried: %w", ErrConflict)

// OutboxEntry is an outbound send claimed by a drainer (ClaimOutbox).
type OutboxEntry struct {
	ID          int64
	WorkspaceID int64
	// Attempts counts the attempts started, this one included.
	Attempts int
	// LockedUntil is when the claim's lease ends. It also fences the
	// completion methods: they apply only while the row still carries
	// this lease, so a drainer whose lease expired cannot overwrite the
	// outcome of the drainer that claimed the row after it.
	LockedUntil time.Time
	// InboxKind is the kind of the message's inbox, which picks the
	// sender.
	InboxKind InboxKind
	// Message is the message to send.
	Message Message
}
