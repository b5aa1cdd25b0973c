package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// deleteContact serves DELETE /api/v1/contacts/{id}, answering 204. A
// contact with conversations is 409: merge it into another contact
// instead; erasing a customer's history is a separate operation.
func (h *handler) deleteContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	_, err = h.store.DeleteContact(r.Context(), principal(r).Workspace.ID, id)
	if errors.Is(err, store.ErrConflict) {
		err = &requestError{status: http.StatusConflict, code: "conflict",
			message: "the contact has conversations; merge it into another contact instead"}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
