package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Connector is what the API needs of one channel connector to create and
// configure its inboxes: sealing a configuration, and where the provider
// must send its webhooks.
type Connector struct {
	// Seal validates a configuration given as JSON and returns the
	// inbox's settings (nothing secret) and its sealed credentials.
	// Errors about the configuration wrap connector.ErrInvalidConfig
	// (400); connector.ErrUnavailable is 503.
	Seal func(inboxID int64, config json.RawMessage) (settings json.RawMessage, sealed []byte, err error)
	// WebhookPath is the path the provider posts to, with "{inbox_id}"
	// for the inbox's id.
	WebhookPath string
}

// inboxView is an inbox as the API shows it: never its credentials.
type inboxView struct {
	ID          int64           `json:"id"`
	Kind        store.InboxKind `json:"kind"`
	Name        string          `json:"name"`
	Settings    json.RawMessage `json:"settings"`
	Configured  bool            `json:"configured"`
	WebhookPath string          `json:"webhook_path,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
}

func (h *handler) inboxView(in store.Inbox) inboxView {
	v := inboxView{ID: in.ID, Kind: in.Kind, Name: in.Name, Settings: store.ObjectOrEmpty(in.Settings),
		Configured: len(in.Credentials) > 0, CreatedAt: in.CreatedAt}
	if c, ok := h.connectors[in.Kind]; ok && c.WebhookPath != "" {
		v.WebhookPath = strings.ReplaceAll(c.WebhookPath, "{inbox_id}", strconv.FormatInt(in.ID, 10))
	}
	return v
}

type inboxList struct {
	Inboxes []inboxView `json:"inboxes"`
}

// listInboxes serves GET /api/v1/inboxes: the workspace's inboxes, oldest
// first, without their credentials.
func (h *handler) listInboxes(w http.ResponseWriter, r *http.Request) {
	ins, err := h.store.ListInboxes(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := inboxList{Inboxes: make([]inboxView, 0, len(ins))}
	for _, in := range ins {
		out.Inboxes = append(out.Inboxes, h.inboxView(in))
	}
	writeJSON(w, http.StatusOK, out)
}

// getInbox serves GET /api/v1/inboxes/{id}.
func (h *handler) getInbox(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := h.store.Inbox(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.inboxView(in))
}

type inboxCreate struct {
	Kind   store.InboxKind `json:"kind"`
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config"`
}

