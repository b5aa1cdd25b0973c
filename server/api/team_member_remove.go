package api

import "net/http"

// removeTeamMember serves DELETE /api/v1/teams/{id}/members/{agent_id},
// answering the team. Removing an agent who is not on the team changes
// nothing and is not an error.
func (h *handler) removeTeamMember(w http.ResponseWriter, r *http.Request) {
	h.changeTeamMember(w, r, h.store.RemoveTeamMember)
}
