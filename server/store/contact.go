package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	// Identities are the channel identities the contact is known by,
	// oldest first. Every read fills them, [] when there are none.
	Identities []Identity `json:"identities"`
	// OptedOutAt is when the contact opted out of messages (STOP), nil
	// while they accept them; outbound messages are refused meanwhile.
	OptedOutAt *time.Time `json:"opted_out_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Identity is how a channel knows a contact: a phone number on WhatsApp or
// SMS, a PSID on Messenger, an IGSID on Instagram, an external id on the
// API channel. Channel is an inbox kind, or IdentityChannelForInbox for
// identities that only mean something within one inbox.
type Identity struct {
	Channel    string `json:"channel"`
	ExternalID string `json:"external_id"`
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

// MaxContactIdentities bounds the identities CreateContact takes at once.
const MaxContactIdentities = 32

// ValidateIdentities checks the identities of a new contact: at most
// MaxContactIdentities, each valid, none given twice. Fields are named
// identities[i].channel and so on.
func ValidateIdentities(ids []Identity) error {
	if len(ids) > MaxContactIdentities {
		return Invalid("identities", "more than %d identities", MaxContactIdentities)
	}
	seen := make(map[Identity]bool, len(ids))
	for i, id := range ids {
		if err := id.Validate(); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return Invalid(fmt.Sprintf("identities[%d].%s", i, ve.Field), "%s", ve.Message)
			}
			return err
		}
		if seen[id] {
			return Invalid(fmt.Sprintf("identities[%d]", i), "given twice")
		}
		seen[id] = true
	}
	return nil
}

// ContactUpdate changes some fields of a contact; nil fields are left
// alone, and a pointer to "" clears a field.
//
// Attributes, when set, is a patch merged into the contact's attributes
// key by key, not a replacement: each top-level key of the patch replaces
// the key of that name (a nested object is replaced whole), a key whose
// value is null is deleted, and keys the patch does not mention stay.
type ContactUpdate struct {
	Name       *string
	Email      *string
	Phone      *string
	Attributes json.RawMessage
}

// Apply validates u and applies it to c at time now. Both stores load the
// row under a write lock, Apply, and write it back, so the rules live here
// once.
func (u ContactUpdate) Apply(c *Contact, now time.Time) error {
	if u.Attributes != nil {
		attrs, err := mergeObjects(c.Attributes, u.Attributes, true)
		if err != nil {
			return err
		}
		c.Attributes = attrs
	}
	for _, f := range []struct {
		v   *string
		dst *string
	}{{u.Name, &c.Name}, {u.Email, &c.Email}, {u.Phone, &c.Phone}} {
		if f.v != nil {
			*f.dst = strings.TrimSpace(*f.v)
		}
	}
	c.UpdatedAt = now
	return nil
}

// MergeContactFields applies the field rules of MergeContacts to into:
// its empty name, email and phone are taken from from, and from's
// attributes are added under the keys into lacks; on a conflict into
// wins. Identities and conversations are the stores' business.
func MergeContactFields(into *Contact, from Contact, now time.Time) error {
	for _, f := range []struct {
		dst *string
		src string
	}{{&into.Name, from.Name}, {&into.Email, from.Email}, {&into.Phone, from.Phone}} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	// Merging into's attributes over from's lets into win every key.
	attrs, err := mergeObjects(from.Attributes, into.Attributes, false)
	if err != nil {
		return err
	}
	into.Attributes = attrs
	into.UpdatedAt = now
	return nil
}

// mergeObjects returns the JSON object base with patch's top-level keys
// written over it; with nullDeletes a null value in patch deletes the key.
func mergeObjects(base, patch json.RawMessage, nullDeletes bool) (json.RawMessage, error) {
	if err := validObject("attributes", patch); err != nil {
		return nil, err
	}
	var b, p map[string]json.RawMessage
	if err := json.Unmarshal(ObjectOrEmpty(base), &b); err != nil || b == nil {
		// Stored attributes are always an object; anything else is a
		// corrupt row, not the caller's mistake.
		return nil, fmt.Errorf("stored attributes %.40q are not a JSON object", base)
	}
	if err := json.Unmarshal(ObjectOrEmpty(patch), &p); err != nil {
		return nil, Invalid("attributes", "must be a JSON object")
	}
	for k, v := range p {
		if nullDeletes && string(v) == "null" {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode attributes: %w", err)
	}
	return out, nil
}

// ContactFilter selects and pages contacts. Results come newest first by
// id: unlike an order by update time, a contact edited while a client
// pages can neither be skipped nor seen twice.
type ContactFilter struct {
	// Query, when not blank, keeps only contacts whose name, email or
	// phone match it as a full-text query (as SearchContacts does).
	Query string
	// Limit is the page size: DefaultPageSize when zero, at most
	// MaxPageSize.
	Limit int
	// Cursor is a ContactPage.Next from the previous page.
	Cursor string
}

// Normalize fills defaults and reports the first invalid field.
func (f *ContactFilter) Normalize() error {
	f.Query = strings.TrimSpace(f.Query)
	if len(f.Query) > MaxSearchQuery {
		return Invalid("q", "longer than %d bytes", MaxSearchQuery)
	}
	f.Limit = PageSize(f.Limit)
	if f.Cursor != "" {
		if _, err := DecodeContactCursor(f.Cursor); err != nil {
			return err
		}
	}
	return nil
}

// ContactPage is one page of contacts. Next is empty on the last page.
type ContactPage struct {
	Contacts []Contact
	Next     string
}

// contactCursorPrefix tells a contact cursor from a conversation cursor,
// so one handed to the wrong list is refused rather than misread.
const contactCursorPrefix = "contact."

// EncodeContactCursor returns the opaque cursor for the page after the
// contact with id lastID.
func EncodeContactCursor(lastID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(contactCursorPrefix + strconv.FormatInt(lastID, 10)))
}

// DecodeContactCursor returns the last id seen from an encoded cursor.
func DecodeContactCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, Invalid("cursor", "malformed")
	}
	rest, ok := strings.CutPrefix(string(raw), contactCursorPrefix)
	id, err := strconv.ParseInt(rest, 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0, Invalid("cursor", "malformed")
	}
	return id, nil
}
