package api

import "net/http"

type memberList struct {
	Members []memberJSON `json:"members"`
}

// listMembers serves GET /api/v1/members: the workspace's members with
// their roles, by name — the list GET /api/v1/agents gives, under the
// membership API's name. Every role may read it.
func (h *handler) listMembers(w http.ResponseWriter, r *http.Request) {
	agents, err := h.store.ListAgents(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := memberList{Members: make([]memberJSON, len(agents))}
	for i, a := range agents {
		out.Members[i] = memberJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: string(a.Role), CreatedAt: a.CreatedAt}
	}
	writeJSON(w, http.StatusOK, out)
}
