package auth

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// sessionResponse is GET /auth/session's answer. It carries the current
// workspace's public Pusher app id and key (what pusher-js connects
// with), never its secret.
type sessionResponse struct {
	SignedIn bool `json:"signed_in"`
	// Agent is who is signed in; absent when nobody is.
	Agent *agentJSON `json:"agent,omitempty"`
	// Workspace is the current workspace, null when there is none the
	// session may use.
	Workspace *currentJSON `json:"workspace"`
	// Workspaces are all the workspaces the session may switch to.
	Workspaces []workspaceJSON `json:"workspaces"`
	Methods    methodsJSON     `json:"sign_in_methods"`
}

type agentJSON struct {
	ID        int64  `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	AvatarURL string `json:"avatar_url"`
}

type workspaceJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

type currentJSON struct {
	workspaceJSON
	AppID  string `json:"app_id"`
	AppKey string `json:"app_key"`
}

// methodsJSON says which sign-in methods the server offers.
type methodsJSON struct {
	Google bool `json:"google"`
	Dev    bool `json:"dev"`
}

// sessionJSON describes a signed-in session; acct nil describes nobody.
func sessionJSON(acct *store.Account, admitted []store.AccountWorkspace, current int64, a *Auth) sessionResponse {
	resp := sessionResponse{Workspaces: []workspaceJSON{}, Methods: methodsJSON{Google: a.google != nil, Dev: a.devLogin}}
	if acct == nil {
		return resp
	}
	resp.SignedIn = true
	resp.Agent = &agentJSON{ID: acct.ID, Email: acct.Email, Name: acct.Name, AvatarURL: acct.AvatarURL}
	for _, w := range admitted {
		wj := workspaceJSON{ID: w.Workspace.ID, Name: w.Workspace.Name, Role: string(w.Role)}
		resp.Workspaces = append(resp.Workspaces, wj)
		if w.Workspace.ID == current {
			resp.Workspace = &currentJSON{workspaceJSON: wj, AppID: w.Workspace.AppID, AppKey: w.Workspace.AppKey}
		}
	}
	return resp
}

// getSession serves GET /auth/session: who is signed in, the workspaces
// they may use and the current one. Nobody signed in is a 200 with
// signed_in false, so a page can ask before choosing what to show. A
// session whose current workspace no longer admits it (the member was
// removed, or the workspace now requires another domain) moves to the
// first one that does.
func (a *Auth) getSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref, ok := a.ref(ctx)
	if !ok {
		writeJSON(w, http.StatusOK, sessionJSON(nil, nil, 0, a))
		return
	}
	acct, admitted, err := a.signedIn(r, ref)
	if errors.Is(err, store.ErrUnauthenticated) {
		writeJSON(w, http.StatusOK, sessionJSON(nil, nil, 0, a))
		return
	}
	if err != nil {
		a.internal(w, r, "session", err)
		return
	}
	current := ref.WorkspaceID
	if !containsWorkspace(admitted, current) {
		current = 0
		if len(admitted) > 0 {
			current = admitted[0].Workspace.ID
		}
		a.sm.Put(ctx, keyWorkspace, current)
	}
	writeJSON(w, http.StatusOK, sessionJSON(&acct, admitted, current, a))
}

// signedIn returns the session's account and the workspaces it may use,
// or ErrUnauthenticated (having destroyed the session) when the session
// is over.
func (a *Auth) signedIn(r *http.Request, ref store.SessionRef) (store.Account, []store.AccountWorkspace, error) {
	acct, err := a.account(r.Context(), ref)
	if err != nil {
		return store.Account{}, nil, err
	}
	wss, err := a.store.AccountWorkspaces(r.Context(), acct.ID)
	if err != nil {
		return store.Account{}, nil, err
	}
	return acct, admittedWorkspaces(wss, ref.HostedDomain), nil
}

func containsWorkspace(wss []store.AccountWorkspace, id int64) bool {
	for _, w := range wss {
		if w.Workspace.ID == id {
			return true
		}
	}
	return false
}
