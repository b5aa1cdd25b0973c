// Package messenger is the connector of Meta's Messenger Platform, for
// two inbox kinds with one code: Facebook Page inboxes
// (store.InboxMessenger, webhook object "page", contacts known by their
// page-scoped id) and Instagram professional account inboxes
// (store.InboxInstagram, object "instagram", contacts known by their
// Instagram-scoped id).
//
// Its inbound half answers Meta's webhook verification, checks
// X-Hub-Signature-256 over the raw body, and files every message,
// postback, reaction, echo and receipt of a payload before answering
// 200, so that Meta retries anything not yet durably stored; duplicates
// from those retries are dropped by provider message id. Echoes of
// messages the page sent from elsewhere (Meta Business Suite, the phone
// app) are stored as outbound messages so agents see the whole thread;
// echoes of Switchboard's own sends are skipped. Media is queued for
// server/media to download with its message. Its outbound half, Sender, sends text
// replies through the Send API within Meta's messaging windows.
package messenger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Provider is the name dead letters of Messenger inboxes carry; those of
// Instagram inboxes carry "instagram".
const Provider = "messenger"

// The webhook URL patterns of the two kinds.
const (
	WebhookPath          = "/channels/messenger/{inbox_id}/webhook"
	InstagramWebhookPath = "/channels/instagram/{inbox_id}/webhook"
)

// WebhookPathFor is the webhook URL pattern of an inbox kind.
func WebhookPathFor(kind store.InboxKind) string {
	if kind == store.InboxInstagram {
		return InstagramWebhookPath
	}
	return WebhookPath
}

// DefaultMaxBodyBytes bounds a webhook body when Options leave it zero;
// Meta's payloads are a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// receiptPages bounds how far back, in pages of messages, a watermark
// receipt looks for messages to advance.
const receiptPages = 5

// Store is what the connector needs of storage.
type Store interface {
	connector.Store
	WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error)
	CreateDeadLetter(ctx context.Context, workspaceID int64, d store.NewDeadLetter) (store.DeadLetter, error)
	// ListMessages finds the messages a read or delivery watermark
	// covers.
	ListMessages(ctx context.Context, workspaceID, conversationID int64, f store.MessageFilter) ([]store.Message, error)
}

