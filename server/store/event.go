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
	}
	// MessagePayload is the payload of message.* and note.created events;
	// Conversation is the conversation after the change (new activity time).
	MessagePayload struct {
		Message      Message      `json:"message"`
		Conversation Conversation `json:"conversation"`
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
