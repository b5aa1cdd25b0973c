package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// contactPatch is the body of PATCH /api/v1/contacts/{id}. The fields stay
// raw so that absent (leave alone) and null differ.
type contactPatch struct {
	Name       json.RawMessage `json:"name"`
	Email      json.RawMessage `json:"email"`
	Phone      json.RawMessage `json:"phone"`
	Attributes json.RawMessage `json:"attributes"`
}

// update maps the patch onto a store.ContactUpdate: null name, email or
// phone clears it; attributes must be an object, merged key by key into
// the contact's (a null value deletes its key).
func (p contactPatch) update() (store.ContactUpdate, error) {
	var u store.ContactUpdate
	var err error
	if u.Name, err = optional[string](p.Name, "name", true); err != nil {
		return u, err
	}
	if u.Email, err = optional[string](p.Email, "email", true); err != nil {
		return u, err
	}
	if u.Phone, err = optional[string](p.Phone, "phone", true); err != nil {
		return u, err
	}
	if string(p.Attributes) == "null" {
		return u, invalid("attributes", "must be an object; set a key to null to delete it")
	}
	u.Attributes = p.Attributes
	if u.Name == nil && u.Email == nil && u.Phone == nil && u.Attributes == nil {
		return u, invalid("", "nothing to change")
	}
	return u, nil
}

// updateContact serves PATCH /api/v1/contacts/{id} with any of {"name",
// "email", "phone", "attributes"}, answering the updated contact.
// Attributes merge: {"attributes":{"plan":"pro","trial":null}} sets plan,
// deletes trial and keeps every other key.
func (h *handler) updateContact(w http.ResponseWriter, r *http.Request) {
	servePatch(h, w, r, &contactPatch{}, func(ctx context.Context, workspaceID, id int64, u store.ContactUpdate) (store.Contact, error) {
		c, _, err := h.store.UpdateContact(ctx, workspaceID, id, u)
		return c, err
	}, nil)
}
