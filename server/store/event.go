package store

import (
	"encoding/json"
	"time"
)

// The event kinds written to the workspace event log. They double as the
// Pusher event names the inbox publishes.
const (
	EventConversationCreated = "conversation.created"
	EventConversationUpdated = "conversation.updated"
	EventConversationRead    = "conversation.read"
	EventMessageCreated      = "message.created"
	EventMessageUpdated      = "message.updated"
	EventNoteCreated         = "note.created"
)

// The event kinds of workspace settings: teams (membership changes are
// team.updated), labels and canned responses. Deleting a team appends
// conversation.updated for each conversation routed to it (team_id unset),
// then team.deleted; renaming or deleting a label appends
// conversation.updated for each conversation carrying it, then
// label.updated or label.deleted. AddLabel creating a label by name
// appends label.created before its conversation.updated.
const (
	EventTeamCreated           = "team.created"
	EventTeamUpdated           = "team.updated"
	EventTeamDeleted           = "team.deleted"
	EventLabelCreated          = "label.created"
	EventLabelUpdated          = "label.updated"
	EventLabelDeleted          = "label.deleted"
	EventCannedResponseCreated = "canned_response.created"
	EventCannedResponseUpdated = "canned_response.updated"
	EventCannedResponseDeleted = "canned_response.deleted"
)

// The contact event kinds. A merge appends conversation.updated for each
// conversation it moves, then contact.merged.
const (
	EventContactCreated = "contact.created"
	EventContactUpdated = "contact.updated"
	EventContactDeleted = "contact.deleted"
	EventContactMerged  = "contact.merged"
)

// The membership event kinds. member.added comes from JoinByEmail (an
// accepted invitation, or the workspace's auto-join domain), each followed
// by invitation.accepted when an invitation was used; member.updated is a
// role change; member.removed a removal, preceded by conversation.updated
// for each conversation it unassigned and team.updated for each team it
// left. Inviting an email that already has an outstanding invitation
// appends invitation.revoked for the old one before invitation.created.
// workspace.updated is a change of the workspace's name or auto-join
// domain. CreateAgent and CreateWorkspace, the bootstrap paths, append
// nothing. API tokens are not inbox state and append nothing; their
// history is in the audit log.
const (
	EventMemberAdded        = "member.added"
	EventMemberUpdated      = "member.updated"
	EventMemberRemoved      = "member.removed"
	EventInvitationCreated  = "invitation.created"
	EventInvitationRevoked  = "invitation.revoked"
	EventInvitationAccepted = "invitation.accepted"
	EventWorkspaceUpdated   = "workspace.updated"
)

// EventWorkspaceImported is appended, once, by a bulk load
// (BulkLoader) in place of an event per row it wrote; its payload is an
// ImportPayload, counts only. A client that sees it refetches its lists
// instead of patching them.
const EventWorkspaceImported = "workspace.imported"

// Event is one entry of a workspace's append-only event log. Seq is
// strictly increasing and gap-free within the workspace: every committed
// change gets the next number, and a rolled-back one gets none.
type Event struct {
	WorkspaceID    int64           `json:"workspace_id"`
	Seq            int64           `json:"seq"`
	Kind           string          `json:"kind"`
	ConversationID int64           `json:"conversation_id,omitempty"`
	Payload        json.RawMessage `json:"payload"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Payload shapes, one object per event kind, so consumers decode them
// without guessing.
type (
	// ConversationPayload is the payload of conversation.* events.
	ConversationPayload struct {
		Conversation Conversation `json:"conversation"`
		// AgentID is the reader of conversation.read.
		AgentID int64 `json:"agent_id,omitempty"`
		// Changed names the fields of Conversation, by JSON name, that a
		// conversation.updated changed (see ChangedFields): a consumer
		// tells an assignment from a status change without the previous
		// state. Empty when an update set fields to what they were.
		Changed []string `json:"changed,omitempty"`
	}
	// MessagePayload is the payload of message.* and note.created events;
	// Conversation is the conversation after the change (new activity time).
	MessagePayload struct {
		Message      Message      `json:"message"`
		Conversation Conversation `json:"conversation"`
	}
	// TeamPayload is the payload of team.* events: the team after the
	// change, or as it was for team.deleted.
	TeamPayload struct {
		Team Team `json:"team"`
	}
	// LabelPayload is the payload of label.* events: the label after the
	// change, or as it was for label.deleted. PreviousName is the name a
	// label.updated renamed it from.
	LabelPayload struct {
		Label        Label  `json:"label"`
		PreviousName string `json:"previous_name,omitempty"`
	}
	// CannedResponsePayload is the payload of canned_response.* events.
	CannedResponsePayload struct {
		CannedResponse CannedResponse `json:"canned_response"`
	}
	// MemberPayload is the payload of member.* events: the member after
	// the change, or as it was for member.removed. Via says how a
	// member.added joined (JoinedByInvitation, JoinedByDomain);
	// PreviousRole is the role a member.updated changed.
	MemberPayload struct {
		Member       Agent  `json:"member"`
		Via          string `json:"via,omitempty"`
		PreviousRole Role   `json:"previous_role,omitempty"`
	}
	// InvitationPayload is the payload of invitation.* events.
	InvitationPayload struct {
		Invitation Invitation `json:"invitation"`
	}
	// WorkspacePayload is the payload of workspace.updated: the settings
	// members may see (never the app secret), and the JSON names of the
	// fields that changed.
	WorkspacePayload struct {
		ID             int64    `json:"id"`
		Name           string   `json:"name"`
		AutoJoinDomain string   `json:"auto_join_domain"`
		Changed        []string `json:"changed"`
	}
	// ContactPayload is the payload of contact.* events: the contact after
	// the change, or as it was for contact.deleted. For contact.merged it
	// is the surviving contact, and MergedID the contact merged into it
	// and deleted.
	ContactPayload struct {
		Contact  Contact `json:"contact"`
		MergedID int64   `json:"merged_id,omitempty"`
	}
)

// EventPage is an answer to EventsAfter.
type EventPage struct {
	Events  []Event
	HasMore bool
	// OldestSeq is the oldest seq still retained, or LatestSeq+1 when the
	// log is empty; asking for events after OldestSeq-1 or later is
	// answerable.
	OldestSeq int64
	// LatestSeq is the newest seq handed out.
	LatestSeq int64
}

// MaxEventPage bounds one EventsAfter page.
const MaxEventPage = 1000