// createInbox serves POST /api/v1/inboxes with {"kind", "name",
// "config"}: it connects a channel. The configuration (the provider's
// ids and secrets, see README) is sealed with SWITCHBOARD_SECRET_KEY and
// never shown again. Without a config the inbox is created unconfigured,
// and its webhook answers 503 until PUT .../config.
func (h *handler) createInbox(w http.ResponseWriter, r *http.Request) {
	var req inboxCreate
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	conn, err := h.connector(req.Kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	if err := (store.NewInbox{Kind: req.Kind, Name: req.Name}).Validate(); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(req.Config) > 0 && string(req.Config) != "null" {
		// Check the configuration before creating anything; it is sealed
		// again for the new inbox's id below.
		if _, _, err := conn.Seal(0, req.Config); err != nil {
			h.fail(w, r, h.sealError(err))
			return
		}
	}
	in, err := h.store.CreateInbox(r.Context(), p.Workspace.ID, store.NewInbox{Kind: req.Kind, Name: req.Name})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(req.Config) > 0 && string(req.Config) != "null" {
		if in, err = h.configure(r, in, conn, req.Config); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.audit(r, store.AuditInboxCreated, in)
	writeJSON(w, http.StatusCreated, h.inboxView(in))
}

type inboxPatch struct {
	Name string `json:"name"`
}

// updateInbox serves PATCH /api/v1/inboxes/{id} with {"name"}.
func (h *handler) updateInbox(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req inboxPatch
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := h.store.RenameInbox(r.Context(), principal(r).Workspace.ID, id, req.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h.inboxView(in))
}

// configureInbox serves PUT /api/v1/inboxes/{id}/config: it replaces the
// inbox's whole configuration (to connect it, or rotate its secrets).
func (h *handler) configureInbox(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var raw json.RawMessage
	if err := h.decodeBody(w, r, &raw); err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := h.store.Inbox(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	conn, err := h.connector(in.Kind)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if in, err = h.configure(r, in, conn, raw); err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(r, store.AuditInboxConfigured, in)
	writeJSON(w, http.StatusOK, h.inboxView(in))
}

func (h *handler) connector(kind store.InboxKind) (Connector, error) {
	if !kind.Valid() {
		return Connector{}, invalid("kind", "must be one of whatsapp, messenger, instagram, sms, api")
	}
	c, ok := h.connectors[kind]
	if !ok || c.Seal == nil {
		return Connector{}, &requestError{status: http.StatusServiceUnavailable, code: "unavailable",
			message: "this server has no " + string(kind) + " connector"}
	}
	return c, nil
}

func (h *handler) configure(r *http.Request, in store.Inbox, conn Connector, raw json.RawMessage) (store.Inbox, error) {
	settings, sealed, err := conn.Seal(in.ID, raw)
	if err != nil {
		return store.Inbox{}, h.sealError(err)
	}
	return h.store.ConfigureInbox(r.Context(), in.WorkspaceID, in.ID, settings, sealed)
}

// sealError maps a connector's refusal to the API's errors; the message
// never carries a secret (connectors name fields, not values).
func (h *handler) sealError(err error) error {
	switch {
	case errors.Is(err, connector.ErrInvalidConfig):
		return invalid("config", err.Error())
	case errors.Is(err, connector.ErrUnavailable):
		return &requestError{status: http.StatusServiceUnavailable, code: "unavailable",
			message: "channel credentials cannot be stored: SWITCHBOARD_SECRET_KEY is not set on this server"}
	}
	return err
}

// audit records an inbox change; a failure is logged, not answered: the
// change itself is committed.
func (h *handler) audit(r *http.Request, action string, in store.Inbox) {
	p := principal(r)
	details, _ := json.Marshal(map[string]any{"kind": in.Kind, "name": in.Name})
	if err := h.store.RecordAudit(r.Context(), p.Workspace.ID, store.AuditEntry{
		ActorID: p.Agent.ID, TokenID: p.TokenID, Action: action, TargetKind: store.AuditTargetInbox, TargetID: in.ID, Details: details,
	}); err != nil {
		h.log.ErrorContext(r.Context(), "api: audit inbox change", "err", err, "inbox", in.ID)
	}
}

type deadLetterView struct {
	ID         int64     `json:"id"`
	InboxID    int64     `json:"inbox_id"`
	Provider   string    `json:"provider"`
	ReceivedAt time.Time `json:"received_at"`
	Error      string    `json:"error"`
	Body       string    `json:"body"`
}

type deadLetterList struct {
	DeadLetters []deadLetterView `json:"dead_letters"`
}

// listDeadLetters serves GET /api/v1/dead_letters?limit=N: the newest
// provider payloads that were authenticated but could not be filed, with
// why, for an admin to read (and replay by hand).
func (h *handler) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			h.fail(w, r, invalid("limit", "must be 1 to 200"))
			return
		}
		limit = n
	}
	dls, err := h.store.ListDeadLetters(r.Context(), principal(r).Workspace.ID, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := deadLetterList{DeadLetters: make([]deadLetterView, 0, len(dls))}
	for _, d := range dls {
		out.DeadLetters = append(out.DeadLetters, deadLetterView{ID: d.ID, InboxID: d.InboxID, Provider: d.Provider,
			ReceivedAt: d.ReceivedAt, Error: d.Error, Body: strings.ToValidUTF8(string(d.Body), "\uFFFD")})
	}
	writeJSON(w, http.StatusOK, out)
}
