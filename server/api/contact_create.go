package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type contactRequest struct {
	Name       string           `json:"name"`
	Email      string           `json:"email"`
	Phone      string           `json:"phone"`
	Attributes json.RawMessage  `json:"attributes"`
	Identities []store.Identity `json:"identities"`
}

// createContact serves POST /api/v1/contacts with {"name", "email",
// "phone", "attributes" (an object), "identities" ([{"channel",
// "external_id"}])}, all optional, answering 201 with the contact. An
// identity another contact already has is 409.
func (h *handler) createContact(w http.ResponseWriter, r *http.Request) {
	var req contactRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if string(req.Attributes) == "null" {
		req.Attributes = nil
	}
	c, _, err := h.store.CreateContact(r.Context(), principal(r).Workspace.ID, store.NewContact{
		Name: req.Name, Email: req.Email, Phone: req.Phone, Attributes: req.Attributes,
	}, req.Identities)
	if errors.Is(err, store.ErrConflict) {
		err = &requestError{status: http.StatusConflict, code: "conflict",
			message: "an identity belongs to another contact", field: "identities"}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}
