// Package api owns the REST API under /api/v1: the routes, bearer-token
// authentication, request decoding and the translation of store errors into
// JSON error responses. Every handler acts within the workspace of the
// authenticated principal and never takes a workspace id from the URL or
// the body, so one workspace cannot reach another's rows by construction.
//
// Endpoints (JSON, snake_case, RFC 3339 times; all but the OpenAPI
// document need "Authorization: Bearer <token>" or, with no Authorization
// header, a signed-in browser session: see Options.Sessions):
//
//	GET    /api/v1/openapi.json                        this list as OpenAPI 3.1, no token needed (openapi.json)
//	GET    /api/v1/me                                  the principal
//	GET    /api/v1/agents                              the workspace's members with their roles
//	GET    /api/v1/conversations                       filters, cursor pages; include=preview adds contact and last_message
//	GET    /api/v1/conversations/{id}
//	PATCH  /api/v1/conversations/{id}                  status, assignee_id, team_id, priority, snoozed_until
//	POST   /api/v1/conversations/{id}/labels           {"label"}
//	DELETE /api/v1/conversations/{id}/labels/{label}
//	POST   /api/v1/conversations/{id}/read             204
//	GET    /api/v1/conversations/{id}/messages         newest first, cursor pages
//	POST   /api/v1/conversations/{id}/messages         {"body","type","mentions"}, Idempotency-Key; files: multipart/form-data
//	POST   /api/v1/messages/{id}/retry                 a failed reply queued again; 409 not_retryable otherwise
//	GET    /api/v1/media/{id}                          a stored media item's bytes; 409 media_not_ready, 410 media_failed
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
//	GET    /api/v1/members                             the members with their roles (as /agents)
//	PATCH  /api/v1/members/{agent_id}                  {"role"}; 409 demoting the last owner
//	DELETE /api/v1/members/{agent_id}                  204; unassigns, leaves teams, deletes tokens, closes connections; 409 last owner
//	GET    /api/v1/invitations                         outstanding (pending or expired), newest first
//	POST   /api/v1/invitations                         {"email","role","expires_in_days"}, 201; replaces the email's outstanding one; 409 already a member
//	DELETE /api/v1/invitations/{id}                    204; 409 once accepted
//	GET    /api/v1/tokens?agent_id=                    unrevoked API tokens: one's own, or with manage_tokens everyone's
//	POST   /api/v1/tokens                              {"name","role","agent_id"}, 201 with the plaintext, shown once
//	DELETE /api/v1/tokens/{id}                         204; one's own, or with manage_tokens anyone's; closes the agent's connections
//	GET    /api/v1/audit?action=&cursor=&limit=        the audit log, newest first, cursor pages
//	GET    /api/v1/workspace                           name, app id and key, auto_join_domain
//	PATCH  /api/v1/workspace                           name, auto_join_domain (null turns it off)
//	GET    /api/v1/knowledge_articles                  the knowledge base drafts answer from, oldest first
//	POST   /api/v1/knowledge_articles                  {"title","body"}, 201
//	GET    /api/v1/knowledge_articles/{id}
//	PATCH  /api/v1/knowledge_articles/{id}             title, body
//	DELETE /api/v1/knowledge_articles/{id}             204
//	GET    /api/v1/ai/settings                         enabled, provider, base_url, model, instructions, brand_voice, redact, api_key_set
//	PUT    /api/v1/ai/settings                         the same (fields left out kept); api_key write-only
//	GET    /api/v1/contacts/{id}/ai                    {"enabled","off_at"}
//	POST   /api/v1/contacts/{id}/ai                    {"enabled"}: AI off or on for the contact, kept in its consent records
//	POST   /api/v1/conversations/{id}/draft            202 {"draft_id","channel"}; 409 ai_disabled or contact_ai_off
//	GET    /api/v1/conversations/{id}/summary          the stored summary, sentiment, intent and lead label; 404 when none
//	POST   /api/v1/conversations/{id}/summary          computes, stores and returns it; 409 ai_disabled or contact_ai_off
//	GET    /api/v1/inboxes/{id}/ai                     auto_reply, min_confidence: the inbox's AI auto-reply settings
//	PUT    /api/v1/inboxes/{id}/ai                     the same (fields left out kept); 400 min_confidence outside 0..1
//	GET    /api/v1/retention                           message_days, media_days, event_days
//	PUT    /api/v1/retention                           the same (fields left out kept); 400 out of range
//	POST   /api/v1/retention/run                       {"dry_run"}: counts what expired, or deletes it now
//	GET    /api/v1/export                              the whole workspace as a gzip tar archive (server/archive), streamed; audited
//	GET    /api/v1/contacts/{id}/export?format=json|csv everything about the contact; audited as contact.exported
//	POST   /api/v1/contacts/{id}/erase                 {"confirm":true}, 202: a pending erasure request (see server/datarights)
//	GET    /api/v1/erasures?limit=                     erasure requests (agent and Meta), newest first, with status and counts
//	GET    /api/v1/erasures/{id}
//
// Every route also needs a permission of server/access, declared beside it
// in the routes table and checked after authentication against the
// principal's role: reading needs read_inbox, replying
// reply_to_conversation, changing a conversation update_conversation,
// changing contacts manage_contacts, and managing teams, labels and canned
// responses manage_teams, manage_labels and manage_canned_responses, which
// the agent role lacks. Membership needs manage_agents, and manage_owners
// besides for anything that makes, unmakes or touches an owner; the audit
// log view_audit_log; workspace settings manage_workspace. Tokens are the
// one place a handler looks further: every member manages its own, and
// manage_tokens reaches other members'.
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
	"github.com/switchboard-inbox/switchboard/server/media"
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
	// OnAccessRevoked, when set, is called after a member's access to the
	// workspace was cut — the member removed, or one of its API tokens
	// revoked — once the change is committed and before the answer, so
	// that its open websocket connections are closed at once
	// (inbox.AccessRevoker).
	OnAccessRevoked func(workspaceID, agentID int64)
	// Sessions, when set, authenticates a request that carries no
	// Authorization header by its signed-in browser session (see
	// authenticate).
	Sessions Sessions
	// Connectors are the channel connectors inboxes can be created and
	// configured for, by kind; a kind without one answers 503.
	Connectors map[store.InboxKind]Connector
	// Media is the blob store GET /media/{id} serves stored media from
	// and agents' attachments are put into; nil answers both 503
	// unavailable.
	Media MediaBlobs
	// MaxUploadBytes bounds one attachment an agent sends;
	// media.DefaultMaxBytes when zero. A larger one is 413.
	MaxUploadBytes int64
	// AI is the drafts service; nil answers the draft endpoint and
	// setting an API key with 503 ai_unavailable.
	AI AI
	// Retention runs data retention on demand (POST /retention/run); nil
	// answers it with 503 retention_unavailable.
	Retention Retention
	// Erasure records and runs contact erasures (POST
	// /contacts/{id}/erase); nil answers it with 503
	// erasure_unavailable.
	Erasure Erasure
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
	// onAccessRevoked is Options.OnAccessRevoked; see accessRevoked.
	onAccessRevoked func(workspaceID, agentID int64)
	connectors      map[store.InboxKind]Connector
	sessions        Sessions
	ai              AI
	blobs           MediaBlobs
	maxUpload       int64
	retention       Retention
	erasure         Erasure
}

