package api

import "net/http"

// markRead serves POST /api/v1/conversations/{id}/read: the calling agent
// has read the conversation up to its newest message. It takes no body and
// answers 204.
func (h *handler) markRead(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	if _, err := h.store.MarkRead(r.Context(), p.Workspace.ID, id, p.Agent.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
