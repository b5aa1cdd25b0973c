package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// ErasureStore is what erasing a contact (server/datarights, POST
// /api/v1/contacts/{id}/erase and Meta's data-deletion callback) needs
// from storage: durable erasure requests, and the bounded deletions that
// carry them out. It is part of Store.
//
// Erasing a contact deletes, besides the contact row: its identities,
// consent records and AI opt-out; its conversations with everything that
// hangs off them (messages and their search index entries, mentions,
// outbox entries, media rows, labels, read marks, hand-overs, summaries);
// the dead letters whose raw payload names one of its identities; and it
// redacts in place every event-log payload about the contact or its
// conversations (seq and kind stay, so the log stays gap-free). The blob
// keys of its media are returned for the caller to delete from the blob
// store. What is left is the erasure request (ids, counts, dates) and an
// audit entry: nothing personal.
type ErasureStore interface {
	// CreateErasureRequest records a pending request to erase the
	// workspace's contacts r.ContactIDs (none is fine: a Meta request
	// about a user the workspace does not know), with a fresh
	// confirmation code. An agent's request (r.Source ErasureByAgent)
	// names one contact, which must exist (ErrNotFound).
	CreateErasureRequest(ctx context.Context, workspaceID int64, r NewErasureRequest) (ErasureRequest, error)
	// ErasureRequest returns one request of the workspace.
	ErasureRequest(ctx context.Context, workspaceID, id int64) (ErasureRequest, error)
	// ErasureRequestByCode finds a request by its confirmation code, in
	// whatever workspace: only for the public status page, which shows
	// its status and dates and nothing else.
	ErasureRequestByCode(ctx context.Context, code string) (ErasureRequest, error)
	// ListErasureRequests returns the workspace's requests, newest first,
	// at most limit (1..MaxPageSize).
	ListErasureRequests(ctx context.Context, workspaceID int64, limit int) ([]ErasureRequest, error)
	// PendingErasureRequests returns up to limit pending requests of
	// every workspace, oldest first, for the erasure worker.
	PendingErasureRequests(ctx context.Context, limit int) ([]ErasureRequest, error)
	// UpdateErasureRequest records progress on a pending request: its
	// counts so far, attempts and last error, and, when u.Status is
	// completed or failed, its end. Completing records the audit entry
	// contact.erased (ErasureAudit) in the same transaction. A request
	// that is no longer pending is ErrConflict.
	UpdateErasureRequest(ctx context.Context, workspaceID, id int64, u ErasureUpdate) (ErasureRequest, error)

	// ContactsByIdentity returns the ids of the workspace's contacts
	// known by externalID on any of channels, in ascending order.
	ContactsByIdentity(ctx context.Context, workspaceID int64, channels []string, externalID string) ([]int64, error)
	// ContactBlobKeys returns the blob keys of the contact's stored
	// media, so they can be deleted before the rows naming them.
	ContactBlobKeys(ctx context.Context, workspaceID, contactID int64) ([]string, error)
	// EraseContactStep erases part of a contact in one transaction: up
	// to limit of its conversations (see ErasureStore), or, when no more
	// than limit are left, all of them and then the contact itself, and
	// Done is true. Each conversation deleted appends conversation.deleted
	// (reason DeletedByErasure) and the contact contact.deleted with no
	// personal data. An unknown contact (erased already) is ErrNotFound.
	EraseContactStep(ctx context.Context, workspaceID, contactID int64, limit int) (ErasureStep, error)
}

// ErasureSource says who asked for an erasure.
type ErasureSource string

// The erasure sources: an owner or admin (POST
// /api/v1/contacts/{id}/erase), or Meta's data-deletion callback.
const (
	ErasureByAgent ErasureSource = "agent"
	ErasureByMeta  ErasureSource = "meta"
)

// ErasureStatus is where an erasure request is.
type ErasureStatus string

// The erasure statuses: pending until the worker erased every contact
// (completed) or gave up (failed, with the error).
const (
	ErasurePending   ErasureStatus = "pending"
	ErasureCompleted ErasureStatus = "completed"
	ErasureFailed    ErasureStatus = "failed"
)

// DeletedByErasure is the ConversationDeletedPayload.Reason of a
// conversation deleted by erasing its contact.
const DeletedByErasure = "erasure"

// AuditContactErased is the audit action of a completed erasure; its
// details are ErasureAudit's. AuditContactExported is the audit action of
// a contact's data export; its details are the format and counts.
const (
	AuditContactErased   = "contact.erased"
	AuditContactExported = "contact.exported"
	AuditTargetContact   = "contact"
)

// RedactedPayload is the payload an erasure leaves in an event it
// redacts: the event keeps its seq and kind, and names only the
// conversation or the contact it was about. Redacted is always
// DeletedByErasure; a client skips such an event.
type RedactedPayload struct {
	Redacted       string `json:"redacted"`
	ConversationID int64  `json:"conversation_id,omitempty"`
	ContactID      int64  `json:"contact_id,omitempty"`
}

// MaxErasureContacts bounds the contacts of one request.
const MaxErasureContacts = 100

// ErasureCounts count what an erasure deleted. Events are the event-log
// entries it redacted.
type ErasureCounts struct {
	Contacts      int64 `json:"contacts"`
	Conversations int64 `json:"conversations"`
	Messages      int64 `json:"messages"`
	Media         int64 `json:"media"`
	Events        int64 `json:"events"`
	DeadLetters   int64 `json:"dead_letters"`
}

