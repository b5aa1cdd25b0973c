package api

import "net/http"

// deleteLabel serves DELETE /api/v1/labels/{id}, answering 204. The label
// is taken off every conversation carrying it, each with a
// conversation.updated event, in the same transaction.
func (h *handler) deleteLabel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.DeleteLabel(r.Context(), principal(r).Workspace.ID, id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
