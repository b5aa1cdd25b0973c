// Package whatsapp is the WhatsApp Cloud API connector. Its inbound half
// answers Meta's webhook verification, checks X-Hub-Signature-256 over the
// raw body, and files every message and delivery status of a payload in
// the inbox before answering 200, so that Meta retries anything not yet
// durably stored. Duplicates from those retries are dropped by provider
// message id. Media is queued with its message for server/media to
// download. Its outbound half, Sender, sends text and template replies
// through the Graph API for the outbox drainer (server/channels/outbox);
// media replies are a later slice.
package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Provider is the name dead letters of this connector carry.
const Provider = "whatsapp"

// DefaultMaxBodyBytes bounds a webhook body when Options leave it zero;
// Meta's payloads are a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// Store is what the connector needs of storage.
type Store interface {
	connector.Store
	WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error)
	CreateDeadLetter(ctx context.Context, workspaceID int64, d store.NewDeadLetter) (store.DeadLetter, error)
}

// Options configure the webhook handler.
type Options struct {
	Store Store
	// Box opens inbox credentials; nil (no SWITCHBOARD_SECRET_KEY) makes
	// every WhatsApp inbox answer 503.
	Box    *secretbox.Box
	Logger *slog.Logger
	// OnCommit is told the workspace after a payload changed it, so the
	// new events go live at once (inbox.Relay.Notify).
	OnCommit func(workspaceID int64)
	// MaxBodyBytes bounds a webhook body (413 beyond);
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// Handler serves GET and POST /channels/whatsapp/{inbox_id}/webhook.
type Handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// WebhookPath is the pattern of an inbox's webhook URL.
const WebhookPath = "/channels/whatsapp/{inbox_id}/webhook"

// New returns the webhook handler.
func New(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("GET "+WebhookPath, h.verify)
	h.mux.HandleFunc("POST "+WebhookPath, h.receive)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// inbox loads the path's inbox and its configuration, or answers the
// request itself and returns ok false.
func (h *Handler) inbox(w http.ResponseWriter, r *http.Request) (store.Inbox, Config, bool) {
	return connector.LoadInbox(w, r, h.opts.Store, store.InboxWhatsApp, "WhatsApp", h.log,
		func(in store.Inbox) (Config, error) { return Open(h.opts.Box, in) })
}

// verify answers Meta's subscription check: hub.mode=subscribe with the
// inbox's verify token gets hub.challenge back; anything else is 403.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	in, cfg, ok := h.inbox(w, r)
	if !ok {
		return
	}
	if !connector.MetaChallenge(w, r, cfg.VerifyToken) {
		h.log.Warn("whatsapp webhook: verification refused", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
	}
}

// Result is the JSON body of a 200 answer, for operators and the
// simulate command; Meta only reads the status.
type Result struct {
	Messages     int  `json:"messages"`
	Duplicates   int  `json:"duplicates"`
	Statuses     int  `json:"statuses"`
	DeadLettered bool `json:"dead_lettered"`
}

func (h *Handler) receive(w http.ResponseWriter, r *http.Request) {
	in, cfg, ok := h.inbox(w, r)
	if !ok {
		return
	}
	log := h.log.With(slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
	body, ok := connector.ReadBody(w, r, h.opts.MaxBodyBytes)
	if !ok {
		return
	}
	if err := connector.MetaVerify(body, r.Header.Get(connector.MetaSignatureHeader), cfg.AppSecret); err != nil {
		log.Warn("whatsapp webhook: bad signature", slog.Any("err", err))
		connector.WriteError(w, http.StatusUnauthorized, "bad_signature", err.Error())
		return
	}

	ctx := r.Context()
	var res Result
	changed := false
	defer func() {
		if changed && h.opts.OnCommit != nil {
			h.opts.OnCommit(in.WorkspaceID)
		}
	}()
	batch, err := Parse(body)
	if err != nil {
		batch.Problems = []string{err.Error()}
	}
	for _, m := range batch.Messages {
		if mismatch(cfg, m.PhoneNumberID) {
			batch.Problems = append(batch.Problems, fmt.Sprintf("message %s: for phone number id %q, not this inbox's", m.Message.ID, m.PhoneNumberID))
			continue
		}
		dup, err := h.file(ctx, in, m)
		var verr *store.ValidationError
		switch {
		case errors.As(err, &verr) || errors.Is(err, errUnrenderable):
			batch.Problems = append(batch.Problems, fmt.Sprintf("message %s: %v", m.Message.ID, err))
			continue
		case err != nil:
			log.Error("whatsapp webhook: store message; asking Meta to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		changed = changed || !dup
		if dup {
			res.Duplicates++
		} else {
			res.Messages++
		}
	}
	for _, rc := range batch.Receipts {
		if mismatch(cfg, rc.PhoneNumberID) {
			continue // a receipt for another number's message is not ours to keep
		}
		applied, err := h.applyStatus(ctx, in, rc.Status)
		var verr *store.ValidationError
		switch {
		case errors.As(err, &verr):
			batch.Problems = append(batch.Problems, fmt.Sprintf("status of %s: %v", rc.Status.ID, err))
			continue
		case err != nil:
			log.Error("whatsapp webhook: store status; asking Meta to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		if applied {
			changed = true
			res.Statuses++
		}
	}
	if len(batch.Problems) > 0 {
		_, err := h.opts.Store.CreateDeadLetter(ctx, in.WorkspaceID, store.NewDeadLetter{
			InboxID: in.ID, Provider: Provider, Body: body, Error: strings.Join(batch.Problems, "\n"),
		})
		if err != nil {
			log.Error("whatsapp webhook: keep dead letter; asking Meta to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		res.DeadLettered = true
		log.Warn("whatsapp webhook: payload kept as a dead letter", slog.Int("problems", len(batch.Problems)), slog.String("first", connector.TruncateUTF8(batch.Problems[0], 200)))
	}
	connector.WriteJSON(w, http.StatusOK, res)
}

// mismatch reports a change for another business number than the
// inbox's; either side unknown is no mismatch.
func mismatch(cfg Config, phoneNumberID string) bool {
	return cfg.PhoneNumberID != "" && phoneNumberID != "" && phoneNumberID != cfg.PhoneNumberID
}

var errUnrenderable = errors.New("cannot be rendered")

// file stores one inbound message; dup reports a message already stored
// (a provider retry).
func (h *Handler) file(ctx context.Context, in store.Inbox, m Inbound) (dup bool, err error) {
	rendered, err := Render(m)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errUnrenderable, err)
	}
	waID := strings.TrimPrefix(m.WaID, "+")
	filed, err := connector.File(ctx, h.opts.Store, in, connector.Message{
		Identity: store.Identity{Channel: string(store.InboxWhatsApp), ExternalID: waID},
		Contact:  store.NewContact{Name: strings.TrimSpace(m.Name), Phone: "+" + waID},
		Message: store.NewMessage{
			Type:              rendered.Type,
			Body:              rendered.Body,
			Content:           rendered.Content,
			ProviderMessageID: m.Message.ID,
			Media:             rendered.Media,
		},
	})
	return filed.Duplicate, err
}

// applyStatus records a delivery receipt on the message it is for.
func (h *Handler) applyStatus(ctx context.Context, in store.Inbox, s Status) (bool, error) {
	errText := ""
	if s.Status == string(store.DeliveryFailed) {
		parts := make([]string, 0, len(s.Errors))
		for _, e := range s.Errors {
			parts = append(parts, e.String())
		}
		errText = strings.Join(parts, "; ")
	}
	return connector.ApplyStatus(ctx, h.opts.Store, in, s.ID, store.DeliveryStatus(s.Status), errText)
}
