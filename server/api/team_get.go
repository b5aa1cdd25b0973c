package api

import "net/http"

// getTeam serves GET /api/v1/teams/{id}.
func (h *handler) getTeam(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.store.Team(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
