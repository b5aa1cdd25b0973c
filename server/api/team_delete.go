package api

import "net/http"

// deleteTeam serves DELETE /api/v1/teams/{id}, answering 204. The team's
// conversations are not refused but unrouted: their team_id is unset, each
// with a conversation.updated event, in the same transaction. A team is a
// routing choice, not data, so deleting it should not need every
// conversation re-routed by hand first.
func (h *handler) deleteTeam(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.DeleteTeam(r.Context(), principal(r).Workspace.ID, id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
