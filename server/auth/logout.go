package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// logout serves POST /auth/logout: this browser's session ends (its
// cookie is deleted, its token made worthless). Signing out when signed
// out is fine. 204.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref, signedIn := a.ref(ctx)
	if err := a.sm.Destroy(ctx); err != nil {
		a.internal(w, r, "sign out", err)
		return
	}
	if signedIn {
		a.signedOut(r, ref, false)
	}
	w.WriteHeader(http.StatusNoContent)
}

// signedOut logs a sign-out and records it in the session's workspace's
// audit log. Signing out never fails for want of its audit entry: the
// session is already over, and a browser that could not sign out would be
// worse than a missing line, so a failure is logged as an error instead.
func (a *Auth) signedOut(r *http.Request, ref store.SessionRef, everywhere bool) {
	ip := a.clientIP(r)
	a.log.Info("signed out", slog.Int64("agent", ref.AgentID), slog.Bool("everywhere", everywhere), slog.String("ip", ip))
	if ref.WorkspaceID == 0 {
		return
	}
	details := map[string]any{"everywhere": everywhere, "ip": ip}
	if err := a.audit(r.Context(), ref.WorkspaceID, ref.AgentID, store.AuditSignOut, details); err != nil {
		a.log.Error("recording a sign-out in the audit log failed", slog.Int64("agent", ref.AgentID),
			slog.Int64("workspace", ref.WorkspaceID), slog.Any("err", err))
	}
}

// logoutEverywhere serves POST /auth/logout-everywhere: every session of
// the signed-in agent ends, in every browser, this one included. The
// others end on their next request, which finds their epoch stale. 204;
// 401 when not signed in.
func (a *Auth) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ref, ok := a.ref(ctx)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in first", "")
		return
	}
	if _, err := a.account(ctx, ref); err != nil {
		if errors.Is(err, store.ErrUnauthenticated) {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "your session has already ended", "")
			return
		}
		a.internal(w, r, "sign out everywhere", err)
		return
	}
	if _, err := a.store.RevokeSessions(ctx, ref.AgentID); err != nil {
		a.internal(w, r, "sign out everywhere", err)
		return
	}
	if err := a.sm.Destroy(ctx); err != nil {
		a.internal(w, r, "sign out everywhere", err)
		return
	}
	a.signedOut(r, ref, true)
	a.closeConnections(ctx, ref.AgentID)
	w.WriteHeader(http.StatusNoContent)
}

// closeConnections has the agent's open websockets closed in every
// workspace it belongs to, once its sessions are revoked.
func (a *Auth) closeConnections(ctx context.Context, agentID int64) {
	if a.onSignedOut == nil {
		return
	}
	workspaces, err := a.store.AccountWorkspaces(ctx, agentID)
	if err != nil {
		a.log.Error("listing workspaces to close connections after signing out everywhere failed",
			slog.Int64("agent", agentID), slog.Any("err", err))
		return
	}
	for _, w := range workspaces {
		a.onSignedOut(w.Workspace.ID, agentID)
	}
}
