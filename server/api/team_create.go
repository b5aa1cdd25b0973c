package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type teamRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// createTeam serves POST /api/v1/teams with {"name","description"},
// answering 201 with the team; a taken name is 409.
func (h *handler) createTeam(w http.ResponseWriter, r *http.Request) {
	var req teamRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	t, err := h.store.CreateTeam(r.Context(), principal(r).Workspace.ID, store.NewTeam{Name: req.Name, Description: req.Description})
	if err != nil {
		h.fail(w, r, teamConflict(err))
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

// teamConflict names the field a store.ErrConflict of a team write is
// about.
func teamConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return conflict("name", "a team with this name already exists")
	}
	return err
}
