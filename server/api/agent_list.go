package api

import (
	"net/http"
	"time"
)

// memberJSON is an agent as a member of the workspace.
type memberJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

type agentList struct {
	Agents []memberJSON `json:"agents"`
}

// listAgents serves GET /api/v1/agents: the workspace's members with
// their roles, by name. Every role may read it, to assign and @mention.
func (h *handler) listAgents(w http.ResponseWriter, r *http.Request) {
	agents, err := h.store.ListAgents(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := agentList{Agents: make([]memberJSON, len(agents))}
	for i, a := range agents {
		out.Agents[i] = memberJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: string(a.Role), CreatedAt: a.CreatedAt}
	}
	writeJSON(w, http.StatusOK, out)
}
