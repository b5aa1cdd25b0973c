package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// removeMember serves DELETE /api/v1/members/{agent_id}, answering 204.
// The member's conversations are unassigned, they leave their teams and
// their API tokens of the workspace are deleted, in one transaction; then
// their open Pusher connections to the workspace are closed
// (Options.OnAccessRevoked). Removing an owner needs manage_owners;
// removing the last owner is 409.
func (h *handler) removeMember(w http.ResponseWriter, r *http.Request) {
	agentID, err := pathID(r, "agent_id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	if err := h.checkOwnerChange(r, agentID, ""); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.RemoveMember(r.Context(), p.Workspace.ID, agentID, store.ActorOf(p)); err != nil {
		h.fail(w, r, memberError(err, p.Role, "", "the workspace's last owner cannot be removed: make another member owner first"))
		return
	}
	h.accessRevoked(p.Workspace.ID, agentID)
	w.WriteHeader(http.StatusNoContent)
}