// route is one path of the API, relative to Prefix, with the endpoint of
// each method it serves.
type route struct {
	path    string
	methods map[string]endpoint
}

// routes is the API's routes table: every path, its methods and the
// permission each needs. New serves exactly these, and the OpenAPI
// document describes exactly these (TestOpenAPIMatchesRoutes).
func (h *handler) routes() []route {
	return []route{
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
		{"/messages/{id}/retry", map[string]endpoint{"POST": {access.ReplyToConversation, h.retryMessage}}},
		{"/media/{id}", map[string]endpoint{"GET": {access.ReadInbox, h.getMedia}}},
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
		{"/contacts/{id}/consent", map[string]endpoint{
			"GET":  {access.ReadInbox, h.getConsent},
			"POST": {access.ManageContacts, h.setConsent},
		}},
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
		{"/members", map[string]endpoint{"GET": {access.ReadInbox, h.listMembers}}},
		{"/members/{agent_id}", map[string]endpoint{
			"PATCH":  {access.ManageAgents, h.updateMember},
			"DELETE": {access.ManageAgents, h.removeMember},
		}},
		{"/invitations", map[string]endpoint{
			"GET":  {access.ManageAgents, h.listInvitations},
			"POST": {access.ManageAgents, h.createInvitation},
		}},
		{"/invitations/{id}", map[string]endpoint{"DELETE": {access.ManageAgents, h.revokeInvitation}}},
		// Every member manages its own tokens: the handlers require
		// manage_tokens for other members' (see listTokens).
		{"/tokens", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listTokens},
			"POST": {access.ReadInbox, h.createToken},
		}},
		{"/tokens/{id}", map[string]endpoint{"DELETE": {access.ReadInbox, h.revokeToken}}},
		{"/audit", map[string]endpoint{"GET": {access.ViewAuditLog, h.listAudit}}},
		{"/inboxes", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listInboxes},
			"POST": {access.ManageWorkspace, h.createInbox},
		}},
		{"/inboxes/{id}", map[string]endpoint{
			"GET":   {access.ReadInbox, h.getInbox},
			"PATCH": {access.ManageWorkspace, h.updateInbox},
		}},
		{"/inboxes/{id}/config", map[string]endpoint{"PUT": {access.ManageWorkspace, h.configureInbox}}},
		{"/inboxes/{id}/ai", map[string]endpoint{
			"GET": {access.ManageWorkspace, h.getInboxAI},
			"PUT": {access.ManageWorkspace, h.putInboxAI},
		}},
		{"/dead_letters", map[string]endpoint{"GET": {access.ManageWorkspace, h.listDeadLetters}}},
		{"/knowledge_articles", map[string]endpoint{
			"GET":  {access.ReadInbox, h.listKnowledgeArticles},
			"POST": {access.ManageWorkspace, h.createKnowledgeArticle},
		}},
		{"/knowledge_articles/{id}", map[string]endpoint{
			"GET":    {access.ReadInbox, h.getKnowledgeArticle},
			"PATCH":  {access.ManageWorkspace, h.updateKnowledgeArticle},
			"DELETE": {access.ManageWorkspace, h.deleteKnowledgeArticle},
		}},
		{"/ai/settings", map[string]endpoint{
			"GET": {access.ManageWorkspace, h.getAISettings},
			"PUT": {access.ManageWorkspace, h.putAISettings},
		}},
		{"/contacts/{id}/ai", map[string]endpoint{
			"GET":  {access.ReadInbox, h.getContactAI},
			"POST": {access.ManageContacts, h.setContactAI},
		}},
		{"/conversations/{id}/draft", map[string]endpoint{"POST": {access.ReplyToConversation, h.startDraft}}},
		{"/conversations/{id}/summary", map[string]endpoint{
			"GET":  {access.ReadInbox, h.getConversationSummary},
			"POST": {access.ReplyToConversation, h.summarizeConversation},
		}},
		{"/retention", map[string]endpoint{
			"GET": {access.ManageWorkspace, h.getRetention},
			"PUT": {access.ManageWorkspace, h.putRetention},
		}},
		{"/retention/run", map[string]endpoint{"POST": {access.ManageWorkspace, h.runRetention}}},
		{"/export", map[string]endpoint{"GET": {access.ManageWorkspace, h.exportWorkspace}}},
		{"/contacts/{id}/export", map[string]endpoint{"GET": {access.ManageWorkspace, h.exportContact}}},
		{"/contacts/{id}/erase", map[string]endpoint{"POST": {access.ManageWorkspace, h.eraseContact}}},
		{"/erasures", map[string]endpoint{"GET": {access.ManageWorkspace, h.listErasures}}},
		{"/erasures/{id}", map[string]endpoint{"GET": {access.ManageWorkspace, h.getErasure}}},
		{"/workspace", map[string]endpoint{
			"GET":   {access.ReadInbox, h.getWorkspace},
			"PATCH": {access.ManageWorkspace, h.updateWorkspace},
		}},
	}
}

// New returns the API, serving full paths under Prefix; mount it at
// Prefix + "/". Every route needs a bearer token except the OpenAPI
// document at OpenAPIPath, which clients fetch to generate their code
// before they hold one.
func New(st store.Store, opts Options) http.Handler {
	h := newHandler(st, opts)

	mux := http.NewServeMux()
	for _, rt := range h.routes() {
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
	authed := h.authenticate(h.notifyCommits(mux))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Prefix+OpenAPIPath {
			serveOpenAPI(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}

func newHandler(st store.Store, opts Options) *handler {
	h := &handler{store: st, log: opts.Logger, maxBody: opts.MaxBodyBytes, onCommit: opts.OnCommit, onAccessRevoked: opts.OnAccessRevoked, sessions: opts.Sessions, connectors: opts.Connectors, ai: opts.AI}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.blobs = opts.Media
	h.maxUpload = opts.MaxUploadBytes
	if h.maxUpload <= 0 {
		h.maxUpload = media.DefaultMaxBytes
	}
	h.retention = opts.Retention
	h.erasure = opts.Erasure
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
