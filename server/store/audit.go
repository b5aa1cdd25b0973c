package store

import (
	"bytes"
	"encoding/json"
	"time"
)

// The audit actions the store records itself, each in the transaction of
// the change it describes, and the sign-in actions server/auth records
// through RecordAudit. Details (AuditEntry.Details) per action:
//
//	invitation.created   email, role, expires_at, replaced (ids of the outstanding invitations it replaced)
//	invitation.revoked   email, role
//	invitation.accepted  email, role; the actor is the agent who signed in
//	member.joined        domain, role: joined by the workspace's auto-join domain; the actor is the agent
//	member.role_changed  from, to
//	member.removed       role, tokens (how many of its API tokens went with it)
//	token.created        agent_id, name, role
//	token.revoked        agent_id, name, role
//	workspace.updated    changed, and the new value of each changed field
//	inbox.created        kind, name
//	inbox.configured     kind, name (never the configuration: it holds secrets)
//	sign_in, sign_out    as server/auth records them
const (
	AuditInvitationCreated  = "invitation.created"
	AuditInvitationRevoked  = "invitation.revoked"
	AuditInvitationAccepted = "invitation.accepted"
	AuditMemberJoined       = "member.joined"
	AuditMemberRoleChanged  = "member.role_changed"
	AuditMemberRemoved      = "member.removed"
	AuditTokenCreated       = "token.created"
	AuditTokenRevoked       = "token.revoked"
	AuditWorkspaceUpdated   = "workspace.updated"
	AuditInboxCreated       = "inbox.created"
	AuditInboxConfigured    = "inbox.configured"
	AuditSignIn             = "sign_in"
	AuditSignOut            = "sign_out"
)

// The kinds of audit targets.
const (
	AuditTargetAgent      = "agent"
	AuditTargetInvitation = "invitation"
	AuditTargetToken      = "token"
	AuditTargetWorkspace  = "workspace"
	AuditTargetInbox      = "inbox"
)

// Audit actor kinds, as AuditEntry.ActorKind reports them.
const (
	AuditActorAgent  = "agent"
	AuditActorSystem = "system"
)

// Limits of an audit entry written through RecordAudit.
const (
	MaxAuditActionBytes  = 64
	MaxAuditDetailsBytes = 4 << 10
)

// AuditEntry is one line of a workspace's audit log: who did what to
// which member, invitation, token or setting. The log is append-only and
// kept apart from the event log: it is not published to members and is
// never pruned with events.
type AuditEntry struct {
	ID          int64 `json:"id"`
	WorkspaceID int64 `json:"workspace_id"`
	// ActorKind is "agent" when ActorID is set, else "system". It is
	// derived from ActorID on write.
	ActorKind string `json:"actor_kind"`
	// ActorID is the acting agent; 0 for the system.
	ActorID int64 `json:"actor_id,omitempty"`
	// TokenID is the API token the agent acted through, if any.
	TokenID    int64  `json:"token_id,omitempty"`
	Action     string `json:"action"`
	TargetKind string `json:"target_kind,omitempty"`
	TargetID   int64  `json:"target_id,omitempty"`
	// Details is a JSON object; {} when there are none.
	Details json.RawMessage `json:"details"`
	// CreatedAt is set by the store when zero.
	CreatedAt time.Time `json:"created_at"`
}

// Normalize validates e for RecordAudit, filling ActorKind, empty Details
// and a zero CreatedAt (with now).
func (e *AuditEntry) Normalize(now time.Time) error {
	switch {
	case e.Action == "":
		return Invalid("action", "must not be empty")
	case len(e.Action) > MaxAuditActionBytes:
		return Invalid("action", "longer than %d bytes", MaxAuditActionBytes)
	case len(e.TargetKind) > MaxAuditActionBytes:
		return Invalid("target_kind", "longer than %d bytes", MaxAuditActionBytes)
	case len(e.Details) > MaxAuditDetailsBytes:
		return Invalid("details", "longer than %d bytes", MaxAuditDetailsBytes)
	}
	if len(bytes.TrimSpace(e.Details)) == 0 {
		e.Details = json.RawMessage(`{}`)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(e.Details, &obj); err != nil || obj == nil {
		return Invalid("details", "must be a JSON object")
	}
	e.ActorKind = AuditActorSystem
	if e.ActorID != 0 {
		e.ActorKind = AuditActorAgent
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Microsecond)
	return nil
}

// AuditFilter pages a workspace's audit log, newest first.
type AuditFilter struct {
	// Before, when set, returns entries older than the entry with this id
	// (AuditPage.NextBefore of the previous page).
	Before int64
	// Action, when set, returns only entries of this action.
	Action string
	// Limit is 1..MaxPageSize; DefaultPageSize when zero.
	Limit int
}

// AuditPage is an answer to ListAudit.
type AuditPage struct {
	Entries []AuditEntry
	// NextBefore is the Before of the next page; 0 on the last page.
	NextBefore int64
}

// NormalizeLimit clamps f.Limit to 1..MaxPageSize, DefaultPageSize when
// zero.
func (f *AuditFilter) NormalizeLimit() {
	if f.Limit <= 0 {
		f.Limit = DefaultPageSize
	}
	f.Limit = min(f.Limit, MaxPageSize)
}
