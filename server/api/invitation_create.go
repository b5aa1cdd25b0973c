package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

type invitationRequest struct {
	Email string     `json:"email"`
	Role  store.Role `json:"role"`
	// ExpiresInDays is 1..30; 7 when absent.
	ExpiresInDays int `json:"expires_in_days"`
}

// createInvitation serves POST /api/v1/invitations with {"email","role",
// "expires_in_days"}, answering 201 with the invitation. role defaults to
// agent; inviting an owner needs manage_owners. An email with an
// outstanding invitation gets this one instead (the old one is revoked);
// an email that is already a member is 409 on email. No email is sent:
// the invitee joins by signing in with that email, verified, before the
// invitation expires.
func (h *handler) createInvitation(w http.ResponseWriter, r *http.Request) {
	var req invitationRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	maxDays := int(store.MaxInvitationTTL / (24 * time.Hour))
	if req.ExpiresInDays < 0 || req.ExpiresInDays > maxDays {
		h.fail(w, r, invalid("expires_in_days", fmt.Sprintf("must be from 1 to %d", maxDays)))
		return
	}
	p := principal(r)
	if req.Role == store.RoleOwner && !access.Can(p.Role, access.ManageOwners) {
		h.fail(w, r, forbidden(access.ManageOwners, p.Role))
		return
	}
	ni := store.NewInvitation{Email: req.Email, Role: req.Role, ExpiresIn: time.Duration(req.ExpiresInDays) * 24 * time.Hour}
	inv, err := h.store.CreateInvitation(r.Context(), p.Workspace.ID, ni, store.ActorOf(p))
	switch {
	case errors.Is(err, store.ErrAlreadyMember):
		err = conflict("email", "this email is already a member of the workspace")
	case errors.Is(err, store.ErrConflict):
		err = conflict("email", "another invitation of this email was created at the same moment; try again")
	case errors.Is(err, store.ErrForbidden):
		err = forbidden(access.ManageOwners, p.Role)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toInvitationJSON(inv, store.Now()))
}
