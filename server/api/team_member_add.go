package api

import (
	"context"
	"net/http"
)

// addTeamMember serves PUT /api/v1/teams/{id}/members/{agent_id},
// answering the team. Adding a member twice changes nothing and is not an
// error; an agent who is not a member of the workspace is 400 on
// agent_id, like any id in a request that names nothing of the workspace.
func (h *handler) addTeamMember(w http.ResponseWriter, r *http.Request) {
	h.changeTeamMember(w, r, h.store.AddTeamMember)
}

// changeTeamMember parses the team and agent ids of the path, applies
// change and answers the team as it is now.
func (h *handler) changeTeamMember(w http.ResponseWriter, r *http.Request, change func(ctx context.Context, workspaceID, teamID, agentID int64) error) {
	teamID, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	agentID, err := pathID(r, "agent_id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ws := principal(r).Workspace.ID
	if err := change(r.Context(), ws, teamID, agentID); err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.store.Team(r.Context(), ws, teamID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}
