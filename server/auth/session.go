package auth

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// The keys of a session's data.
const (
	keyAgent     = "agent_id"
	keyWorkspace = "workspace_id"
	keyEpoch     = "epoch"
	keyDomain    = "hd"
	keyState     = "oauth_state"
)

// saveKey holds the request's *saveState: its presence says the session
// is loaded.
type saveKey struct{}

// saveState records that the session was already written to the store
// and the cookie set, by a handler that had to be sure before answering.
type saveState struct{ saved bool }

// withSession loads the request's session before next runs and saves it
// (store and cookie) just before the answer's headers go out. It is scs's
// LoadAndSave, but writing the cookie itself so that Secure can depend on
// the request (a trusted proxy's X-Forwarded-Proto).
func (a *Auth) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		var token string
		if c, err := r.Cookie(CookieName); err == nil {
			token = c.Value
		}
		ctx, err := a.sm.Load(r.Context(), token)
		if err != nil {
			a.internal(w, r, "load session", err)
			return
		}
		st := &saveState{}
		r = r.WithContext(context.WithValue(ctx, saveKey{}, st))
		sw := &sessionWriter{ResponseWriter: w, a: a, r: r, st: st}
		next.ServeHTTP(sw, r)
		sw.save()
	})
}

// sessionWriter saves the session before the first byte of the answer.
type sessionWriter struct {
	http.ResponseWriter
	a  *Auth
	r  *http.Request
	st *saveState
}

func (w *sessionWriter) WriteHeader(code int) {
	w.save()
	w.ResponseWriter.WriteHeader(code)
}

func (w *sessionWriter) Write(b []byte) (int, error) {
	w.save()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *sessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// save saves the session unless a handler did. The handler has already
// chosen its answer by now, so a failure here (it can only be the store's)
// cannot change it: it is logged, and the browser keeps its previous
// cookie, with an idle timeout not pushed back this once.
func (w *sessionWriter) save() {
	if w.st.saved {
		return
	}
	if err := w.a.saveSession(w.ResponseWriter, w.r); err != nil {
		w.a.log.Error("saving the session failed", slog.String("path", w.r.URL.Path), slog.Any("err", err))
	}
}

// saveSession writes a changed session to the store and sets the cookie,
// or deletes the cookie of a destroyed session. Handlers call it before
// answering when the answer depends on the save (a sign-in).
func (a *Auth) saveSession(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	st, _ := ctx.Value(saveKey{}).(*saveState)
	if st == nil || st.saved {
		return nil
	}
	st.saved = true
	switch a.sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := a.sm.Commit(ctx)
		if err != nil {
			return err
		}
		http.SetCookie(w, a.cookie(r, token, expiry))
	case scs.Destroyed:
		http.SetCookie(w, a.cookie(r, "", time.Time{}))
	}
	return nil
}

// cookie is the session cookie carrying token until expiry; an empty token
// deletes it.
func (a *Auth) cookie(r *http.Request, token string, expiry time.Time) *http.Cookie {
	c := &http.Cookie{
		Name:     CookieName,
		Value:    token,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   a.secure(r),
	}
	if token == "" {
		c.MaxAge = -1
		return c
	}
	c.Expires = expiry.Truncate(time.Second).Add(time.Second)
	c.MaxAge = int(math.Ceil(time.Until(expiry).Seconds()))
	return c
}

// secure reports whether the browser reached us over https: the public
// URL says so, the connection is TLS, or a trusted proxy says so.
func (a *Auth) secure(r *http.Request) bool {
	if a.secureAll || r.TLS != nil {
		return true
	}
	if !a.trustProxy {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// clientIP is the address the request came from: the last hop a trusted
// proxy appended to X-Forwarded-For, or the peer.
func (a *Auth) clientIP(r *http.Request) string {
	if a.trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			return strings.TrimSpace(hops[len(hops)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loaded reports whether ctx carries a session (withSession ran).
func loaded(ctx context.Context) bool {
	_, ok := ctx.Value(saveKey{}).(*saveState)
	return ok
}

// ref returns who the session says is signed in, if anyone.
func (a *Auth) ref(ctx context.Context) (store.SessionRef, bool) {
	if !loaded(ctx) {
		return store.SessionRef{}, false
	}
	ref := store.SessionRef{
		AgentID:      a.sm.GetInt64(ctx, keyAgent),
		WorkspaceID:  a.sm.GetInt64(ctx, keyWorkspace),
		Epoch:        a.sm.GetInt64(ctx, keyEpoch),
		HostedDomain: a.sm.GetString(ctx, keyDomain),
	}
	return ref, ref.AgentID != 0
}

// Principal resolves the request's signed-in session to who it acts as:
// the agent in the session's current workspace, with their membership
// role there. It reports false for a request without a signed-in session
// (or one that Protect did not wrap), and for a session that can no longer
// act in its workspace; a session ended by signing out everywhere is
// destroyed on the way.
func (a *Auth) Principal(r *http.Request) (store.Principal, bool, error) {
	ctx := r.Context()
	ref, ok := a.ref(ctx)
	if !ok || ref.WorkspaceID == 0 {
		return store.Principal{}, false, nil
	}
	p, err := a.store.SessionPrincipal(ctx, ref)
	if errors.Is(err, store.ErrUnauthenticated) {
		// Removed from the workspace (the session may switch to another,
		// see /auth/session) or signed out everywhere (it is over).
		if _, err := a.account(ctx, ref); err != nil && !errors.Is(err, store.ErrUnauthenticated) {
			return store.Principal{}, false, err
		}
		return store.Principal{}, false, nil
	}
	if err != nil {
		return store.Principal{}, false, err
	}
	return p, true, nil
}

// account returns the signed-in account, or ErrUnauthenticated after
// destroying a session whose agent is gone or was signed out everywhere.
func (a *Auth) account(ctx context.Context, ref store.SessionRef) (store.Account, error) {
	acct, err := a.store.Account(ctx, ref.AgentID)
	if err == nil && acct.SessionEpoch == ref.Epoch {
		return acct, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, err
	}
	if err := a.sm.Destroy(ctx); err != nil {
		return store.Account{}, err
	}
	return store.Account{}, store.ErrUnauthenticated
}

// sessionStore is the store as scs's session store.
type sessionStore struct{ st Store }

var _ scs.CtxStore = sessionStore{}

func (s sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return s.st.FindSession(ctx, token)
}

func (s sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return s.st.CommitSession(ctx, token, b, expiry)
}

func (s sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.st.DeleteSession(ctx, token)
}

// Find, Commit and Delete complete scs.Store; scs calls the Ctx forms.
func (s sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s sessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }
