package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// revokeInvitation serves DELETE /api/v1/invitations/{id}, answering 204;
// revoking twice is fine. An accepted invitation is 409: remove the
// member instead. Revoking an owner's invitation needs manage_owners.
func (h *handler) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	_, err = h.store.RevokeInvitation(r.Context(), p.Workspace.ID, id, store.ActorOf(p))
	switch {
	case errors.Is(err, store.ErrForbidden):
		err = forbidden(access.ManageOwners, p.Role)
	case errors.Is(err, store.ErrConflict):
		err = conflict("", "the invitation was accepted; remove the member instead")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
