package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// revokeToken serves DELETE /api/v1/tokens/{id}, answering 204; revoking
// twice is fine. Every member may revoke its own tokens, including the one
// it calls with; another member's needs manage_tokens (an owner's,
// manage_owners too). The token stops authenticating at once, and the
// token agent's open Pusher connections to the workspace are closed
// (Options.OnAccessRevoked).
func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	t, err := h.store.APIToken(r.Context(), p.Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if t.AgentID != p.Agent.ID && !access.Can(p.Role, access.ManageTokens) {
		h.fail(w, r, forbidden(access.ManageTokens, p.Role))
		return
	}
	if _, err := h.store.RevokeAPIToken(r.Context(), p.Workspace.ID, id, store.ActorOf(p)); err != nil {
		if errors.Is(err, store.ErrForbidden) {
			err = forbidden(access.ManageOwners, p.Role)
		}
		h.fail(w, r, err)
		return
	}
	h.accessRevoked(p.Workspace.ID, t.AgentID)
	w.WriteHeader(http.StatusNoContent)
}
