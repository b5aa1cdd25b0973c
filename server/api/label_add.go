package api

import "net/http"

type labelRequest struct {
	Label string `json:"label"`
}

// addLabel serves POST /api/v1/conversations/{id}/labels with
// {"label": name}, answering the labelled conversation. Adding a label
// twice changes nothing and is not an error.
func (h *handler) addLabel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req labelRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	c, _, err := h.store.AddLabel(r.Context(), principal(r).Workspace.ID, id, req.Label)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
