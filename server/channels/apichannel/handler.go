// Package apichannel is the API channel: a documented HTTP channel for
// websites, chat widgets and custom sources. Its inbound half takes a
// customer's message at POST /channels/api/{inbox_id}/messages,
// authenticated by the inbox's bearer token, and answers only after the
// message is durably stored, synchronously: a refused request gets its
// 4xx at once and nothing is kept as a dead letter, a store failure gets
// a 5xx and the source retries with the same message id, which makes any
// repeat a duplicate. Its outbound half, Sender, posts each agent reply to
// the inbox's webhook URL, signed with X-Switchboard-Signature and carrying
// an Idempotency-Key that is the same on every attempt, for the outbox
// drainer (server/channels/outbox).
package apichannel

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Provider names this connector (dead letters, logs, the REST API).
const Provider = "api"

// The paths of an API inbox.
const (
	// WebhookPath is the pattern of an inbox's inbound message endpoint.
	WebhookPath = "/channels/api/{inbox_id}/messages"
	// StatusPath is the pattern of an inbox's delivery status endpoint.
	StatusPath = "/channels/api/{inbox_id}/statuses"
)

// DefaultMaxBodyBytes bounds a request body when Options leave it zero:
// room for a message of store.MaxBodyBytes and its attachments' URLs.
const DefaultMaxBodyBytes = 256 << 10

// InboundIDPrefix is put before a source's message id to make the stored
// provider message id, so that a source's own ids can never collide with
// the ids of replies sent through the same inbox.
const InboundIDPrefix = "in:"

// Store is what the handler needs of storage.
type Store interface {
	connector.Store
	WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error)
	Conversation(ctx context.Context, workspaceID, conversationID int64) (store.Conversation, error)
}

// Options configure the handler.
type Options struct {
	Store Store
	// Box opens inbox credentials; nil (no SWITCHBOARD_SECRET_KEY) makes
	// every API inbox answer 503.
	Box    *secretbox.Box
	Logger *slog.Logger
	// OnCommit is told the workspace after a request changed it, so the
	// new events go live at once (inbox.Relay.Notify).
	OnCommit func(workspaceID int64)
	// MaxBodyBytes bounds a request body (413 beyond);
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// Handler serves POST WebhookPath and POST StatusPath.
type Handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the handler.
func New(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	// Registered without a method so that a wrong one gets a JSON 405
	// rather than the mux's plain text.
	h.mux.HandleFunc(WebhookPath, h.postOnly(h.receive))
	h.mux.HandleFunc(StatusPath, h.postOnly(h.status))
	h.mux.HandleFunc("/channels/api/", func(w http.ResponseWriter, r *http.Request) {
		connector.WriteError(w, http.StatusNotFound, "not_found", "no such API channel endpoint; POST "+WebhookPath+" or "+StatusPath)
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) postOnly(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			connector.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		next(w, r)
	}
}

// authenticate loads the path's inbox and checks the request's bearer
// token against it, or answers the request itself and returns ok false.
//
// A request without a bearer token is refused before the inbox is looked
// up; with one, an unknown inbox is 404 and a wrong token 401. Inbox ids
// are not secret (they count up and are part of the URL an integrator is
// given); the token is.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (store.Inbox, Config, bool) {
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		unauthorized(w, "missing Authorization: Bearer <inbound token>")
		return store.Inbox{}, Config{}, false
	}
	in, cfg, ok := connector.LoadInbox(w, r, h.opts.Store, store.InboxAPI, "API", h.log,
		func(in store.Inbox) (Config, error) { return Open(h.opts.Box, in) })
	if !ok {
		return store.Inbox{}, Config{}, false
	}
	// Hashed first, so the comparison takes the same time whatever the
	// length of the token guessed.
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(cfg.InboundToken))
	if cfg.InboundToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		h.log.Warn("api channel: wrong inbound token", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
		unauthorized(w, "invalid inbound token for this inbox")
		return store.Inbox{}, Config{}, false
	}
	return in, cfg, true
}

// bearer returns the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	connector.WriteError(w, http.StatusUnauthorized, "unauthorized", msg)
}

// readJSON checks the content type and reads the body, or answers the
// request itself and returns ok false. A request without a content type
// is taken as JSON.
func (h *Handler) readJSON(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			connector.WriteError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be application/json")
			return nil, false
		}
	}
	return connector.ReadBody(w, r, h.opts.MaxBodyBytes)
}

