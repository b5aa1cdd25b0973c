package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type newLabelRequest struct {
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description"`
}

// createLabel serves POST /api/v1/labels with {"name","color",
// "description"} (color "#rrggbb" or empty), answering 201 with the label;
// a taken name is 409. Labelling a conversation with a new name creates
// the label too (POST /api/v1/conversations/{id}/labels).
func (h *handler) createLabel(w http.ResponseWriter, r *http.Request) {
	var req newLabelRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	l, err := h.store.CreateLabel(r.Context(), principal(r).Workspace.ID, store.NewLabel{Name: req.Name, Color: req.Color, Description: req.Description})
	if err != nil {
		h.fail(w, r, labelConflict(err))
		return
	}
	writeJSON(w, http.StatusCreated, l)
}

// labelConflict names the field a store.ErrConflict of a label write is
// about.
func labelConflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return conflict("name", "a label with this name already exists")
	}
	return err
}
