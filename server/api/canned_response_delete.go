package api

import "net/http"

// deleteCannedResponse serves DELETE /api/v1/canned_responses/{id},
// answering 204.
func (h *handler) deleteCannedResponse(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.DeleteCannedResponse(r.Context(), principal(r).Workspace.ID, id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
