// Package twilio is the Twilio SMS/MMS connector for inboxes of kind sms.
// Its inbound half takes Twilio's incoming-message webhook and status
// callbacks (application/x-www-form-urlencoded), checks X-Twilio-Signature
// over the URL Twilio requested and the form's parameters, and stores the
// message or the delivery status before answering, so that Twilio retries
// anything not yet durably stored; duplicates from those retries are
// dropped by message SID. MMS media is queued for server/media to
// download with its message. Its outbound half, Sender, sends text replies through Twilio's
// Messages API for the outbox drainer (server/channels/outbox).
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Provider is the name dead letters and stored content of this connector
// carry.
const Provider = "twilio"

// Paths of an inbox's endpoints: Twilio's "a message comes in" webhook,
// and the status callback of the messages it sends.
const (
	WebhookPath = "/channels/sms/{inbox_id}/webhook"
	StatusPath  = "/channels/sms/{inbox_id}/status"
)

// DefaultMaxBodyBytes bounds a request body when Options leave it zero;
// Twilio's forms are a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// EmptyTwiML is the answer to a webhook Twilio delivered: a TwiML
// document that asks Twilio to do nothing more (no automatic reply).
const EmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// ResultHeader carries the Result of a delivery as JSON on the answer,
// for operators and the simulate command; Twilio reads only the status.
const ResultHeader = "X-Switchboard-Result"

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
	// every SMS inbox answer 503.
	Box    *secretbox.Box
	Logger *slog.Logger
	// OnCommit is told the workspace after a request changed it, so the
	// new events go live at once (inbox.Relay.Notify).
	OnCommit func(workspaceID int64)
	// MaxBodyBytes bounds a request body (413 beyond);
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// PublicURL is the server's base URL as Twilio reaches it
	// (SWITCHBOARD_PUBLIC_URL, such as https://inbox.example.com): the
	// signed URL is PublicURL followed by the request URI. When empty it
	// is rebuilt from the request's Host and TLS state.
	PublicURL string
	// TrustProxy takes the scheme and host of the signed URL from
	// X-Forwarded-Proto and X-Forwarded-Host when PublicURL is empty
	// (SWITCHBOARD_TRUST_PROXY).
	TrustProxy bool
}

// Handler serves POST /channels/sms/{inbox_id}/webhook and
// /channels/sms/{inbox_id}/status.
type Handler struct {
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux
}

// New returns the webhook handler.
func New(opts Options) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.mux.HandleFunc("POST "+WebhookPath, h.receive)
	h.mux.HandleFunc("POST "+StatusPath, h.status)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Result is what a delivery did, sent as JSON in ResultHeader.
type Result struct {
	Messages     int  `json:"messages"`
	Duplicates   int  `json:"duplicates"`
	Statuses     int  `json:"statuses"`
	DeadLettered bool `json:"dead_lettered"`
}

// request is an authenticated delivery.
type request struct {
	in   store.Inbox
	cfg  Config
	body []byte
	form url.Values
	log  *slog.Logger
}

// authenticate loads the path's inbox, reads the form and checks its
// signature, or answers the request itself and returns ok false.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (request, bool) {
	in, cfg, ok := connector.LoadInbox(w, r, h.opts.Store, store.InboxSMS, "SMS", h.log,
		func(in store.Inbox) (Config, error) { return Open(h.opts.Box, in) })
	if !ok {
		return request{}, false
	}
	log := h.log.With(slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
	body, ok := connector.ReadBody(w, r, h.opts.MaxBodyBytes)
	if !ok {
		return request{}, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		// Not a form, so nothing to check a signature against; not kept,
		// as it cannot be shown to come from Twilio.
		log.Warn("twilio webhook: body is not a form", slog.Any("err", err))
		connector.WriteError(w, http.StatusBadRequest, "bad_request", "body is not application/x-www-form-urlencoded")
		return request{}, false
	}
	signed := requestURL(r, h.opts.PublicURL, h.opts.TrustProxy)
	if err := Verify(cfg.AuthToken, signed, form, r.Header.Get(SignatureHeader)); err != nil {
		log.Warn("twilio webhook: bad signature", slog.String("url", signed), slog.Any("err", err))
		connector.WriteError(w, http.StatusUnauthorized, "bad_signature", err.Error())
		return request{}, false
	}
	return request{in: in, cfg: cfg, body: body, form: form, log: log}, true
}

