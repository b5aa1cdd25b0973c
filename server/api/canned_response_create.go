package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type cannedResponseRequest struct {
	ShortCode string `json:"short_code"`
	Content   string `json:"content"`
}

// createCannedResponse serves POST /api/v1/canned_responses with
// {"short_code","content"}, answering 201 with the reply; a taken short
// code is 409.
func (h *handler) createCannedResponse(w http.ResponseWriter, r *http.Request) {
	var req cannedResponseRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.store.CreateCannedResponse(r.Context(), principal(r).Workspace.ID, store.CannedResponse{ShortCode: req.ShortCode, Content: req.Content})
	if err != nil {
		h.fail(w, r, cannedConflict(err))
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

// cannedConflict names the field a store.ErrConflict of a canned response
// write is about.
func cannedConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return conflict("short_code", "a canned response with this short code already exists")
	}
	return err
}
