package store

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status is a conversation's state in the inbox.
type Status string

// The conversation statuses.
const (
	StatusOpen     Status = "open"
	StatusPending  Status = "pending"
	StatusSnoozed  Status = "snoozed"
	StatusResolved Status = "resolved"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusPending, StatusSnoozed, StatusResolved:
		return true
	}
	return false
}

// Priority is a conversation's priority.
type Priority string

// The priorities, PriorityNone being the default.
const (
	PriorityNone   Priority = "none"
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool {
	switch p {
	case PriorityNone, PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent:
		return true
	}
	return false
}

// Conversation is one thread with one contact in one inbox. Zero
// AssigneeID/TeamID mean unassigned.
type Conversation struct {
	ID             int64      `json:"id"`
	WorkspaceID    int64      `json:"workspace_id"`
	InboxID        int64      `json:"inbox_id"`
	ContactID      int64      `json:"contact_id"`
	Status         Status     `json:"status"`
	SnoozedUntil   *time.Time `json:"snoozed_until,omitempty"`
	AssigneeID     int64      `json:"assignee_id,omitempty"`
	TeamID         int64      `json:"team_id,omitempty"`
	Priority       Priority   `json:"priority"`
	Subject        string     `json:"subject,omitempty"`
	LastMessageID  int64      `json:"last_message_id,omitempty"`
	Labels         []string   `json:"labels"`
	LastActivityAt time.Time  `json:"last_activity_at"`
	// LastInboundAt is when the contact last wrote in this conversation,
	// nil before they did; the messaging windows of WhatsApp, Messenger
	// and Instagram run from it.
	LastInboundAt *time.Time `json:"last_inbound_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// NewConversation is the input to CreateConversation.
type NewConversation struct {
	InboxID    int64
	ContactID  int64
	Status     Status // empty means open
	AssigneeID int64
	TeamID     int64
	Priority   Priority // empty means none
	Subject    string
}

// Normalize fills defaults and reports the first invalid field.
func (c *NewConversation) Normalize() error {
	if c.Status == "" {
		c.Status = StatusOpen
	}
	if c.Priority == "" {
		c.Priority = PriorityNone
	}
	switch {
	case c.InboxID <= 0:
		return Invalid("inbox_id", "required")
	case c.ContactID <= 0:
		return Invalid("contact_id", "required")
	case !c.Status.Valid() || c.Status == StatusSnoozed:
		// Snoozing needs an end; that goes through UpdateConversation.
		return Invalid("status", "must be open, pending or resolved, not %q", c.Status)
	case !c.Priority.Valid():
		return Invalid("priority", "unknown priority %q", c.Priority)
	}
	return nil
}

// ConversationUpdate changes some fields of a conversation; nil fields are
// left alone. AssigneeID or TeamID pointing at 0 unassigns. Setting
// SnoozedUntil alone snoozes; any status other than snoozed clears it.
type ConversationUpdate struct {
	Status       *Status
	SnoozedUntil *time.Time
	AssigneeID   *int64
	TeamID       *int64
	Priority     *Priority
}

// Apply validates u and applies it to c at time now. Both stores load the
// row under a write lock, Apply, and write it back, so the rules live here
// once.
func (u ConversationUpdate) Apply(c *Conversation, now time.Time) error {
	if u.Priority != nil {
		if !u.Priority.Valid() {
			return Invalid("priority", "unknown priority %q", *u.Priority)
		}
		c.Priority = *u.Priority
	}
	if u.AssigneeID != nil {
		if *u.AssigneeID < 0 {
			return Invalid("assignee_id", "must not be negative")
		}
		c.AssigneeID = *u.AssigneeID
	}
	if u.TeamID != nil {
		if *u.TeamID < 0 {
			return Invalid("team_id", "must not be negative")
		}
		c.TeamID = *u.TeamID
	}
	status := c.Status
	if u.Status != nil {
		if !u.Status.Valid() {
			return Invalid("status", "unknown status %q", *u.Status)
		}
		status = *u.Status
	} else if u.SnoozedUntil != nil {
		status = StatusSnoozed
	}
	if status == StatusSnoozed {
		until := u.SnoozedUntil
		if until == nil {
			until = c.SnoozedUntil
		}
		if until == nil || !until.After(now) {
			return Invalid("snoozed_until", "snoozing needs a time in the future")
		}
		t := until.UTC().Truncate(time.Microsecond)
		c.SnoozedUntil = &t
	} else {
		if u.SnoozedUntil != nil {
			return Invalid("snoozed_until", "only a snoozed conversation has a snooze end")
		}
		c.SnoozedUntil = nil
	}
	c.Status = status
	c.UpdatedAt = now
	return nil
}

// ChangedFields lists, by JSON name, the fields a change can set that
// differ between before and after: status, snoozed_until, assignee_id,
// team_id, priority and labels. It is ConversationPayload.Changed.
func ChangedFields(before, after Conversation) []string {
	var out []string
	add := func(changed bool, field string) {
		if changed {
			out = append(out, field)
		}
	}
	add(before.Status != after.Status, "status")
	add(!sameTime(before.SnoozedUntil, after.SnoozedUntil), "snoozed_until")
	add(before.AssigneeID != after.AssigneeID, "assignee_id")
	add(before.TeamID != after.TeamID, "team_id")
	add(before.Priority != after.Priority, "priority")
	add(!slices.Equal(before.Labels, after.Labels), "labels")
	return out
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// AssigneeFilter selects conversations by assignee.
type AssigneeFilter int

// The assignee filters.
const (
	AssigneeAny        AssigneeFilter = iota // every conversation
	AssigneeMe                               // assigned to ConversationFilter.AgentID
	AssigneeUnassigned                       // assigned to nobody
)

// Page size bounds for list methods.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// ConversationFilter selects and pages conversations. Zero values select
// everything; results come newest activity first.
type ConversationFilter struct {
	Status   Status
	InboxID  int64
	TeamID   int64
	Assignee AssigneeFilter
	// AgentID is the agent "me" refers to; required with AssigneeMe.
	AgentID int64
	Label   string
	// ContactID selects the conversations of one contact.
	ContactID int64
	// Unread selects conversations with a message AgentID has not read.
	Unread bool
	// Limit is the page size: DefaultPageSize when zero, at most
	// MaxPageSize.
	Limit int
	// Cursor is a ConversationPage.Next from the previous page.
	Cursor string
}

// Normalize fills defaults and reports the first invalid field.
func (f *ConversationFilter) Normalize() error {
	if f.Status != "" && !f.Status.Valid() {
		return Invalid("status", "unknown status %q", f.Status)
	}
	if f.Assignee == AssigneeMe && f.AgentID <= 0 {
		return Invalid("assignee", "\"me\" needs an agent")
	}
	if f.Unread && f.AgentID <= 0 {
		return Invalid("unread", "needs an agent")
	}
	if f.Assignee < AssigneeAny || f.Assignee > AssigneeUnassigned {
		return Invalid("assignee", "unknown assignee filter")
	}
	if f.ContactID < 0 {
		return Invalid("contact_id", "must not be negative")
	}
	f.Limit = PageSize(f.Limit)
	if f.Cursor != "" {
		if _, err := DecodeCursor(f.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// PageSize clamps a requested page size to (0, MaxPageSize].
func PageSize(n int) int {
	if n <= 0 {
		return DefaultPageSize
	}
	return min(n, MaxPageSize)
}

// ConversationPage is one page of conversations. Next is empty on the last
// page.
type ConversationPage struct {
	Conversations []Conversation
	Next          string
}

// ConversationPreview is what a row of the conversation list shows
// besides the conversation itself: who it is with, and its newest message
// (nil while it has none), cut to PreviewRunes.
type ConversationPreview struct {
	ConversationID int64
	Contact        ContactSummary
	LastMessage    *MessagePreview
}

// ContactSummary names a contact, without its identities or attributes.
type ContactSummary struct {
	ID    int64  `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// MessagePreview is the start of a message, for a list row.
type MessagePreview struct {
	ID         int64       `json:"id"`
	Direction  Direction   `json:"direction"`
	AuthorKind AuthorKind  `json:"author_kind"`
	Type       MessageType `json:"type"`
	// Body is the message's first PreviewRunes characters.
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// PreviewRunes is how many characters of a body a MessagePreview keeps.
const PreviewRunes = 200

// Cursor is a keyset position in the conversation list: the sort key of
// the last row seen. Because the list is ordered by (last_activity_at, id)
// descending and ids are unique, the next page is exactly the rows strictly
// after it, however many rows are inserted meanwhile.
type Cursor struct {
	LastActivityAt time.Time
	ID             int64
}

// Encode returns the opaque form handed to clients.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.LastActivityAt.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses an encoded Cursor.
func DecodeCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, Invalid("cursor", "malformed")
	}
	at, id, ok := strings.Cut(string(raw), ".")
	micros, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return Cursor{}, Invalid("cursor", "malformed")
	}
	return Cursor{LastActivityAt: time.UnixMicro(micros).UTC(), ID: n}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// MaxLabelBytes bounds a label name.
const MaxLabelBytes = 64

// NormalizeLabel trims a label name and checks it: non-empty, bounded, no
// control characters.
func NormalizeLabel(name string) (string, error) { return labelName("label", name) }