// Add adds o to c.
func (c *ErasureCounts) Add(o ErasureCounts) {
	c.Contacts += o.Contacts
	c.Conversations += o.Conversations
	c.Messages += o.Messages
	c.Media += o.Media
	c.Events += o.Events
	c.DeadLetters += o.DeadLetters
}

// NewErasureRequest is the input to CreateErasureRequest.
type NewErasureRequest struct {
	Source     ErasureSource
	ContactIDs []int64
	// By is who asked: the agent (and token) for ErasureByAgent, the
	// system (zero) for ErasureByMeta.
	By Actor
}

// Validate reports the first invalid field.
func (r NewErasureRequest) Validate() error {
	switch {
	case r.Source != ErasureByAgent && r.Source != ErasureByMeta:
		return Invalid("source", "must be agent or meta")
	case r.Source == ErasureByAgent && len(r.ContactIDs) != 1:
		return Invalid("contact_ids", "an agent's request erases one contact")
	case len(r.ContactIDs) > MaxErasureContacts:
		return Invalid("contact_ids", "more than %d contacts", MaxErasureContacts)
	}
	for _, id := range r.ContactIDs {
		if id <= 0 {
			return Invalid("contact_ids", "must be positive ids")
		}
	}
	return nil
}

// ErasureRequest is a durable request to erase contacts, with its status.
// It holds no personal data: contact ids, counts and dates only.
type ErasureRequest struct {
	ID          int64         `json:"id"`
	WorkspaceID int64         `json:"workspace_id"`
	Source      ErasureSource `json:"source"`
	ContactIDs  []int64       `json:"contact_ids"`
	// RequestedBy is the agent who asked; 0 for Meta.
	RequestedBy int64         `json:"requested_by,omitempty"`
	TokenID     int64         `json:"-"`
	Status      ErasureStatus `json:"status"`
	// Code is the confirmation code the requester can look the status
	// up by (the public status page).
	Code        string        `json:"confirmation_code"`
	Counts      ErasureCounts `json:"counts"`
	Attempts    int           `json:"attempts"`
	Error       string        `json:"error,omitempty"`
	RequestedAt time.Time     `json:"requested_at"`
	CompletedAt *time.Time    `json:"completed_at,omitempty"`
}

// ErasureUpdate is the input to UpdateErasureRequest.
type ErasureUpdate struct {
	Status   ErasureStatus
	Counts   ErasureCounts
	Attempts int
	Error    string
}

// Validate reports the first invalid field.
func (u ErasureUpdate) Validate() error {
	switch u.Status {
	case ErasurePending, ErasureCompleted, ErasureFailed:
		return nil
	}
	return Invalid("status", "must be pending, completed or failed")
}

// ErasureStep is what one EraseContactStep deleted.
type ErasureStep struct {
	ErasureCounts
	// BlobKeys are the blobs of the deleted media that were stored.
	BlobKeys []string
	// Done is true once the contact itself is gone.
	Done bool
}

// NewErasureCode returns a fresh confirmation code: 20 characters of
// base32 (100 random bits), readable over the phone.
func NewErasureCode() string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: erasure code: " + err.Error())
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:20]
}

// ErasureAudit returns the audit entry of completing r: the request's
// ids, source and counts, nothing personal.
func ErasureAudit(r ErasureRequest) AuditEntry {
	var target int64
	if len(r.ContactIDs) == 1 {
		target = r.ContactIDs[0]
	}
	ids := r.ContactIDs
	if ids == nil {
		ids = []int64{}
	}
	return AuditEntry{
		ActorID: r.RequestedBy, TokenID: r.TokenID, Action: AuditContactErased,
		TargetKind: AuditTargetContact, TargetID: target,
		Details: auditDetails(map[string]any{
			"request_id": r.ID, "source": r.Source, "contact_ids": ids, "counts": r.Counts,
		}),
	}
}

// RedactedConversation and RedactedContact are the payloads an erasure
// writes over the events it redacts.
func RedactedConversation(id int64) json.RawMessage {
	b, _ := json.Marshal(RedactedPayload{Redacted: DeletedByErasure, ConversationID: id})
	return b
}

// RedactedContact: see RedactedConversation.
func RedactedContact(id int64) json.RawMessage {
	b, _ := json.Marshal(RedactedPayload{Redacted: DeletedByErasure, ContactID: id})
	return b
}

// ErasedContact is the contact of the contact.deleted event an erasure
// appends: its id and nothing else.
func ErasedContact(workspaceID, id int64) Contact {
	return Contact{ID: id, WorkspaceID: workspaceID, Attributes: json.RawMessage(`{}`), Identities: []Identity{}}
}

// MinErasureNeedle is the shortest string ErasureNeedles returns: a
// shorter one would match unrelated payloads.
const MinErasureNeedle = 6

// ErasureNeedles returns the strings by which a raw provider payload (a
// dead letter) names the contact: its identities' external ids, its phone
// with and without a leading "+", and its email; each at least
// MinErasureNeedle bytes, none twice.
func ErasureNeedles(c Contact) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if len(s) >= MinErasureNeedle && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, id := range c.Identities {
		add(id.ExternalID)
		add(strings.TrimPrefix(id.ExternalID, "+"))
	}
	add(c.Phone)
	add(strings.TrimPrefix(c.Phone, "+"))
	add(c.Email)
	return out
}
