package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Actor is who makes a change to a workspace's members, invitations,
// tokens or settings: the store checks it against the rank rule (see
// Permits) and names it in the audit log.
//
// The zero Actor is the system: the server itself, as when a command-line
// bootstrap mints a token or a sign-in accepts an invitation. The API
// always acts as its principal (ActorOf), never as the system.
type Actor struct {
	// AgentID is the acting member; 0 for the system.
	AgentID int64
	// TokenID is the API token the member acted through; 0 for a browser
	// session.
	TokenID int64
	// Role is the member's effective role (Principal.Role).
	Role Role
}

// ActorOf returns the actor a request of p acts as.
func ActorOf(p Principal) Actor {
	return Actor{AgentID: p.Agent.ID, TokenID: p.TokenID, Role: p.Role}
}

// IsSystem reports whether a is the server itself.
func (a Actor) IsSystem() bool { return a.AgentID == 0 }

// Permits reports whether a may give or take away role r: the rank rule.
// A member never grants a role stronger than its own, nor changes or
// removes a member (or a member's token, or an invitation) whose role is
// stronger than its own; the system may do anything. So an admin cannot
// make, unmake or remove an owner. The store checks it under the row locks
// of the change, backing the API's permission check (access.ManageOwners)
// against a role that changes in between.
func (a Actor) Permits(r Role) bool { return a.IsSystem() || a.Role.AtLeast(r) }

// Membership is one person's place in one workspace. Agent.Role equals
// Role.
type Membership struct {
	Workspace Workspace
	Agent     Agent
	Role      Role
}

// How a person became a member, in member.added payloads.
const (
	JoinedByInvitation = "invitation"
	JoinedByDomain     = "domain"
)

// DefaultInvitationTTL is how long an invitation stays acceptable when
// NewInvitation.ExpiresIn is zero; MaxInvitationTTL is the longest
// allowed.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	MaxInvitationTTL     = 30 * 24 * time.Hour
)

// Invitation lets a person, known by email, join a workspace with a role:
// the next time they sign in with that email verified (JoinByEmail) before
// ExpiresAt. A workspace holds at most one outstanding (neither accepted
// nor revoked) invitation per email; inviting the email again replaces it.
type Invitation struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	Email       string `json:"email"`
	Role        Role   `json:"role"`
	// InvitedBy is the inviting agent; 0 when the system invited.
	InvitedBy  int64      `json:"invited_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	// AcceptedBy is the agent who accepted.
	AcceptedBy int64      `json:"accepted_by,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// InvitationStatus is where an invitation stands.
type InvitationStatus string

// The invitation statuses.
const (
	InvitationPending  InvitationStatus = "pending"
	InvitationExpired  InvitationStatus = "expired"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
)

// Status reports i's status at now.
func (i Invitation) Status(now time.Time) InvitationStatus {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// NewInvitation is the input to CreateInvitation.
type NewInvitation struct {
	Email string
	// Role defaults to agent.
	Role Role
	// ExpiresIn defaults to DefaultInvitationTTL and is at most
	// MaxInvitationTTL.
	ExpiresIn time.Duration
}

// Normalize trims the email, fills the defaults and reports the first
// invalid field.
func (ni *NewInvitation) Normalize() error {
	ni.Email = strings.TrimSpace(ni.Email)
	if err := validateEmail("email", ni.Email); err != nil {
		return err
	}
	if ni.Role == "" {
		ni.Role = RoleAgent
	}
	if !ni.Role.Valid() {
		return Invalid("role", "must be owner, admin or agent, not %q", ni.Role)
	}
	if ni.ExpiresIn == 0 {
		ni.ExpiresIn = DefaultInvitationTTL
	}
	if ni.ExpiresIn < 0 || ni.ExpiresIn > MaxInvitationTTL {
		return Invalid("expires_in", "must be positive and at most %d days", MaxInvitationTTL/(24*time.Hour))
	}
	return nil
}

// NormalizeJoinEmail trims an email JoinByEmail was given and checks it is
// an email address.
func NormalizeJoinEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	return email, validateEmail("email", email)
}

// WorkspaceUpdate changes a workspace's settings; nil fields are left
// alone. An empty AutoJoinDomain turns auto-join off.
type WorkspaceUpdate struct {
	Name           *string
	AutoJoinDomain *string
}

// Apply validates u and applies it to w, returning the JSON names of the
// fields it changed.
func (u WorkspaceUpdate) Apply(w *Workspace) (changed []string, err error) {
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if name == "" {
			return nil, Invalid("name", "must not be empty")
		}
		if name != w.Name {
			w.Name, changed = name, append(changed, "name")
		}
	}
	if u.AutoJoinDomain != nil {
		d, err := NormalizeDomain("auto_join_domain", strings.TrimPrefix(strings.TrimSpace(*u.AutoJoinDomain), "@"))
		if err != nil {
			return nil, err
		}
		if d != w.AutoJoinDomain {
			w.AutoJoinDomain, changed = d, append(changed, "auto_join_domain")
		}
	}
	return changed, nil
}

// auditDetails encodes the details of an audit entry the store writes
// itself. Its values are plain strings, numbers and slices of them, so
// encoding cannot fail.
func auditDetails(kv map[string]any) json.RawMessage {
	b, err := json.Marshal(kv)
	if err != nil {
		panic(fmt.Sprintf("store: audit details: %v", err))
	}
	return b
}

// MemberAudit returns the audit entry of a change by by to a member.
func MemberAudit(by Actor, action string, agentID int64, details map[string]any) AuditEntry {
	return AuditEntry{ActorID: by.AgentID, TokenID: by.TokenID, Action: action, TargetKind: AuditTargetAgent, TargetID: agentID, Details: auditDetails(details)}
}

// InvitationAudit returns the audit entry of a change by by to an
// invitation.
func InvitationAudit(by Actor, action string, inv Invitation, details map[string]any) AuditEntry {
	if details == nil {
		details = map[string]any{}
	}
	details["email"], details["role"] = inv.Email, inv.Role
	return AuditEntry{ActorID: by.AgentID, TokenID: by.TokenID, Action: action, TargetKind: AuditTargetInvitation, TargetID: inv.ID, Details: auditDetails(details)}
}

// TokenAudit returns the audit entry of a change by by to an API token.
func TokenAudit(by Actor, action string, t APIToken) AuditEntry {
	return AuditEntry{ActorID: by.AgentID, TokenID: by.TokenID, Action: action, TargetKind: AuditTargetToken, TargetID: t.ID,
		Details: auditDetails(map[string]any{"agent_id": t.AgentID, "name": t.Name, "role": t.Role})}
}

// WorkspaceAudit returns the audit entry of a settings change by by.
func WorkspaceAudit(by Actor, w Workspace, changed []string) AuditEntry {
	d := map[string]any{"changed": changed}
	for _, f := range changed {
		switch f {
		case "name":
			d["name"] = w.Name
		case "auto_join_domain":
			d["auto_join_domain"] = w.AutoJoinDomain
		}
	}
	return AuditEntry{ActorID: by.AgentID, TokenID: by.TokenID, Action: AuditWorkspaceUpdated, TargetKind: AuditTargetWorkspace, TargetID: w.ID, Details: auditDetails(d)}
}
