// Package auth owns browser sign-in and sessions: Google sign-in through
// goth's Google provider, the local development sign-in, scs sessions kept
// in the store, signing out of one browser or of all of them, the switch
// between a person's workspaces, and cross-origin protection for every
// cookie-authenticated request. A signed-in session resolves to the same
// store.Principal an API token does (Principal), so the REST API and the
// channel-authorization endpoints accept either.
//
// Routes (Handler), JSON unless noted:
//
//	GET  /auth/google              302 to Google; the OAuth state is bound to this browser's session
//	GET  /auth/google/callback     Google's redirect back: signs in, then 303 to /
//	GET  /auth/dev                 HTML form of the development sign-in (SWITCHBOARD_DEV_LOGIN only)
//	POST /auth/dev                 {email, name} (form or JSON): signs in as that person
//	GET  /auth/session             who is signed in, their workspaces and the current one
//	POST /auth/workspace           {"workspace_id"}: switches the current workspace (members only)
//	POST /auth/logout              ends this session; 204
//	POST /auth/logout-everywhere   ends every session of the signed-in agent; 204
//
// Sessions. The cookie (CookieName) holds a 256-bit random token and
// nothing else; the session data live in the store under the token's
// SHA-256, so a database dump holds no working cookie. The cookie is
// HttpOnly, SameSite=Lax and Secure when the public URL is https (or, with
// a trusted proxy, when the request came in over https). Every sign-in
// renews the token (no session fixation). A session records the agent,
// the current workspace, the Google hosted domain it signed in with and
// the agent's session epoch: each request re-reads the membership, so a
// removed member or a changed role takes effect at once, and signing out
// everywhere bumps the epoch, which ends every other session on its next
// request. A signed-out token is kept as a tombstone until it would have
// expired, so a request in flight cannot write it back.
//
// Cross-origin requests. Every unsafe request that could be authenticated
// by the cookie passes net/http's CrossOriginProtection (Sec-Fetch-Site,
// else Origin against Host) first, or is refused with 403. A request with
// an Authorization header is not cookie-authenticated: the REST API and
// channel authorization serve it by its bearer token alone, from any
// origin, and never look at its cookie.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/markbates/goth/providers/google"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Paths of the sign-in routes.
const (
	GooglePath           = "/auth/google"
	CallbackPath         = "/auth/google/callback"
	DevPath              = "/auth/dev"
	SessionPath          = "/auth/session"
	WorkspacePath        = "/auth/workspace"
	LogoutPath           = "/auth/logout"
	LogoutEverywherePath = "/auth/logout-everywhere"
)

// CookieName is the session cookie.
const CookieName = "switchboard_session"

// Defaults of Options' session limits.
const (
	DefaultLifetime    = 14 * 24 * time.Hour
	DefaultIdleTimeout = 72 * time.Hour
	// SweepInterval is how often Run deletes expired sessions.
	SweepInterval = time.Hour
	// signInWindow is how long a browser that has started a Google
	// sign-in, and is not signed in, keeps its session: the OAuth state
	// lives that long.
	signInWindow = 15 * time.Minute
	// maxBodyBytes bounds the bodies of the POST routes.
	maxBodyBytes = 4 << 10
)

// Store is what sign-in needs from storage; store.Store has it all.
type Store interface {
	CreateWorkspace(ctx context.Context, w store.NewWorkspace) (store.Workspace, store.Agent, error)
	UpsertAccount(ctx context.Context, a store.NewAccount) (store.Account, error)
	JoinByEmail(ctx context.Context, email string, emailVerified bool, hostedDomain string) ([]store.Membership, error)
	RecordAudit(ctx context.Context, workspaceID int64, e store.AuditEntry) error
	Account(ctx context.Context, agentID int64) (store.Account, error)
	AccountWorkspaces(ctx context.Context, agentID int64) ([]store.AccountWorkspace, error)
	SessionPrincipal(ctx context.Context, ref store.SessionRef) (store.Principal, error)
	RevokeSessions(ctx context.Context, agentID int64) (int64, error)
	FindSession(ctx context.Context, token string) ([]byte, bool, error)
	CommitSession(ctx context.Context, token string, data []byte, expiry time.Time) error
	DeleteSession(ctx context.Context, token string) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// Options configures sign-in.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// PublicURL is the server's base URL as browsers reach it
	// (SWITCHBOARD_PUBLIC_URL), e.g. https://inbox.example.com. Google
	// redirects back to PublicURL + CallbackPath; an https URL makes the
	// cookie Secure and is the origin cross-origin protection trusts.
	// Required with Google.
	PublicURL string
	// TrustProxy trusts X-Forwarded-Proto (a forwarded https request gets
	// a Secure cookie) and X-Forwarded-For (the client address logged).
	TrustProxy bool
	// Google enables Google sign-in; nil leaves it off.
	Google *Google
	// DevLogin enables the development sign-in, which signs anyone in as
	// whoever they say they are. New refuses it unless ListenAddr is a
	// loopback address.
	DevLogin   bool
	ListenAddr string
	// Lifetime is the longest a session lasts, however active;
	// DefaultLifetime when zero.
	Lifetime time.Duration
	// IdleTimeout ends a session unused for that long; zero means no idle
	// timeout. Each request that uses a session pushes it back.
	IdleTimeout time.Duration
	// OnSignedOutEverywhere, when set, is called for each workspace of an
	// agent who signed out everywhere, so its open websocket connections
	// are closed too.
	OnSignedOutEverywhere func(workspaceID, agentID int64)
}

