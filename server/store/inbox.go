package store

import (
	"encoding/json"
	"strings"
	"time"
)

// InboxKind is the kind of channel an inbox connects.
type InboxKind string

// The channel kinds.
const (
	InboxWhatsApp  InboxKind = "whatsapp"
	InboxMessenger InboxKind = "messenger"
	InboxInstagram InboxKind = "instagram"
	InboxSMS       InboxKind = "sms"
	InboxAPI       InboxKind = "api"
)

// Valid reports whether k is a known kind.
func (k InboxKind) Valid() bool {
	switch k {
	case InboxWhatsApp, InboxMessenger, InboxInstagram, InboxSMS, InboxAPI:
		return true
	}
	return false
}

// Inbox is one connected channel account: a WhatsApp number, a Facebook
// page, an Instagram account, a Twilio number, an API channel.
type Inbox struct {
	ID          int64
	WorkspaceID int64
	Kind        InboxKind
	Name        string
	// Settings is provider configuration as a JSON object (phone number
	// id, page id, ...).
	Settings json.RawMessage
	// Credentials is opaque to the store; the channel layer encrypts it.
	Credentials []byte
	CreatedAt   time.Time
}

// NewInbox is the input to CreateInbox.
type NewInbox struct {
	Kind        InboxKind
	Name        string
	Settings    json.RawMessage
	Credentials []byte
}

// Validate reports the first invalid field.
func (i NewInbox) Validate() error {
	if !i.Kind.Valid() {
		return Invalid("kind", "unknown inbox kind %q", i.Kind)
	}
	if strings.TrimSpace(i.Name) == "" {
		return Invalid("name", "must not be empty")
	}
	return validObject("settings", i.Settings)
}

// ValidObject reports an invalid field unless raw is empty or a JSON
// object, for the stores' JSON object columns.
func ValidObject(field string, raw json.RawMessage) error { return validObject(field, raw) }

// validObject accepts an empty value (stored as {}) or a JSON object.
func validObject(field string, raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return Invalid(field, "must be a JSON object")
	}
	return nil
}

// ObjectOrEmpty returns raw, or {} when raw is empty, for JSON object
// columns that are never NULL.
func ObjectOrEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage(`{}`)
	}
	return raw
}