// receive files the incoming message of Twilio's webhook.
func (h *Handler) receive(w http.ResponseWriter, r *http.Request) {
	req, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	var res Result
	msg, problems, err := Parse(req.form)
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case !strings.EqualFold(msg.AccountSID, req.cfg.AccountSID):
		problems = append(problems, fmt.Sprintf("message %s: for account %.40q, not this inbox's", msg.MessageSID, msg.AccountSID))
	case h.otherNumber(req.cfg, msg):
		problems = append(problems, fmt.Sprintf("message %s: to %.40q (messaging service %.40q), not this inbox's number", msg.MessageSID, msg.To, msg.MessagingServiceSID))
	default:
		dup, err := h.file(ctx, req.in, msg)
		var verr *store.ValidationError
		switch {
		case errors.As(err, &verr) || errors.Is(err, errEmpty):
			problems = append(problems, fmt.Sprintf("message %s: %v", msg.MessageSID, err))
		case err != nil:
			req.log.Error("twilio webhook: store message; asking Twilio to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		case dup:
			res.Duplicates++
		default:
			res.Messages++
			h.committed(req.in.WorkspaceID)
		}
	}
	if !h.deadLetter(ctx, w, req, problems, &res) {
		return
	}
	writeTwiML(w, res)
}

// otherNumber reports a message for another number than the inbox's. It
// is the inbox's when it is to the inbox's phone number, or came through
// the inbox's messaging service (any number of its sender pool); an inbox
// known only by its service also takes messages naming no service.
func (h *Handler) otherNumber(cfg Config, m Inbound) bool {
	if cfg.PhoneNumber != "" && m.To == cfg.PhoneNumber {
		return false
	}
	if cfg.MessagingServiceSID != "" {
		if m.MessagingServiceSID == "" {
			return cfg.PhoneNumber != ""
		}
		return !strings.EqualFold(m.MessagingServiceSID, cfg.MessagingServiceSID)
	}
	return true
}

// file stores one incoming message; dup reports a message already stored
// (a Twilio retry).
func (h *Handler) file(ctx context.Context, in store.Inbox, m Inbound) (dup bool, err error) {
	rendered, err := Render(m)
	if err != nil {
		return false, err
	}
	contact := store.NewContact{}
	if IsE164(m.From) {
		contact.Phone = m.From
	}
	filed, err := connector.File(ctx, h.opts.Store, in, connector.Message{
		Identity: store.Identity{Channel: string(store.InboxSMS), ExternalID: m.From},
		Contact:  contact,
		Message: store.NewMessage{
			Type:              rendered.Type,
			Body:              rendered.Body,
			Content:           rendered.Content,
			ProviderMessageID: m.MessageSID,
			Media:             rendered.Media,
		},
	})
	return filed.Duplicate, err
}

// status applies a status callback to the message it is for.
func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	req, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	var res Result
	var problems []string
	s, err := ParseStatus(req.form)
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case s.AccountSID != "" && !strings.EqualFold(s.AccountSID, req.cfg.AccountSID):
		// A status for another account's message is not ours to keep.
		req.log.Warn("twilio status: for another account, ignored", slog.String("account_sid", s.AccountSID))
	default:
		status, errText, tracked := MapStatus(s)
		if !tracked {
			break
		}
		applied, err := connector.ApplyStatus(ctx, h.opts.Store, req.in, s.MessageSID, status, errText)
		var verr *store.ValidationError
		switch {
		case errors.As(err, &verr):
			problems = append(problems, fmt.Sprintf("status of %s: %v", s.MessageSID, err))
		case err != nil:
			req.log.Error("twilio status: store status; asking Twilio to retry", slog.Any("err", err))
			connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
			return
		case applied:
			res.Statuses++
			h.committed(req.in.WorkspaceID)
		}
	}
	if !h.deadLetter(ctx, w, req, problems, &res) {
		return
	}
	writeTwiML(w, res)
}

