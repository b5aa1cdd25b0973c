package api

import "net/http"

// removeLabel serves DELETE /api/v1/conversations/{id}/labels/{label},
// answering the conversation without the label. Removing a label the
// conversation does not carry changes nothing and is not an error.
func (h *handler) removeLabel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, _, err := h.store.RemoveLabel(r.Context(), principal(r).Workspace.ID, id, r.PathValue("label"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
