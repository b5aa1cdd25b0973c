package api

import "net/http"

// getConversation serves GET /api/v1/conversations/{id}.
func (h *handler) getConversation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.store.Conversation(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
