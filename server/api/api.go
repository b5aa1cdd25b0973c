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
//	GET    /api/v1/agents                              the workspace's members with their roles
//	GET    /api/v1/conversations                       filters, cursor pages
//	GET    /api/v1/conversations/{id}
//	PATCH  /api/v1/conversations/{id}                  status, assignee_id, team_id, priority, snoozed_until
//	POST   /api/v1/conversations/{id}/labels           {"label"}
//	DELETE /api/v1/conversations/{id}/labels/{label}
//	POST   /api/v1/conversations/{id}/read             204
//	GET    /api/v1/conversations/{id}/messages         newest first, cursor pages
//	POST   /api/v1/conversations/{id}/messages         {"body","type","mentions"}, Idempotency-Key
//	GET    /api/v1/contacts?q=&cursor=&limit=          newest first, cursor pages, q full-text
//	POST   /api/v1/contacts                            {"name","email","phone","attributes","identities"}, 201; 409 identity taken
//	GET    /api/v1/contacts/{id}                       with identities
//	PATCH  /api/v1/contacts/{id}                       name, email, phone, attributes (merged by key; null deletes)
//	DELETE /api/v1/contacts/{id}                       204; 409 while it has conversations
//	POST   /api/v1/contacts/{id}/merge                 {"from_id"}: from's identities and conversations move to {id}
//	GET    /api/v1/contacts/{id}/conversations         newest activity first, cursor pages
//	GET    /api/v1/teams                               with member agent_ids
//	POST   /api/v1/teams                               {"name","description"}, 201; 409 name taken
//	GET    /api/v1/teams/{id}
//	PATCH  /api/v1/teams/{id}                          name, description; 409 name taken
//	DELETE /api/v1/teams/{id}                          204; its conversations are unrouted (team_id unset)
//	PUT    /api/v1/teams/{id}/members/{agent_id}       the team; adding twice is fine
//	DELETE /api/v1/teams/{id}/members/{agent_id}       the team; removing a non-member is fine
//	GET    /api/v1/labels
//	POST   /api/v1/labels                              {"name","color","description"}, 201; 409 name taken
//	PATCH  /api/v1/labels/{id}                         name (renames it on every conversation), color, description
//	DELETE /api/v1/labels/{id}                         204; taken off every conversation
//	GET    /api/v1/canned_responses?prefix=            by short_code
//	POST   /api/v1/canned_responses                    {"short_code","content"}, 201; 409 short_code taken
//	PATCH  /api/v1/canned_responses/{id}               short_code, content
//	DELETE /api/v1/canned_responses/{id}               204
//	GET    /api/v1/events?after={seq}&limit=           catch-up; 410 once pruned
//	GET    /api/v1/search?q=&limit=                    messages and contacts
//
// Every route also needs a permission of server/access, declared beside it
// in New's routes table and checked after authentication against the
// principal's role: reading needs read_inbox, replying
// reply_to_conversation, changing a conversation update_conversation,
// changing contacts manage_contacts, and managing teams, labels and canned
// responses manage_teams, manage_labels and manage_canned_responses, which
// the agent role lacks.
//
// Errors are {"error":{"code","message","field"}}: 400 invalid,
// malformed_json or unknown_field; 401 unauthenticated; 403 forbidden,
// the message naming the missing permission; 404 not_found; 405
// method_not_allowed; 409 conflict; 410 events_gone; 413
// payload_too_large; 415 unsupported_media_type; 500 internal, with the
// cause logged and never sent.
package api

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/access"
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

// endpoint is one method of a route: the permission it needs, checked by
// authorize before serve runs, and the handler.
type endpoint struct {
	need  access.Action
	serve http.HandlerFunc
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
		methods map[string]endpoint
	}{
		{"/me", map[string]endpoint{"GET": {access.ReadInbox, h.me}}},
		{"/agents", map[string]endpoint{"GET": {access.ReadInbox, h.listAgents}}},
		{"/conversations", map[string]endpoint{"GET": {access.ReadInbox, h.listConversations}}},
		{"/conversations/{id}", map[string]endpoint{
			"GET":   {access.ReadInbox, h.getConversation},
			"PATCH": {access.UpdateConversation, h.updateConversation},
		}},
		{"/conversations/{id}/labels", map[string]endpoint{"POST": {access.UpdateConversation, h.addLabel}}},
		{"/conversations/{id}/labels/{label}", map[string]endpoint{"DELETE": {access.UpdateConversation, h.removeLabel}}},
		// Marking read changes only the caller's own read state.
		{"/conversations/{id}/read", map[string]endpoint{"POST": {access.ReadInbox, h.markRead}}},
		{"/conversations/{id}/messages", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listMessages},
			"POST": {access.ReplyToConversation, h.sendMessage},
		}},
		{"/contacts", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listContacts},
			"POST": {access.ManageContacts, h.createContact},
		}},
		{"/contacts/{id}", map[string]endpoint{
			"GET":    {access.ReadInbox, h.getContact},
			"PATCH":  {access.ManageContacts, h.updateContact},
			"DELETE": {access.ManageContacts, h.deleteContact},
		}},
		{"/contacts/{id}/merge", map[string]endpoint{"POST": {access.ManageContacts, h.mergeContact}}},
		{"/contacts/{id}/conversations", map[string]endpoint{"GET": {access.ReadInbox, h.listContactConversations}}},
		{"/teams", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listTeams},
			"POST": {access.ManageTeams, h.createTeam},
		}},
		{"/teams/{id}", map[string]endpoint{
			"GET":    {access.ReadInbox, h.getTeam},
			"PATCH":  {access.ManageTeams, h.updateTeam},
			"DELETE": {access.ManageTeams, h.deleteTeam},
		}},
		{"/teams/{id}/members/{agent_id}", map[string]endpoint{
			"PUT":    {access.ManageTeams, h.addTeamMember},
			"DELETE": {access.ManageTeams, h.removeTeamMember},
		}},
		{"/labels", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listLabels},
			"POST": {access.ManageLabels, h.createLabel},
		}},
		{"/labels/{id}", map[string]endpoint{
			"PATCH":  {access.ManageLabels, h.updateLabel},
			"DELETE": {access.ManageLabels, h.deleteLabel},
		}},
		{"/canned_responses", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listCannedResponses},
			"POST": {access.ManageCannedResponses, h.createCannedResponse},
		}},
		{"/canned_responses/{id}", map[string]endpoint{
			"PATCH":  {access.ManageCannedResponses, h.updateCannedResponse},
			"DELETE": {access.ManageCannedResponses, h.deleteCannedResponse},
		}},
		{"/events", map[string]endpoint{"GET": {access.ReadInbox, h.listEvents}}},
		{"/search", map[string]endpoint{"GET": {access.ReadInbox, h.search}}},
	}
	for _, rt := range routes {
		var allow []string
		for method, ep := range rt.methods {
			mux.Handle(method+" "+Prefix+rt.path, h.authorize(ep.need, ep.serve))
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
