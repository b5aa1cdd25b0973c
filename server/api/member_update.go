package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

type memberPatch struct {
	Role store.Role `json:"role"`
}

// updateMember serves PATCH /api/v1/members/{agent_id} with {"role"},
// answering the member. Making, unmaking or touching an owner needs
// manage_owners besides the route's manage_agents; demoting the last
// owner is 409 on role. A role change ends no connection: every request
// and channel authorization reads the current role, so it takes effect
// at once.
func (h *handler) updateMember(w http.ResponseWriter, r *http.Request) {
	agentID, err := pathID(r, "agent_id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req memberPatch
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Role == "" {
		h.fail(w, r, invalid("role", "is required"))
		return
	}
	if !req.Role.Valid() {
		h.fail(w, r, invalid("role", "must be owner, admin or agent"))
		return
	}
	p := principal(r)
	if err := h.checkOwnerChange(r, agentID, req.Role); err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.store.SetRole(r.Context(), p.Workspace.ID, agentID, req.Role, store.ActorOf(p))
	if err != nil {
		h.fail(w, r, memberError(err, p.Role, "role", "the workspace's last owner cannot be demoted: make another member owner first"))
		return
	}
	writeJSON(w, http.StatusOK, memberJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: string(a.Role), CreatedAt: a.CreatedAt})
}

// checkOwnerChange answers 403 unless the principal may manage owners
// when the member agentID is an owner or is to become one (role). An
// unknown member is 404.
func (h *handler) checkOwnerChange(r *http.Request, agentID int64, role store.Role) error {
	p := principal(r)
	if access.Can(p.Role, access.ManageOwners) {
		return nil
	}
	if role == store.RoleOwner {
		return forbidden(access.ManageOwners, p.Role)
	}
	a, err := h.store.Agent(r.Context(), p.Workspace.ID, agentID)
	if err != nil {
		return err
	}
	if a.Role == store.RoleOwner {
		return forbidden(access.ManageOwners, p.Role)
	}
	return nil
}

// memberError names what a membership change's store error is about: the
// rank rule is the manage_owners permission, the last owner a 409 on
// field.
func memberError(err error, role store.Role, field, lastOwner string) error {
	switch {
	case errors.Is(err, store.ErrForbidden):
		return forbidden(access.ManageOwners, role)
	case errors.Is(err, store.ErrLastOwner):
		return conflict(field, lastOwner)
	}
	return err
}
