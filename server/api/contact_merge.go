package api

import "net/http"

type mergeRequest struct {
	FromID int64 `json:"from_id"`
}

// mergeContact serves POST /api/v1/contacts/{id}/merge with
// {"from_id": N}: contact N's identities and conversations move to {id},
// {id}'s empty name, email and phone are filled from N, N's attributes are
// added where {id} lacks the key, and N is deleted. It answers the merged
// contact; an unknown from_id is 404 like an unknown {id}.
func (h *handler) mergeContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req mergeRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.FromID <= 0 {
		h.fail(w, r, invalid("from_id", "must be a contact id"))
		return
	}
	c, _, err := h.store.MergeContacts(r.Context(), principal(r).Workspace.ID, id, req.FromID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
