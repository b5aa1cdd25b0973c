package api

import (
	"encoding/json"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// workspacePatch is the body of PATCH /api/v1/workspace; raw fields so
// that absent (leave alone) and null (clear) differ.
type workspacePatch struct {
	Name           json.RawMessage `json:"name"`
	AutoJoinDomain json.RawMessage `json:"auto_join_domain"`
}

// updateWorkspace serves PATCH /api/v1/workspace with {"name",
// "auto_join_domain"}, answering the workspace. auto_join_domain is a
// Google Workspace domain ("acme.com"): anyone signing in with a verified
// Google account of that hosted domain joins as an agent. null or ""
// turns it off.
func (h *handler) updateWorkspace(w http.ResponseWriter, r *http.Request) {
	var patch workspacePatch
	if err := h.decodeBody(w, r, &patch); err != nil {
		h.fail(w, r, err)
		return
	}
	var u store.WorkspaceUpdate
	var err error
	if u.Name, err = optional[string](patch.Name, "name", false); err != nil {
		h.fail(w, r, err)
		return
	}
	if u.AutoJoinDomain, err = optional[string](patch.AutoJoinDomain, "auto_join_domain", true); err != nil {
		h.fail(w, r, err)
		return
	}
	if u == (store.WorkspaceUpdate{}) {
		h.fail(w, r, invalid("", "nothing to change"))
		return
	}
	p := principal(r)
	ws, err := h.store.UpdateWorkspace(r.Context(), p.Workspace.ID, u, store.ActorOf(p))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWorkspaceSettingsJSON(ws))
}
