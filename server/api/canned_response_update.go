package api

import (
	"encoding/json"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// cannedResponsePatch is the body of PATCH /api/v1/canned_responses/{id}:
// absent fields are left alone, null is invalid.
type cannedResponsePatch struct {
	ShortCode json.RawMessage `json:"short_code"`
	Content   json.RawMessage `json:"content"`
}

func (p cannedResponsePatch) update() (store.CannedResponseUpdate, error) {
	var u store.CannedResponseUpdate
	var err error
	if u.ShortCode, err = optional[string](p.ShortCode, "short_code", false); err != nil {
		return u, err
	}
	if u.Content, err = optional[string](p.Content, "content", false); err != nil {
		return u, err
	}
	if u == (store.CannedResponseUpdate{}) {
		return u, invalid("", "nothing to change")
	}
	return u, nil
}

// updateCannedResponse serves PATCH /api/v1/canned_responses/{id} with
// short_code and/or content; a taken short code is 409.
func (h *handler) updateCannedResponse(w http.ResponseWriter, r *http.Request) {
	servePatch(h, w, r, &cannedResponsePatch{}, h.store.UpdateCannedResponse, cannedConflict)
}
