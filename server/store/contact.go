package store

import (
	"encoding/json"
	"strings"
	"time"
)

// Contact is a customer, known to the workspace through one or more
// channel identities.
type Contact struct {
	ID          int64  `json:"id"`
	WorkspaceID int64  `json:"workspace_id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Phone       string `json:"phone"`
	// Attributes are custom attributes as a JSON object.
	Attributes json.RawMessage `json:"attributes"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// Identity is how a channel knows a contact: a phone number on WhatsApp or
// SMS, a PSID on Messenger, an IGSID on Instagram, an external id on the
// API channel. Channel is an inbox kind, or IdentityChannelForInbox for
// identities that only mean something within one inbox.
type Identity struct {
	Channel    string
	ExternalID string
}

// IdentityChannelForInbox is the Channel of an identity scoped to a single
// inbox, such as an API channel's own user ids.
func IdentityChannelForInbox(inboxID int64) string {
	return "inbox:" + itoa(inboxID)
}

// Validate reports the first invalid field.
func (i Identity) Validate() error {
	if strings.TrimSpace(i.Channel) == "" {
		return Invalid("channel", "must not be empty")
	}
	if strings.TrimSpace(i.ExternalID) == "" {
		return Invalid("external_id", "must not be empty")
	}
	return nil
}

// NewContact holds what is known of a contact when it is first seen.
type NewContact struct {
	Name       string
	Email      string
	Phone      string
	Attributes json.RawMessage
}

// Validate reports the first invalid field.
func (c NewContact) Validate() error {
	return validObject("attributes", c.Attributes)
}
