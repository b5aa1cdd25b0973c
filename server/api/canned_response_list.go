package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type cannedResponseList struct {
	CannedResponses []store.CannedResponse `json:"canned_responses"`
}

// listCannedResponses serves GET /api/v1/canned_responses?prefix=: the
// replies whose short code starts with prefix (case-sensitive; all when
// absent), by short code, as an agent's "/" completion asks.
func (h *handler) listCannedResponses(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	if len(prefix) > store.MaxShortCodeBytes {
		h.fail(w, r, invalid("prefix", "longer than a short code can be"))
		return
	}
	list, err := h.store.ListCannedResponses(r.Context(), principal(r).Workspace.ID, prefix)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if list == nil {
		list = []store.CannedResponse{}
	}
	writeJSON(w, http.StatusOK, cannedResponseList{CannedResponses: list})
}
