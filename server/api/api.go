// Package api owns the REST API under /api/v1: the routes, bearer-token
// authentication, request decoding and the translation of store errors into
// JSON error responses. Every handler acts within the workspace of the
// authenticated principal and never takes a workspace id from the URL or
// the body, so one workspace cannot reach another's rows by construction.
//
// Endpoints (JSON, snake_case, RFC 3339 times; all need
// "Authorization: Bearer <token>"):
//
//	GET    /api/v1/me                                  the principal
//	GET    /api/v1/conversations                       filters, cursor pages
//	GET    /api/v1/conversations/{id}
//	PATCH  /api/v1/conversations/{id}                  status, assignee_id, team_id, priority, snoozed_until
//	POST   /api/v1/conversations/{id}/labels           {"label"}
//	DELETE /api/v1/conversations/{id}/labels/{label}
//	POST   /api/v1/conversations/{id}/read             204
//	GET    /api/v1/conversations/{id}/messages         newest first, cursor pages
//	POST   /api/v1/conversations/{id}/messages         {"body","type","mentions"}, Idempotency-Key
//	GET    /api/v1/events?after={seq}&limit=           catch-up; 410 once pruned
//	GET    /api/v1/search?q=&limit=                    messages and contacts
//
// Errors are {"error":{"code","message","field"}}: 400 invalid,
// malformed_json or unknown_field; 401 unauthenticated; 404 not_found; 405
// method_not_allowed; 409 conflict; 410 events_gone; 413
// payload_too_large; 415 unsupported_media_type; 500 internal, with the
// cause logged and never sent.
package api

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes
// is zero. A larger body is answered 413 with code "payload_too_large".
const DefaultMaxBodyBytes = 1 << 20

// Prefix is the path every route of the API lives under.
const Prefix = "/api/v1"

// Options configures the API handler.
type Options struct {
	// Logger receives request failures the client cannot see the details
	// of (500s). Nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// OnCommit, when set, is called with the workspace after every
	// successful change (a 2xx answer to an unsafe method), so the
	// inbox's relay publishes the new events at once.
	OnCommit func(workspaceID int64)
}

// handler holds what every endpoint needs. Each endpoint is a method on it,
// in a file of its own.
type handler struct {
	store    store.Store
	log      *slog.Logger
	maxBody  int64
	onCommit func(workspaceID int64)
}

// New returns the API, serving full paths under Prefix; mount it at
// Prefix + "/".
func New(st store.Store, opts Options) http.Handler {
	h := newHandler(st, opts)

	mux := http.NewServeMux()
	routes := []struct {
		path    string
		methods map[string]http.HandlerFunc
	}{
		{"/me", map[string]http.HandlerFunc{"GET": h.me}},
		{"/conversations", map[string]http.HandlerFunc{"GET": h.listConversations}},
		{"/conversations/{id}", map[string]http.HandlerFunc{"GET": h.getConversation, "PATCH": h.updateConversation}},
		{"/conversations/{id}/labels", map[string]http.HandlerFunc{"POST": h.addLabel}},
		{"/conversations/{id}/labels/{label}", map[string]http.HandlerFunc{"DELETE": h.removeLabel}},
		{"/conversations/{id}/read", map[string]http.HandlerFunc{"POST": h.markRead}},
		{"/conversations/{id}/messages", map[string]http.HandlerFunc{"GET": h.listMessages, "POST": h.sendMessage}},
		{"/events", map[string]http.HandlerFunc{"GET": h.listEvents}},
		{"/search", map[string]http.HandlerFunc{"GET": h.search}},
	}
	for _, rt := range routes {
		var allow []string
		for method, fn := range rt.methods {
			mux.HandleFunc(method+" "+Prefix+rt.path, fn)
			allow = append(allow, method)
			if method == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
		// The method-less pattern is less specific than the ones above,
		// so it only sees the methods they do not serve: answer those
		// with a JSON 405 instead of the mux's plain-text one.
		slices.Sort(allow)
		mux.HandleFunc(Prefix+rt.path, methodNotAllowed(strings.Join(allow, ", ")))
	}
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint", "")
	})
	return h.authenticate(h.notifyCommits(mux))
}

func newHandler(st store.Store, opts Options) *handler {
	h := &handler{store: st, log: opts.Logger, maxBody: opts.MaxBodyBytes, onCommit: opts.OnCommit}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	return h
}

// notifyCommits calls OnCommit after a successful unsafe request.
func (h *handler) notifyCommits(next http.Handler) http.Handler {
	if h.onCommit == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if sw.status < 300 {
			h.onCommit(principal(r).Workspace.ID)
		}
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here", "")
	}
}
