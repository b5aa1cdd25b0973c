package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// contactAIView is a contact's AI state.
type contactAIView struct {
	ContactID int64      `json:"contact_id"`
	Enabled   bool       `json:"enabled"`
	OffAt     *time.Time `json:"off_at"`
}

func (h *handler) contactAI(w http.ResponseWriter, r *http.Request, workspaceID, contactID int64) {
	off, err := h.store.ContactAIOffAt(r.Context(), workspaceID, contactID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, contactAIView{ContactID: contactID, Enabled: off == nil, OffAt: off})
}

// getContactAI serves GET /api/v1/contacts/{id}/ai: whether AI may
// process the contact's conversations.
func (h *handler) getContactAI(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.contactAI(w, r, principal(r).Workspace.ID, id)
}

type contactAIRequest struct {
	Enabled *bool `json:"enabled"`
}

// setContactAI serves POST /api/v1/contacts/{id}/ai with {"enabled":
// false|true}: the contact asked that no AI read their conversations (or
// agreed again). Each change is kept in the contact's consent records
// (ai_off, ai_on); setting the current state changes nothing. While off,
// no draft is made for the contact and their conversations are not
// learned from.
func (h *handler) setContactAI(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req contactAIRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Enabled == nil {
		h.fail(w, r, invalid("enabled", "required: true or false"))
		return
	}
	p := principal(r)
	if _, err := h.store.SetContactAI(r.Context(), p.Workspace.ID, id, store.AIConsentChange{
		Enabled: *req.Enabled, Channel: "api", Source: "agent:" + strconv.FormatInt(p.Agent.ID, 10),
	}); err != nil {
		h.fail(w, r, err)
		return
	}
	if !*req.Enabled && h.ai != nil {
		h.ai.CancelContact(p.Workspace.ID, id)
	}
	h.contactAI(w, r, p.Workspace.ID, id)
}
