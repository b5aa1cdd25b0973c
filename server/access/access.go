// Package access owns who may do what in a workspace: the actions the API
// guards and the one table that grants them to roles. Nothing else decides
// permissions; the API asks Can once per request, before the handler runs.
//
// The matrix (✓ granted, · refused):
//
//	action                   owner admin agent
//	read_inbox                 ✓     ✓     ✓    conversations, messages, events, search, members, teams, labels, canned responses
//	reply_to_conversation      ✓     ✓     ✓    replies and private notes (with @mentions)
//	update_conversation        ✓     ✓     ✓    status, snooze, priority, assignee, team; put labels on and off
//	manage_contacts            ✓     ✓     ✓    create, edit, merge and delete contacts
//	manage_labels              ✓     ✓     ·    create, rename, recolour and delete labels
//	manage_canned_responses    ✓     ✓     ·    create, edit and delete canned responses
//	manage_teams               ✓     ✓     ·    create, edit and delete teams; team membership
//	manage_agents              ✓     ✓     ·    invite and remove members, change non-owner roles
//	manage_tokens              ✓     ✓     ·    issue and revoke API tokens of other members
//	manage_workspace           ✓     ✓     ·    workspace name, auto-join domain, Pusher app settings, inboxes
//	view_audit_log             ✓     ✓     ·    read who signed in, invited, changed roles, issued or revoked tokens
//	manage_owners              ✓     ·     ·    make or unmake owners, transfer ownership
//	delete_workspace           ✓     ·     ·    delete the workspace and all its data
//
// So an owner may do everything; an admin everything but what touches
// ownership and the workspace's existence; an agent works conversations
// and contacts, and uses the labels and canned responses others curate.
// An unknown role or action is refused. Every member manages its own API
// tokens; manage_tokens is for other members'.
//
// The store's rank rule (store.Actor.Permits) backs manage_owners under
// its locks: no member grants, changes or removes a role stronger than its
// own, so a role that changes between the API's check and the write
// cannot slip an admin past it.
//
// The role asked about is the principal's effective role: the weaker of
// its API token's role and its agent's current membership
// (store.Principal.Role), so a token never grants more than its agent has.
package access

import "github.com/switchboard-inbox/switchboard/server/store"

// Action is something a member of a workspace may be allowed to do. Its
// value is the name the API's 403 answers carry.
type Action string

// The actions, in the order of the matrix above.
const (
	ReadInbox             Action = "read_inbox"
	ReplyToConversation   Action = "reply_to_conversation"
	UpdateConversation    Action = "update_conversation"
	ManageContacts        Action = "manage_contacts"
	ManageLabels          Action = "manage_labels"
	ManageCannedResponses Action = "manage_canned_responses"
	ManageTeams           Action = "manage_teams"
	ManageAgents          Action = "manage_agents"
	ManageTokens          Action = "manage_tokens"
	ManageWorkspace       Action = "manage_workspace"
	ViewAuditLog          Action = "view_audit_log"
	ManageOwners          Action = "manage_owners"
	DeleteWorkspace       Action = "delete_workspace"
)

// ok and no fill the matrix's cells, the same width so its columns line
// up.
const (
	ok = true
	no = false
)

// matrix is the permission table, the package comment's matrix in Go: one
// row per action, one column per role. TestMatrixMatchesDoc holds the two
// to each other.
var matrix = [...]struct {
	owner, admin, agent bool
	action              Action
}{
	// owner admin agent
	{ok, ok, ok, ReadInbox},
	{ok, ok, ok, ReplyToConversation},
	{ok, ok, ok, UpdateConversation},
	{ok, ok, ok, ManageContacts},
	{ok, ok, no, ManageLabels},
	{ok, ok, no, ManageCannedResponses},
	{ok, ok, no, ManageTeams},
	{ok, ok, no, ManageAgents},
	{ok, ok, no, ManageTokens},
	{ok, ok, no, ManageWorkspace},
	{ok, ok, no, ViewAuditLog},
	{ok, no, no, ManageOwners},
	{ok, no, no, DeleteWorkspace},
}

// Can reports whether role may perform a.
func Can(role store.Role, a Action) bool {
	for _, row := range matrix {
		if row.action != a {
			continue
		}
		switch role {
		case store.RoleOwner:
			return row.owner
		case store.RoleAdmin:
			return row.admin
		case store.RoleAgent:
			return row.agent
		}
		return false
	}
	return false
}

// Actions returns every action, in the order of the matrix.
func Actions() []Action {
	out := make([]Action, len(matrix))
	for i, row := range matrix {
		out[i] = row.action
	}
	return out
}

// Valid reports whether a is one of the defined actions.
func (a Action) Valid() bool {
	for _, row := range matrix {
		if row.action == a {
			return true
		}
	}
	return false
}
