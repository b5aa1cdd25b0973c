package api

import "net/http"

// meResponse is who the token acts as. It carries the workspace's public
// Pusher app id and key, never its secret.
type meResponse struct {
	Workspace workspaceJSON `json:"workspace"`
	Agent     agentJSON     `json:"agent"`
	Role      string        `json:"role"`
}

type workspaceJSON struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	AppID  string `json:"app_id"`
	AppKey string `json:"app_key"`
}

type agentJSON struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// me serves GET /api/v1/me.
func (h *handler) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	writeJSON(w, http.StatusOK, meResponse{
		Workspace: workspaceJSON{ID: p.Workspace.ID, Name: p.Workspace.Name, AppID: p.Workspace.AppID, AppKey: p.Workspace.AppKey},
		Agent:     agentJSON{ID: p.Agent.ID, Email: p.Agent.Email, Name: p.Agent.Name},
		Role:      string(p.Role),
	})
}
