package api

import (
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// tokenJSON is an API token as the API shows it: never its plaintext
// (except once, in tokenCreated) and never its hash.
type tokenJSON struct {
	ID        int64      `json:"id"`
	AgentID   int64      `json:"agent_id"`
	Name      string     `json:"name"`
	Role      store.Role `json:"role"`
	CreatedAt time.Time  `json:"created_at"`
}

func toTokenJSON(t store.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, AgentID: t.AgentID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt}
}

type tokenList struct {
	Tokens []tokenJSON `json:"tokens"`
}

// listTokens serves GET /api/v1/tokens?agent_id=: the unrevoked API
// tokens, newest first. Every member sees its own; with manage_tokens,
// everyone's (agent_id narrows them to one member's). Asking for another
// member's without manage_tokens is 403.
func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	agentID, err := queryInt(r, "agent_id", 0, 1, 1<<62)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !access.Can(p.Role, access.ManageTokens) {
		if agentID != 0 && agentID != p.Agent.ID {
			h.fail(w, r, forbidden(access.ManageTokens, p.Role))
			return
		}
		agentID = p.Agent.ID
	}
	tokens, err := h.store.ListAPITokens(r.Context(), p.Workspace.ID, agentID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := tokenList{Tokens: make([]tokenJSON, len(tokens))}
	for i, t := range tokens {
		out.Tokens[i] = toTokenJSON(t)
	}
	writeJSON(w, http.StatusOK, out)
}
