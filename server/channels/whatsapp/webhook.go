// Package whatsapp is the WhatsApp Cloud API connector. Its inbound half
// answers Meta's webhook verification, checks X-Hub-Signature-256 over the
// raw body, and files every message and delivery status of a payload in
// the inbox before answering 200, so that Meta retries anything not yet
// durably stored. Duplicates from those retries are dropped by provider
// message id. Media is described, not downloaded (a later slice). Its
// outbound half, Sender, sends text replies through the Graph API for the
// outbox drainer (server/channels/outbox); templates and media are later
// slices.
package whatsapp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

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
	WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error)
	UpsertContact(ctx context.Context, workspaceID int64, id store.Identity, c store.NewContact) (store.Contact, bool, error)
	ListConversations(ctx context.Context, workspaceID int64, f store.ConversationFilter) (store.ConversationPage, error)
	CreateConversation(ctx context.Context, workspaceID int64, c store.NewConversation) (store.Conversation, store.Event, error)
	CreateMessage(ctx context.Context, workspaceID int64, m store.NewMessage) (store.CreatedMessage, error)
	MessageByProviderID(ctx context.Context, workspaceID, inboxID int64, providerMessageID string) (store.Message, error)
	UpdateMessageStatus(ctx context.Context, workspaceID, messageID int64, status store.DeliveryStatus, errText string) (store.Message, store.Event, error)
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
	id, err := strconv.ParseInt(r.PathValue("inbox_id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "not_found", "no such WhatsApp inbox")
		return store.Inbox{}, Config{}, false
	}
	in, err := h.opts.Store.WebhookInbox(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && in.Kind != store.InboxWhatsApp) {
		writeError(w, http.StatusNotFound, "not_found", "no such WhatsApp inbox")
		return store.Inbox{}, Config{}, false
	}
	if err != nil {
		h.log.Error("whatsapp webhook: load inbox", slog.Int64("inbox", id), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return store.Inbox{}, Config{}, false
	}
	cfg, err := Open(h.opts.Box, in)
	if err != nil {
		if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrNotConfigured) {
			h.log.Error("whatsapp webhook: open credentials", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", id), slog.Any("err", err))
		}
		msg := "WhatsApp inbox credentials cannot be read"
		switch {
		case errors.Is(err, ErrUnavailable):
			msg = "WhatsApp connector unavailable: SWITCHBOARD_SECRET_KEY is not set"
		case errors.Is(err, ErrNotConfigured):
			msg = "WhatsApp inbox has no credentials configured"
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", msg)
		return store.Inbox{}, Config{}, false
	}
	return in, cfg, true
}

// verify answers Meta's subscription check: hub.mode=subscribe with the
// inbox's verify token gets hub.challenge back; anything else is 403.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	in, cfg, ok := h.inbox(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare([]byte(token), []byte(cfg.VerifyToken)) != 1 {
		h.log.Warn("whatsapp webhook: verification refused", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
		writeError(w, http.StatusForbidden, "forbidden", "verification failed")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, q.Get("hub.challenge"))
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
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", h.opts.MaxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "cannot read body")
		return
	}
	if err := Verify(body, r.Header.Get(SignatureHeader), cfg.AppSecret); err != nil {
		log.Warn("whatsapp webhook: bad signature", slog.Any("err", err))
		writeError(w, http.StatusUnauthorized, "bad_signature", err.Error())
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
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
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
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
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
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		res.DeadLettered = true
		log.Warn("whatsapp webhook: payload kept as a dead letter", slog.Int("problems", len(batch.Problems)), slog.String("first", truncateUTF8(batch.Problems[0], 200)))
	}
	writeJSON(w, http.StatusOK, res)
}

// mismatch reports a change for another business number than the
// inbox's; either side unknown is no mismatch.
func mismatch(cfg Config, phoneNumberID string) bool {
	return cfg.PhoneNumberID != "" && phoneNumberID != "" && phoneNumberID != cfg.PhoneNumberID
}

var errUnrenderable = errors.New("cannot be rendered")

// file stores one inbound message in the sender's latest unresolved
// conversation of the inbox, or a new one; dup reports a message already
// stored (a provider retry).
func (h *Handler) file(ctx context.Context, in store.Inbox, m Inbound) (dup bool, err error) {
	// Checked first so that a retry of a message whose conversation was
	// resolved since does not open an empty new one; CreateMessage's own
	// dedup still settles two deliveries racing.
	if _, err := h.opts.Store.MessageByProviderID(ctx, in.WorkspaceID, in.ID, m.Message.ID); err == nil {
		return true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	rendered, err := Render(m)
	if err != nil {
		return false, fmt.Errorf("%w: %v", errUnrenderable, err)
	}
	waID := strings.TrimPrefix(m.WaID, "+")
	contact, _, err := h.opts.Store.UpsertContact(ctx, in.WorkspaceID,
		store.Identity{Channel: string(store.InboxWhatsApp), ExternalID: waID},
		store.NewContact{Name: strings.TrimSpace(m.Name), Phone: "+" + waID})
	if err != nil {
		return false, err
	}
	page, err := h.opts.Store.ListConversations(ctx, in.WorkspaceID, store.ConversationFilter{InboxID: in.ID, ContactID: contact.ID, Limit: 1})
	if err != nil {
		return false, err
	}
	var convID int64
	if len(page.Conversations) > 0 && page.Conversations[0].Status != store.StatusResolved {
		convID = page.Conversations[0].ID
	} else {
		conv, _, err := h.opts.Store.CreateConversation(ctx, in.WorkspaceID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
		if err != nil {
			return false, err
		}
		convID = conv.ID
	}
	created, err := h.opts.Store.CreateMessage(ctx, in.WorkspaceID, store.NewMessage{
		ConversationID:    convID,
		Direction:         store.DirectionIn,
		Type:              rendered.Type,
		Body:              rendered.Body,
		Content:           rendered.Content,
		ProviderMessageID: m.Message.ID,
	})
	if err != nil {
		return false, err
	}
	return created.Duplicate, nil
}

// statusRank orders delivery statuses so a late "delivered" never undoes
// "read"; failed is final.
var statusRank = map[store.DeliveryStatus]int{
	store.DeliveryQueued: 1, store.DeliverySent: 2, store.DeliveryDelivered: 3, store.DeliveryRead: 4,
}

// applyStatus records a delivery receipt on the message it is for. A
// receipt for a message this inbox did not send (sent from another tool
// on the same number), of a status the inbox does not track, or older
// than what is recorded, changes nothing.
func (h *Handler) applyStatus(ctx context.Context, in store.Inbox, s Status) (bool, error) {
	status := store.DeliveryStatus(s.Status)
	if _, known := statusRank[status]; !known && status != store.DeliveryFailed {
		return false, nil
	}
	m, err := h.opts.Store.MessageByProviderID(ctx, in.WorkspaceID, in.ID, s.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	errText := ""
	if status == store.DeliveryFailed {
		parts := make([]string, 0, len(s.Errors))
		for _, e := range s.Errors {
			parts = append(parts, e.String())
		}
		errText = strings.Join(parts, "; ")
		if m.Status == store.DeliveryFailed && m.Error == errText {
			return false, nil
		}
	} else if m.Status == store.DeliveryFailed || statusRank[status] <= statusRank[m.Status] {
		return false, nil
	}
	if _, _, err := h.opts.Store.UpdateMessageStatus(ctx, in.WorkspaceID, m.ID, status, errText); err != nil {
		return false, err
	}
	return true, nil
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
