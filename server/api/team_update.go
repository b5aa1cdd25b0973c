package api

import (
	"encoding/json"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// teamPatch is the body of PATCH /api/v1/teams/{id}: absent fields are
// left alone, null is invalid.
type teamPatch struct {
	Name        json.RawMessage `json:"name"`
	Description json.RawMessage `json:"description"`
}

func (p teamPatch) update() (store.TeamUpdate, error) {
	var u store.TeamUpdate
	var err error
	if u.Name, err = optional[string](p.Name, "name", false); err != nil {
		return u, err
	}
	if u.Description, err = optional[string](p.Description, "description", false); err != nil {
		return u, err
	}
	if u == (store.TeamUpdate{}) {
		return u, invalid("", "nothing to change")
	}
	return u, nil
}

// updateTeam serves PATCH /api/v1/teams/{id} with name and/or
// description; a taken name is 409.
func (h *handler) updateTeam(w http.ResponseWriter, r *http.Request) {
	servePatch(h, w, r, &teamPatch{}, h.store.UpdateTeam, teamConflict)
}