// Options configure the webhook handler.
type Options struct {
	// Kind is store.InboxMessenger (the default) or store.InboxInstagram:
	// which inboxes and which path the handler serves.
	Kind  store.InboxKind
	Store Store
	// Box opens inbox credentials; nil (no SWITCHBOARD_SECRET_KEY) makes
	// every inbox answer 503.
	Box    *secretbox.Box
	Logger *slog.Logger
	// OnCommit is told the workspace after a payload changed it, so the
	// new events go live at once (inbox.Relay.Notify).
	OnCommit func(workspaceID int64)
	// MaxBodyBytes bounds a webhook body (413 beyond);
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// Handler serves GET and POST of one kind's webhook path.
type Handler struct {
	opts Options
	kind store.InboxKind
	name string // "Messenger" or "Instagram", for answers
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the webhook handler of opts.Kind; another kind than
// Messenger or Instagram is a wiring mistake, and panics.
func New(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	switch opts.Kind {
	case "":
		opts.Kind = store.InboxMessenger
	case store.InboxMessenger, store.InboxInstagram:
	default:
		panic(fmt.Sprintf("messenger.New: inbox kind %q is not messenger or instagram", opts.Kind))
	}
	h := &Handler{opts: opts, kind: opts.Kind, name: displayName(opts.Kind), log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.log = h.log.With(slog.String("channel", string(opts.Kind)))
	path := WebhookPathFor(opts.Kind)
	h.mux.HandleFunc("GET "+path, h.verify)
	h.mux.HandleFunc("POST "+path, h.receive)
	return h
}

func displayName(kind store.InboxKind) string {
	if kind == store.InboxInstagram {
		return "Instagram"
	}
	return "Messenger"
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// inbox loads the path's inbox and its configuration, or answers the
// request itself and returns ok false.
func (h *Handler) inbox(w http.ResponseWriter, r *http.Request) (store.Inbox, Config, bool) {
	return connector.LoadInbox(w, r, h.opts.Store, h.kind, h.name, h.log,
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
		h.log.Warn("webhook: verification refused", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
	}
}

// Result is the JSON body of a 200 answer, for operators and the
// simulate command; Meta only reads the status.
type Result struct {
	// Messages counts the customers' messages, postbacks and reactions
	// stored; Echoes the page's own messages sent from elsewhere stored
	// as outbound.
	Messages int `json:"messages"`
	Echoes   int `json:"echoes"`
	// Duplicates counts events already stored (Meta's retries), and
	// echoes of messages Switchboard sent itself.
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
		log.Warn("webhook: bad signature", slog.Any("err", err))
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
	switch {
	case err != nil:
		batch.Problems = []string{err.Error()}
	case batch.Object != objectFor(h.kind):
		batch = Batch{Problems: []string{fmt.Sprintf("object %q is not for a %s inbox (want %q)", batch.Object, h.name, objectFor(h.kind))}}
	}
	account := cfg.accountID(h.kind)
	for _, m := range batch.Messages {
		if mismatch(account, m.AccountID) || mismatch(account, m.BusinessID()) {
			batch.Problems = append(batch.Problems, fmt.Sprintf("event of %s: for account %q, not this inbox's", m.CustomerID(), m.AccountID))
			continue
		}
		var out outcome
		if m.Echo() {
			out, err = h.fileEcho(ctx, in, cfg, m)
		} else {
			out, err = h.file(ctx, in, m)
		}
		var verr *store.ValidationError
		switch {
		case errors.As(err, &verr) || errors.Is(err, errUnrenderable):
			batch.Problems = append(batch.Problems, fmt.Sprintf("event of %s: %v", m.CustomerID(), err))
			continue
		case err != nil:
			log.Error("webhook: store message; asking Meta to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		switch out {
		case stored:
			res.Messages++
			changed = true
		case storedEcho:
			res.Echoes++
			changed = true
		case duplicate:
			res.Duplicates++
		}
	}
	for _, rc := range batch.Receipts {
		if mismatch(account, rc.AccountID) {
			continue // a receipt for another account's message is not ours to keep
		}
		n, err := h.applyReceipt(ctx, in, rc)
		var verr *store.ValidationError
		switch {
		case errors.As(err, &verr):
			batch.Problems = append(batch.Problems, fmt.Sprintf("receipt of %s: %v", rc.CustomerID, err))
			continue
		case err != nil:
			log.Error("webhook: store receipt; asking Meta to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		if n > 0 {
			changed = true
			res.Statuses += n
		}
	}
	if len(batch.Problems) > 0 {
		_, err := h.opts.Store.CreateDeadLetter(ctx, in.WorkspaceID, store.NewDeadLetter{
			InboxID: in.ID, Provider: string(h.kind), Body: body, Error: strings.Join(batch.Problems, "\n"),
		})
		if err != nil {
			log.Error("webhook: keep dead letter; asking Meta to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		}
		res.DeadLettered = true
		log.Warn("webhook: payload kept as a dead letter", slog.Int("problems", len(batch.Problems)), slog.String("first", connector.TruncateUTF8(batch.Problems[0], 200)))
	}
	connector.WriteJSON(w, http.StatusOK, res)
}

// mismatch reports an event for another page or account than the
// inbox's; either side unknown is no mismatch.
func mismatch(account, got string) bool {
	return account != "" && got != "" && got != account
}

var errUnrenderable = errors.New("cannot be rendered")

// outcome is what became of one event.
type outcome int

const (
	stored outcome = iota
	storedEcho
	duplicate
)

// identity is how the inbox knows a customer of its kind.
func (h *Handler) identity(customerID string) store.Identity {
	return store.Identity{Channel: string(h.kind), ExternalID: customerID}
}

// file stores one message, postback or reaction of a customer.
func (h *Handler) file(ctx context.Context, in store.Inbox, m Inbound) (outcome, error) {
	rendered, err := Render(h.kind, m)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errUnrenderable, err)
	}
	filed, err := connector.File(ctx, h.opts.Store, in, connector.Message{
		Identity: h.identity(m.CustomerID()),
		Message: store.NewMessage{
			Type:              rendered.Type,
			Body:              rendered.Body,
			Content:           rendered.Content,
			ProviderMessageID: rendered.ProviderMessageID,
			Media:             rendered.Media,
		},
	})
	if err != nil {
		return 0, err
	}
	if filed.Duplicate {
		return duplicate, nil
	}
	return stored, nil
}

// fileEcho stores a message the page sent from elsewhere than Switchboard
// as an outbound message already sent (no outbox entry, no window check),
// written by the system (the person who wrote it
// on Meta's side is not an agent Switchboard knows), in the customer's
// latest conversation of the inbox whatever its status: an echo is
// context, it does not reopen work. Only when the customer has none is
// one opened. Echoes of Switchboard's own sends (its app id, or a mid
// already stored) are duplicates.
func (h *Handler) fileEcho(ctx context.Context, in store.Inbox, cfg Config, m Inbound) (outcome, error) {
	msg := m.Event.Message
	if cfg.AppID != "" && string(msg.AppID) == cfg.AppID {
		return duplicate, nil
	}
	if _, err := h.opts.Store.MessageByProviderID(ctx, in.WorkspaceID, in.ID, msg.Mid); err == nil {
		return duplicate, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	rendered, err := Render(h.kind, m)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errUnrenderable, err)
	}
	contact, _, err := h.opts.Store.UpsertContact(ctx, in.WorkspaceID, h.identity(m.CustomerID()), store.NewContact{})
	if err != nil {
		return 0, err
	}
	page, err := h.opts.Store.ListConversations(ctx, in.WorkspaceID, store.ConversationFilter{InboxID: in.ID, ContactID: contact.ID, Limit: 1})
	if err != nil {
		return 0, err
	}
	var convID int64
	if len(page.Conversations) > 0 {
		convID = page.Conversations[0].ID
		ours, err := h.sending(ctx, in, convID, rendered.Type, rendered.Body)
		if err != nil || ours {
			return duplicate, err
		}
	} else {
		conv, _, err := h.opts.Store.CreateConversation(ctx, in.WorkspaceID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
		if err != nil {
			return 0, err
		}
		convID = conv.ID
	}
	created, err := h.opts.Store.CreateMessage(ctx, in.WorkspaceID, store.NewMessage{
		ConversationID:    convID,
		Direction:         store.DirectionOut,
		AuthorKind:        store.AuthorSystem,
		Type:              rendered.Type,
		Body:              rendered.Body,
		Content:           rendered.Content,
		ProviderMessageID: rendered.ProviderMessageID,
		Sent:              true,
	})
	if err != nil {
		return 0, err
	}
	if created.Duplicate {
		return duplicate, nil
	}
	return storedEcho, nil
}

// sending reports an outbound message of the conversation with body
// (or, for an echo of type media, any media message) that is still
// queued: Switchboard's own send, whose echo came before
// the drainer recorded its mid. Echoes that carry no app id (Instagram's
// may not) are told apart from Switchboard's sends this way; storing one
// would take the mid the drainer is about to record, and the send would
// go out again.
func (h *Handler) sending(ctx context.Context, in store.Inbox, convID int64, typ store.MessageType, body string) (bool, error) {
	ms, err := h.opts.Store.ListMessages(ctx, in.WorkspaceID, convID, store.MessageFilter{Limit: store.MaxPageSize})
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Direction == store.DirectionOut && m.Status == store.DeliveryQueued && m.ProviderMessageID == "" &&
			(strings.TrimSpace(m.Body) == strings.TrimSpace(body) || (typ == store.TypeMedia && m.Type == store.TypeMedia)) {
			return true, nil
		}
	}
	return false, nil
}

// statusRank orders the statuses a receipt moves a sent message through;
// a failed message (0) is left so by connector.ApplyStatus.
var statusRank = map[store.DeliveryStatus]int{store.DeliverySent: 1, store.DeliveryDelivered: 2, store.DeliveryRead: 3}

// applyReceipt records a delivery or read and returns how many messages
// it moved. Listed mids (delivery) and the read mid (Instagram) are
// applied one by one; a watermark moves every sent outbound message of
// the customer's latest conversation stored before it, and a read mid
// every one stored up to that message.
func (h *Handler) applyReceipt(ctx context.Context, in store.Inbox, rc Receipt) (int, error) {
	n := 0
	apply := func(mid string, status store.DeliveryStatus) error {
		changed, err := connector.ApplyStatus(ctx, h.opts.Store, in, mid, status, "")
		if changed {
			n++
		}
		return err
	}
	switch {
	case rc.Delivery != nil:
		for _, mid := range rc.Delivery.Mids {
			if err := apply(mid, store.DeliveryDelivered); err != nil {
				return n, err
			}
		}
		if rc.Delivery.Watermark > 0 {
			wm := time.UnixMilli(rc.Delivery.Watermark)
			k, err := h.advanceByWatermark(ctx, in, rc.CustomerID, store.DeliveryDelivered, wm)
			n += k
			if err != nil {
				return n, err
			}
		}
	case rc.Read != nil && rc.Read.Mid != "":
		read, err := h.opts.Store.MessageByProviderID(ctx, in.WorkspaceID, in.ID, rc.Read.Mid)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil // read of a message Switchboard does not know
		}
		if err != nil {
			return 0, err
		}
		k, err := h.advance(ctx, in, read.ConversationID, store.DeliveryRead, func(m store.Message) bool { return m.ID <= read.ID })
		return k, err
	case rc.Read != nil:
		return h.advanceByWatermark(ctx, in, rc.CustomerID, store.DeliveryRead, time.UnixMilli(rc.Read.Watermark))
	}
	return n, nil
}

// advanceByWatermark moves the customer's latest conversation's sent
// messages stored up to watermark to status. The contact is found by its
// identity (and created when unknown, having then no conversation to
// move: the store has no look-up by identity alone).
func (h *Handler) advanceByWatermark(ctx context.Context, in store.Inbox, customerID string, status store.DeliveryStatus, watermark time.Time) (int, error) {
	contact, _, err := h.opts.Store.UpsertContact(ctx, in.WorkspaceID, h.identity(customerID), store.NewContact{})
	if err != nil {
		return 0, err
	}
	page, err := h.opts.Store.ListConversations(ctx, in.WorkspaceID, store.ConversationFilter{InboxID: in.ID, ContactID: contact.ID, Limit: 1})
	if err != nil || len(page.Conversations) == 0 {
		return 0, err
	}
	return h.advance(ctx, in, page.Conversations[0].ID, status, func(m store.Message) bool { return !m.CreatedAt.After(watermark) })
}

// advance walks a conversation's messages newest first and moves each
// outbound message with a mid (sent: a queued one has none yet) that
// covered accepts to status, stopping at the first covered one already
// there: receipts are monotonic, so those before it were moved by an
// earlier receipt.
func (h *Handler) advance(ctx context.Context, in store.Inbox, convID int64, status store.DeliveryStatus, covered func(store.Message) bool) (int, error) {
	n := 0
	var before int64
	for range receiptPages {
		ms, err := h.opts.Store.ListMessages(ctx, in.WorkspaceID, convID, store.MessageFilter{BeforeID: before, Limit: store.MaxPageSize})
		if err != nil || len(ms) == 0 {
			return n, err
		}
		for _, m := range ms {
			before = m.ID
			if m.Direction != store.DirectionOut || m.Type == store.TypeNote || m.ProviderMessageID == "" || !covered(m) {
				continue
			}
			if statusRank[m.Status] >= statusRank[status] {
				return n, nil
			}
			changed, err := connector.ApplyStatus(ctx, h.opts.Store, in, m.ProviderMessageID, status, "")
			if err != nil {
				return n, err
			}
			if changed {
				n++
			}
		}
	}
	return n, nil
}
