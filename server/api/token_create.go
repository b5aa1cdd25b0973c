package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

type tokenRequest struct {
	Name string     `json:"name"`
	Role store.Role `json:"role"`
	// AgentID is whose token it is; the caller's own when absent.
	AgentID int64 `json:"agent_id"`
}

// tokenCreated is the answer to a token's creation: the only time its
// plaintext is shown.
type tokenCreated struct {
	tokenJSON
	Token string `json:"token"`
}

// createToken serves POST /api/v1/tokens with {"name","role","agent_id"},
// answering 201 with the token and, this once, its plaintext ("token").
// Every member may create its own; one for another member needs
// manage_tokens, and one for an owner manage_owners too. The role
// defaults to the caller's effective role and may not exceed it (403 on
// role); it is capped by the token agent's role, and a token never grants
// more than its agent's membership at the time of each request.
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	switch {
	case strings.TrimSpace(req.Name) == "":
		h.fail(w, r, invalid("name", "must not be empty: name a token after where it is used"))
		return
	case req.Role != "" && !req.Role.Valid():
		h.fail(w, r, invalid("role", "must be owner, admin or agent"))
		return
	case req.Role != "" && !p.Role.AtLeast(req.Role):
		h.fail(w, r, &requestError{status: http.StatusForbidden, code: "forbidden", field: "role",
			message: "a token's role cannot be stronger than your own (" + string(p.Role) + ")"})
		return
	case req.AgentID < 0:
		h.fail(w, r, invalid("agent_id", "must be a member's id"))
		return
	case req.AgentID != 0 && req.AgentID != p.Agent.ID && !access.Can(p.Role, access.ManageTokens):
		h.fail(w, r, forbidden(access.ManageTokens, p.Role))
		return
	}
	if req.AgentID == 0 {
		req.AgentID = p.Agent.ID
	}
	nt := store.NewAPIToken{AgentID: req.AgentID, Name: req.Name, Role: req.Role, By: store.ActorOf(p)}
	t, plaintext, err := h.store.CreateAPIToken(r.Context(), p.Workspace.ID, nt)
	switch {
	case errors.Is(err, store.ErrForbidden):
		err = forbidden(access.ManageOwners, p.Role)
	case errors.Is(err, store.ErrNotFound):
		err = invalid("agent_id", "no such member in this workspace")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, tokenCreated{tokenJSON: toTokenJSON(t), Token: plaintext})
}
