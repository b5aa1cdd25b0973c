package api

import (
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// workspaceSettingsJSON is the workspace as its members may see it: its
// public Pusher app id and key, never its secret.
type workspaceSettingsJSON struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	AppID          string    `json:"app_id"`
	AppKey         string    `json:"app_key"`
	AutoJoinDomain *string   `json:"auto_join_domain"`
	CreatedAt      time.Time `json:"created_at"`
}

func toWorkspaceSettingsJSON(w store.Workspace) workspaceSettingsJSON {
	out := workspaceSettingsJSON{ID: w.ID, Name: w.Name, AppID: w.AppID, AppKey: w.AppKey, CreatedAt: w.CreatedAt}
	if w.AutoJoinDomain != "" {
		out.AutoJoinDomain = &w.AutoJoinDomain
	}
	return out
}

// getWorkspace serves GET /api/v1/workspace: the caller's workspace and
// its settings.
func (h *handler) getWorkspace(w http.ResponseWriter, r *http.Request) {
	ws, err := h.store.Workspace(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWorkspaceSettingsJSON(ws))
}