// MapStatus maps a Twilio message status to the inbox's delivery status,
// with the error an agent sees on a failure; tracked is false for a
// status the inbox does not follow (receiving, received, an unknown one).
func MapStatus(s StatusUpdate) (status store.DeliveryStatus, errText string, tracked bool) {
	switch s.Status {
	case "accepted", "scheduled", "queued", "sending":
		return store.DeliveryQueued, "", true
	case "sent":
		return store.DeliverySent, "", true
	case "delivered", "partially_delivered":
		return store.DeliveryDelivered, "", true
	case "read":
		return store.DeliveryRead, "", true
	case "undelivered", "failed":
		return store.DeliveryFailed, failureText(s), true
	case "canceled":
		return store.DeliveryFailed, "Twilio: the message was canceled before it was sent", true
	}
	return "", "", false
}

// knownErrors name the delivery errors Twilio reports most, for status
// callbacks that carry only the code.
var knownErrors = map[string]string{
	"30001": "Queue overflow",
	"30002": "Account suspended",
	"30003": "Unreachable destination handset",
	"30004": "Message blocked",
	"30005": "Unknown destination handset",
	"30006": "Landline or unreachable carrier",
	"30007": "Message filtered by the carrier",
	"30008": "Unknown error",
	"21610": "Attempt to send to unsubscribed recipient",
}

// failureText is what an agent sees on a message Twilio could not deliver:
// "Twilio error 30003: Unreachable destination handset".
func failureText(s StatusUpdate) string {
	msg := s.ErrorMessage
	if msg == "" {
		msg = knownErrors[s.ErrorCode]
	}
	switch {
	case s.ErrorCode != "" && msg != "":
		return connector.TruncateUTF8(fmt.Sprintf("Twilio error %s: %s", s.ErrorCode, msg), 1024)
	case s.ErrorCode != "":
		return connector.TruncateUTF8("Twilio error "+s.ErrorCode, 1024)
	case msg != "":
		return connector.TruncateUTF8("Twilio: "+msg, 1024)
	}
	return "Twilio: message " + s.Status
}

// deadLetter keeps the raw body with the problems, if there are any, and
// reports whether the request may be answered 200; on a store error it
// has answered 500 itself.
func (h *Handler) deadLetter(ctx context.Context, w http.ResponseWriter, req request, problems []string, res *Result) bool {
	if len(problems) == 0 {
		return true
	}
	_, err := h.opts.Store.CreateDeadLetter(ctx, req.in.WorkspaceID, store.NewDeadLetter{
		InboxID: req.in.ID, Provider: Provider, Body: req.body, Error: strings.Join(problems, "\n"),
	})
	if err != nil {
		req.log.Error("twilio webhook: keep dead letter; asking Twilio to retry", slog.Any("err", err))
		connector.WriteError(w, http.StatusInternalServerError, "internal", "internal error")
		return false
	}
	res.DeadLettered = true
	req.log.Warn("twilio webhook: request kept as a dead letter", slog.Int("problems", len(problems)), slog.String("first", connector.TruncateUTF8(problems[0], 200)))
	return true
}

func (h *Handler) committed(workspaceID int64) {
	if h.opts.OnCommit != nil {
		h.opts.OnCommit(workspaceID)
	}
}

// writeTwiML answers 200 with EmptyTwiML and res in ResultHeader.
func writeTwiML(w http.ResponseWriter, res Result) {
	if b, err := json.Marshal(res); err == nil {
		w.Header().Set(ResultHeader, string(b))
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, EmptyTwiML)
}
