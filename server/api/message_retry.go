package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// retryMessage serves POST /api/v1/messages/{id}/retry: a failed reply is
// queued for delivery again, as a new send (message.updated, status
// queued). Anything but a failed outbound message is 409 not_retryable.
func (h *handler) retryMessage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	m, _, err := h.store.RequeueMessage(r.Context(), principal(r).Workspace.ID, id)
	if errors.Is(err, store.ErrNotRetryable) {
		h.fail(w, r, &requestError{status: http.StatusConflict, code: "not_retryable",
			message: "only a failed reply can be retried; this message is not one"})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}