// Google configures Google sign-in.
type Google struct {
	ClientID     string
	ClientSecret string
	// AuthURL, TokenURL and UserInfoURL replace Google's own endpoints,
	// for a Google-compatible fake in tests; empty means Google's. Goth's
	// provider still does all the talking: only where it sends its
	// requests changes.
	AuthURL     string
	TokenURL    string
	UserInfoURL string
	// HTTPClient talks to Google; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Auth serves sign-in and resolves sessions. It is safe for concurrent
// use.
type Auth struct {
	store       Store
	log         *slog.Logger
	sm          *scs.SessionManager
	google      *google.Provider
	authURL     string // replaces Google's authorization endpoint when set
	devLogin    bool
	secureAll   bool
	trustProxy  bool
	crossOrigin *http.CrossOriginProtection
	onSignedOut func(workspaceID, agentID int64)
}

// ErrDevLoginNotLoopback is New's refusal of the development sign-in on an
// address other machines can reach.
var ErrDevLoginNotLoopback = errors.New("SWITCHBOARD_DEV_LOGIN signs anyone in as anyone, so it needs a loopback SWITCHBOARD_ADDR (127.0.0.1:8080, [::1]:8080 or localhost:8080)")

// New returns sign-in configured by opts.
func New(opts Options) (*Auth, error) {
	if opts.Store == nil {
		return nil, errors.New("auth: no store")
	}
	a := &Auth{store: opts.Store, log: opts.Logger, devLogin: opts.DevLogin, trustProxy: opts.TrustProxy, onSignedOut: opts.OnSignedOutEverywhere}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if opts.DevLogin && !isLoopback(opts.ListenAddr) {
		return nil, fmt.Errorf("auth: %w, got %q", ErrDevLoginNotLoopback, opts.ListenAddr)
	}
	a.crossOrigin = http.NewCrossOriginProtection()
	a.crossOrigin.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross_origin", "cross-origin requests are refused: send the request from this site, or authenticate with an Authorization: Bearer token", "")
	}))
	var public *url.URL
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("auth: public URL %q: want an absolute http or https URL", opts.PublicURL)
		}
		public = u
		a.secureAll = u.Scheme == "https"
		if err := a.crossOrigin.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, fmt.Errorf("auth: public URL %q: %w", opts.PublicURL, err)
		}
	}
	if opts.Google != nil {
		if public == nil {
			return nil, errors.New("auth: Google sign-in needs the public URL (SWITCHBOARD_PUBLIC_URL) for its callback")
		}
		if opts.Google.ClientID == "" || opts.Google.ClientSecret == "" {
			return nil, errors.New("auth: Google sign-in needs a client id and secret")
		}
		a.google = newGoogleProvider(opts.Google, strings.TrimSuffix(public.String(), "/")+CallbackPath)
		a.authURL = opts.Google.AuthURL
	}

	lifetime := opts.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	// Built by hand rather than with scs.New, which starts an in-memory
	// store's cleanup goroutine that cannot be stopped reliably. The
	// manager's context key is then the zero one, shared by every
	// manager: fine, as a request passes through only one. Cookies are
	// written by withSession, not by scs, so Cookie is left alone.
	a.sm = &scs.SessionManager{
		Store:            sessionStore{opts.Store},
		Codec:            scs.GobCodec{},
		Lifetime:         lifetime,
		IdleTimeout:      max(opts.IdleTimeout, 0),
		HashTokenInStore: true,
	}
	return a, nil
}

// Run deletes expired sessions now and every SweepInterval until ctx ends.
func (a *Auth) Run(ctx context.Context) {
	t := time.NewTicker(SweepInterval)
	defer t.Stop()
	for {
		n, err := a.store.DeleteExpiredSessions(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Warn("deleting expired sessions failed; retrying at the next sweep", slog.Any("err", err))
		case n > 0:
			a.log.Debug("deleted expired sessions", slog.Int64("sessions", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Handler serves the routes under /auth/. Every request to them has a
// session; unsafe ones must be same-origin.
func (a *Auth) Handler() http.Handler {
	mux := http.NewServeMux()
	routes := []struct {
		path    string
		methods map[string]http.HandlerFunc
	}{
		{GooglePath, map[string]http.HandlerFunc{"GET": a.googleBegin}},
		{CallbackPath, map[string]http.HandlerFunc{"GET": a.googleCallback}},
		{DevPath, map[string]http.HandlerFunc{"GET": a.devForm, "POST": a.devSignIn}},
		{SessionPath, map[string]http.HandlerFunc{"GET": a.getSession}},
		{WorkspacePath, map[string]http.HandlerFunc{"POST": a.switchWorkspace}},
		{LogoutPath, map[string]http.HandlerFunc{"POST": a.logout}},
		{LogoutEverywherePath, map[string]http.HandlerFunc{"POST": a.logoutEverywhere}},
	}
	for _, rt := range routes {
		var allow []string
		for method, h := range rt.methods {
			mux.HandleFunc(method+" "+rt.path, h)
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
		mux.HandleFunc(rt.path, methodNotAllowed(strings.Join(allow, ", ")))
	}
	mux.HandleFunc("/auth/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint", "")
	})
	return a.sameOrigin(a.withSession(noStore(mux)))
}

// Protect serves next with sign-in: a request without an Authorization
// header must pass cross-origin protection if unsafe, and gets its session
// loaded so Principal can resolve it. A request with one goes to next
// untouched, to be authenticated by its token alone.
func (a *Auth) Protect(next http.Handler) http.Handler {
	cookie := a.sameOrigin(a.withSession(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		cookie.ServeHTTP(w, r)
	})
}

// sameOrigin refuses unsafe cross-origin browser requests with 403.
func (a *Auth) sameOrigin(next http.Handler) http.Handler {
	return a.crossOrigin.Handler(next)
}

// isLoopback reports whether addr (host:port) names only this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here", "")
	}
}
