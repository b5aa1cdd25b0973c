package auth

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// switchWorkspace serves POST /auth/workspace {"workspace_id"}: the
// session acts in that workspace from now on. Only a workspace the agent
// is a member of, and whose domain rule admits the session, will do (403
// otherwise). It answers as GET /auth/session.
func (a *Auth) switchWorkspace(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref, ok := a.ref(ctx)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first", "")
		return
	}
	var body struct {
		WorkspaceID int64 `json:"workspace_id"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.WorkspaceID <= 0 {
		writeError(w, http.StatusBadRequest, "invalid", `the body must be {"workspace_id": <id>}`, "workspace_id")
		return
	}
	acct, admitted, err := a.signedIn(r, ref)
	if errors.Is(err, store.ErrUnauthenticated) {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "your session has ended; sign in again", "")
		return
	}
	if err != nil {
		a.internal(w, r, "switch workspace", err)
		return
	}
	if !containsWorkspace(admitted, body.WorkspaceID) {
		writeError(w, http.StatusForbidden, "forbidden", "you are not a member of that workspace, or it does not admit this sign-in", "workspace_id")
		return
	}
	a.sm.Put(ctx, keyWorkspace, body.WorkspaceID)
	writeJSON(w, http.StatusOK, sessionJSON(&acct, admitted, body.WorkspaceID, a))
}