func writeRequestError(w http.ResponseWriter, err error) {
	var re *RequestError
	if errors.As(err, &re) {
		code := "invalid"
		if re.Status == http.StatusBadRequest {
			code = "bad_request"
		}
		connector.WriteError(w, re.Status, code, re.Error())
		return
	}
	connector.WriteError(w, http.StatusBadRequest, "bad_request", err.Error())
}

// Filed is the answer to an inbound message: 201 for a new one, 200 with
// Duplicate for a message id the inbox already has (nothing changed; the
// ids are the first message's).
type Filed struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
	ContactID      int64 `json:"contact_id"`
	Duplicate      bool  `json:"duplicate"`
}

func (h *Handler) receive(w http.ResponseWriter, r *http.Request) {
	in, _, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	log := h.log.With(slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
	body, ok := h.readJSON(w, r)
	if !ok {
		return
	}
	req, err := ParseInbound(body)
	if err != nil {
		log.Info("api channel: message refused", slog.Any("err", err))
		writeRequestError(w, err)
		return
	}
	ctx := r.Context()
	rendered, err := Render(req)
	if err != nil {
		log.Error("api channel: render message", slog.Any("err", err))
		connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	filed, err := connector.File(ctx, h.opts.Store, in, connector.Message{
		Identity: store.Identity{Channel: store.IdentityChannelForInbox(in.ID), ExternalID: req.Contact.ID},
		Contact:  store.NewContact{Name: req.Contact.Name, Email: req.Contact.Email, Phone: req.Contact.Phone},
		Message: store.NewMessage{
			Type:              rendered.Type,
			Body:              rendered.Body,
			Content:           rendered.Content,
			ProviderMessageID: InboundIDPrefix + req.Message.ID,
		},
	})
	var verr *store.ValidationError
	switch {
	case errors.As(err, &verr):
		connector.WriteError(w, http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s: %s", verr.Field, verr.Message))
		return
	case err != nil:
		log.Error("api channel: store message; the source must retry", slog.Any("err", err))
		connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error; retry with the same message id")
		return
	}
	res := Filed{ConversationID: filed.ConversationID, MessageID: filed.MessageID, ContactID: filed.ContactID, Duplicate: filed.Duplicate}
	if filed.Duplicate {
		if res.ContactID == 0 {
			conv, err := h.opts.Store.Conversation(ctx, in.WorkspaceID, filed.ConversationID)
			if err != nil {
				log.Error("api channel: load conversation of a duplicate", slog.Any("err", err))
				connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error; retry with the same message id")
				return
			}
			res.ContactID = conv.ContactID
		}
		connector.WriteJSON(w, http.StatusOK, res)
		return
	}
	if h.opts.OnCommit != nil {
		h.opts.OnCommit(in.WorkspaceID)
	}
	connector.WriteJSON(w, http.StatusCreated, res)
}

// StatusResult is the answer to a status update.
type StatusResult struct {
	// MessageID is Switchboard's id of the reply.
	MessageID int64 `json:"message_id"`
	// Status is the reply's status after the update.
	Status store.DeliveryStatus `json:"status"`
	// Applied is false when the update changed nothing: a repeat, or
	// older than what is recorded (read is never undone by delivered).
	Applied bool `json:"applied"`
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	in, _, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	log := h.log.With(slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
	body, ok := h.readJSON(w, r)
	if !ok {
		return
	}
	req, err := ParseStatus(body)
	if err != nil {
		log.Info("api channel: status refused", slog.Any("err", err))
		writeRequestError(w, err)
		return
	}
	ctx := r.Context()
	m, err := h.opts.Store.MessageByProviderID(ctx, in.WorkspaceID, in.ID, req.MessageID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Direction != store.DirectionOut) {
		connector.WriteError(w, http.StatusNotFound, "unknown_message", "message_id: no reply of this inbox has this provider message id")
		return
	}
	if err != nil {
		log.Error("api channel: load message", slog.Any("err", err))
		connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	status := store.DeliveryStatus(req.Status)
	applied, err := connector.ApplyStatus(ctx, h.opts.Store, in, req.MessageID, status, req.Error)
	if err != nil {
		log.Error("api channel: store status; the source must retry", slog.Any("err", err))
		connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	res := StatusResult{MessageID: m.ID, Status: m.Status, Applied: applied}
	if applied {
		res.Status = status
		if h.opts.OnCommit != nil {
			h.opts.OnCommit(in.WorkspaceID)
		}
	}
	connector.WriteJSON(w, http.StatusOK, res)
}
