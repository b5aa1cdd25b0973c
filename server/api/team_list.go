package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type teamList struct {
	Teams []store.Team `json:"teams"`
}

// listTeams serves GET /api/v1/teams: the workspace's teams by name, each
// with its members' agent ids.
func (h *handler) listTeams(w http.ResponseWriter, r *http.Request) {
	teams, err := h.store.ListTeams(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if teams == nil {
		teams = []store.Team{}
	}
	writeJSON(w, http.StatusOK, teamList{Teams: teams})
}
