package api

import (
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// invitationJSON is an invitation with its status at the time of the
// answer (pending or expired for outstanding ones).
type invitationJSON struct {
	store.Invitation
	Status store.InvitationStatus `json:"status"`
}

func toInvitationJSON(i store.Invitation, now time.Time) invitationJSON {
	return invitationJSON{Invitation: i, Status: i.Status(now)}
}

type invitationList struct {
	Invitations []invitationJSON `json:"invitations"`
}

// listInvitations serves GET /api/v1/invitations: the outstanding
// invitations, pending or expired, newest first. Accepted and revoked
// ones are in the audit log.
func (h *handler) listInvitations(w http.ResponseWriter, r *http.Request) {
	invs, err := h.store.ListInvitations(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := store.Now()
	out := invitationList{Invitations: make([]invitationJSON, len(invs))}
	for i, inv := range invs {
		out.Invitations[i] = toInvitationJSON(inv, now)
	}
	writeJSON(w, http.StatusOK, out)
}
