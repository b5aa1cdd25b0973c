package api

import "net/http"

// getContact serves GET /api/v1/contacts/{id}: the contact with its
// identities.
func (h *handler) getContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.store.Contact(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
