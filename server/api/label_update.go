package api

import (
	"encoding/json"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// labelPatch is the body of PATCH /api/v1/labels/{id}: absent fields are
// left alone, null is invalid (an empty color clears it).
type labelPatch struct {
	Name        json.RawMessage `json:"name"`
	Color       json.RawMessage `json:"color"`
	Description json.RawMessage `json:"description"`
}

func (p labelPatch) update() (store.LabelUpdate, error) {
	var u store.LabelUpdate
	var err error
	if u.Name, err = optional[string](p.Name, "name", false); err != nil {
		return u, err
	}
	if u.Color, err = optional[string](p.Color, "color", false); err != nil {
		return u, err
	}
	if u.Description, err = optional[string](p.Description, "description", false); err != nil {
		return u, err
	}
	if u == (store.LabelUpdate{}) {
		return u, invalid("", "nothing to change")
	}
	return u, nil
}

// updateLabel serves PATCH /api/v1/labels/{id} with name, color and/or
// description. A new name renames the label on every conversation
// carrying it; a taken name is 409.
func (h *handler) updateLabel(w http.ResponseWriter, r *http.Request) {
	servePatch(h, w, r, &labelPatch{}, h.store.UpdateLabel, labelConflict)
}
