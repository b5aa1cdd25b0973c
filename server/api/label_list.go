package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type labelList struct {
	Labels []store.Label `json:"labels"`
}

// listLabels serves GET /api/v1/labels: the workspace's labels by name.
func (h *handler) listLabels(w http.ResponseWriter, r *http.Request) {
	labels, err := h.store.ListLabels(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if labels == nil {
		labels = []store.Label{}
	}
	writeJSON(w, http.StatusOK, labelList{Labels: labels})
}
