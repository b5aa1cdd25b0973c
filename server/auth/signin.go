package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// identity is who a sign-in method vouches for.
type identity struct {
	// Method names the sign-in method in logs: google or dev.
	Method    string
	Email     string
	Name      string
	AvatarURL string
	// GoogleSub is Google's id of the account; empty for dev.
	GoogleSub string
	// HostedDomain is the Google Workspace domain (hd) of the account,
	// empty for a consumer account.
	HostedDomain string
}

// signIn makes id the session's agent: it finds or creates the agent,
// gives a person with no workspace one of their own, picks the current
// workspace among those whose domain rule admits them, and renews the
// session token before writing who signed in into it. A refusal leaves
// the session signed out.
func (a *Auth) signIn(w http.ResponseWriter, r *http.Request, id identity) {
	ctx := r.Context()
	acct, err := a.store.UpsertAccount(ctx, store.NewAccount{
		Email: id.Email, Name: id.Name, AvatarURL: id.AvatarURL, GoogleSub: id.GoogleSub,
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		a.log.Warn("sign-in refused: the email and the Google account are linked to different agents",
			slog.String("method", id.Method), slog.String("ip", a.clientIP(r)))
		a.refuse(w, r, http.StatusForbidden, "account_conflict",
			id.Email+" is linked to a different Google account in Switchboard. Sign in with that account, or ask a workspace owner for help.")
		return
	case errors.Is(err, store.ErrInvalid):
		a.refuse(w, r, http.StatusBadRequest, "invalid", err.Error())
		return
	case err != nil:
		a.internal(w, r, "sign in", err)
		return
	}
	hd := strings.ToLower(strings.TrimSpace(id.HostedDomain))

	// Accept the person's pending invitations and join the workspaces
	// their Google Workspace domain auto-joins, before deciding whether
	// they need a workspace of their own. Both methods vouch for the
	// email: Google verified it (googleCallback refuses otherwise), and
	// the development sign-in trusts whoever asks.
	if _, err := a.store.JoinByEmail(ctx, acct.Email, true, hd); err != nil {
		a.internal(w, r, "sign in: join by email", err)
		return
	}
	wss, err := a.store.AccountWorkspaces(ctx, acct.ID)
	if err != nil {
		a.internal(w, r, "sign in", err)
		return
	}
	if len(wss) == 0 {
		ws, _, err := a.store.CreateWorkspace(ctx, store.NewWorkspace{Name: workspaceName(acct), OwnerEmail: acct.Email, OwnerName: acct.Name})
		if err != nil {
			a.internal(w, r, "sign in: create workspace", err)
			return
		}
		a.log.Info("workspace created at first sign-in", slog.Int64("workspace", ws.ID), slog.Int64("agent", acct.ID))
		wss = []store.AccountWorkspace{{Workspace: ws, Role: store.RoleOwner}}
	}
	admitted := admittedWorkspaces(wss, hd)
	if len(admitted) == 0 {
		a.log.Info("sign-in refused by a workspace's domain rule", slog.Int64("agent", acct.ID), slog.String("hd", hd))
		a.refuse(w, r, http.StatusForbidden, "domain_required", domainRefusal(wss[0], hd))
		return
	}

	// Every workspace the session may act in records the sign-in, before
	// the session exists: no audit entry, no session.
	details := map[string]any{"method": id.Method, "ip": a.clientIP(r)}
	if hd != "" {
		details["hosted_domain"] = hd
	}
	for _, aw := range admitted {
		if err := a.audit(ctx, aw.Workspace.ID, acct.ID, store.AuditSignIn, details); err != nil {
			a.internal(w, r, "sign in: audit", err)
			return
		}
	}

	// A new token for the new privilege: a token planted in this browser
	// before sign-in (session fixation) is worth nothing after it.
	if err := a.sm.Clear(ctx); err != nil {
		a.internal(w, r, "sign in: clear session", err)
		return
	}
	if err := a.sm.RenewToken(ctx); err != nil {
		a.internal(w, r, "sign in: renew session", err)
		return
	}
	a.sm.Put(ctx, keyAgent, acct.ID)
	a.sm.Put(ctx, keyWorkspace, admitted[0].Workspace.ID)
	a.sm.Put(ctx, keyEpoch, acct.SessionEpoch)
	a.sm.Put(ctx, keyDomain, hd)
	if err := a.saveSession(w, r); err != nil {
		a.internal(w, r, "sign in: save session", err)
		return
	}
	a.log.Info("signed in", slog.Int64("agent", acct.ID), slog.Int64("workspace", admitted[0].Workspace.ID),
		slog.String("method", id.Method), slog.String("ip", a.clientIP(r)))

	if id.Method == "google" || !wantsJSON(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, sessionJSON(&acct, admitted, admitted[0].Workspace.ID, a))
}

// workspaceName names the workspace created for a person at their first
// sign-in: after them, or after their email's domain.
func workspaceName(acct store.Account) string {
	if name := strings.TrimSpace(acct.Name); name != "" {
		return name + "'s workspace"
	}
	_, domain, _ := strings.Cut(acct.Email, "@")
	return domain
}

// admittedWorkspaces returns the workspaces whose domain rule admits a
// sign-in with hosted domain hd, in order.
func admittedWorkspaces(wss []store.AccountWorkspace, hd string) []store.AccountWorkspace {
	var out []store.AccountWorkspace
	for _, w := range wss {
		if w.Admits(hd) {
			out = append(out, w)
		}
	}
	return out
}

func domainRefusal(w store.AccountWorkspace, hd string) string {
	with := "a personal Google account"
	if hd != "" {
		with = "a Google account of " + hd
	}
	return fmt.Sprintf("The workspace %q admits only Google accounts of %s, and you signed in with %s.", w.Workspace.Name, w.RequiredDomain, with)
}

// audit records action by agentID on themselves in the workspace's audit
// log.
func (a *Auth) audit(ctx context.Context, workspaceID, agentID int64, action string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	return a.store.RecordAudit(ctx, workspaceID, store.AuditEntry{
		ActorID: agentID, Action: action, TargetKind: store.AuditTargetAgent, TargetID: agentID, Details: b,
	})
}
