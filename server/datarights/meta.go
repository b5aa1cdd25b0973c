package datarights

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// The paths of Meta's data-deletion callback and of the public status
// page its answer links to. Both are served under /channels/ with the
// channel webhooks.
const (
	DeletionPath = "/channels/meta/{inbox_id}/data-deletion"
	StatusPath   = "/channels/meta/data-deletion/{code}"
)

// Limits of the callback.
const (
	// MaxSignedRequestBytes bounds the form body Meta posts.
	MaxSignedRequestBytes = 16 << 10
	// MaxSignedRequestAge is how old a signed_request's issued_at may be;
	// MaxClockSkew how far in the future. Outside, it is refused as
	// expired: a captured request cannot be replayed for ever.
	MaxSignedRequestAge = 24 * time.Hour
	MaxClockSkew        = 5 * time.Minute
)

// Failures of ParseSignedRequest. The callback answers ErrSignature with
// 401 and the others with 400.
var (
	ErrMalformed = errors.New("signed_request is not <signature>.<payload> in base64url with a JSON object payload")
	ErrAlgorithm = errors.New("signed_request algorithm is not HMAC-SHA256")
	ErrSignature = errors.New("signed_request signature does not match the app secret")
	ErrExpired   = errors.New("signed_request issued_at is too old or in the future")
	ErrNoUser    = errors.New("signed_request has no user_id")
)

// SignedRequest is the payload of a verified signed_request.
type SignedRequest struct {
	Algorithm string `json:"algorithm"`
	IssuedAt  int64  `json:"issued_at"`
	// UserID is the app-scoped id of the person asking for deletion.
	UserID string `json:"user_id"`
}

// ParseSignedRequest verifies Meta's signed_request,
// base64url(HMAC-SHA256(payload part, appSecret)) "." base64url(JSON),
// padded or not, and returns its payload. The signature is checked, in
// constant time, before the payload is decoded.
func ParseSignedRequest(signed, appSecret string, now time.Time) (SignedRequest, error) {
	sigPart, payloadPart, ok := strings.Cut(signed, ".")
	if !ok || sigPart == "" || payloadPart == "" || strings.Contains(payloadPart, ".") {
		return SignedRequest{}, ErrMalformed
	}
	sig, err := decodeB64URL(sigPart)
	if err != nil || len(sig) != sha256.Size {
		return SignedRequest{}, ErrMalformed
	}
	raw, err := decodeB64URL(payloadPart)
	if err != nil {
		return SignedRequest{}, ErrMalformed
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(payloadPart))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return SignedRequest{}, ErrSignature
	}
	var w struct {
		Algorithm string          `json:"algorithm"`
		IssuedAt  int64           `json:"issued_at"`
		UserID    json.RawMessage `json:"user_id"`
	}
	if err := json.Unmarshal(raw, &w); err != nil || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return SignedRequest{}, ErrMalformed
	}
	p := SignedRequest{Algorithm: w.Algorithm, IssuedAt: w.IssuedAt}
	// user_id is a string in Meta's payloads; a number is taken too.
	var n json.Number
	if err := json.Unmarshal(w.UserID, &p.UserID); err != nil {
		if err := json.Unmarshal(w.UserID, &n); err == nil {
			p.UserID = n.String()
		}
	}
	if !strings.EqualFold(p.Algorithm, "HMAC-SHA256") {
		return SignedRequest{}, ErrAlgorithm
	}
	at := time.Unix(p.IssuedAt, 0)
	if p.IssuedAt <= 0 || now.Sub(at) > MaxSignedRequestAge || at.Sub(now) > MaxClockSkew {
		return SignedRequest{}, ErrExpired
	}
	p.UserID = strings.TrimSpace(p.UserID)
	if p.UserID == "" || len(p.UserID) > 128 {
		return SignedRequest{}, ErrNoUser
	}
	return p, nil
}

// SignRequest returns a signed_request for p under appSecret, as Meta
// makes them (unpadded base64url), for tests and `switchboard simulate`.
func SignRequest(p SignedRequest, appSecret string) string {
	raw, _ := json.Marshal(p)
	payload := base64.RawURLEncoding.EncodeToString(raw)
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) + "." + payload
}

func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// MetaChannels are the identity channels a Meta user id is looked up on.
var MetaChannels = []string{string(store.InboxMessenger), string(store.InboxInstagram), string(store.InboxWhatsApp)}

// InboxFinder finds a callback's inbox by id alone (store.Store).
type InboxFinder interface {
	WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error)
}

// CallbackStore is what the callback and the status page need from
// storage.
type CallbackStore interface {
	InboxFinder
	ContactsByIdentity(ctx context.Context, workspaceID int64, channels []string, externalID string) ([]int64, error)
	ErasureRequestByCode(ctx context.Context, code string) (store.ErasureRequest, error)
}

// ErrNoAppSecret is what an AppSecret function returns for an inbox
// without Meta credentials configured (or a server without
// SWITCHBOARD_SECRET_KEY); the callback answers 503.
var ErrNoAppSecret = errors.New("the inbox has no Meta app secret configured")

// CallbackOptions configures the callback handler.
type CallbackOptions struct {
	// Store and Service are required.
	Store   CallbackStore
	Service *Service
	// AppSecret opens the Meta app secret of a WhatsApp, Messenger or
	// Instagram inbox (wired to the connectors' credentials).
	AppSecret func(store.Inbox) (string, error)
	// PublicURL is the server's base URL as people reach it, for the
	// status URL; when empty it is taken from the request (and, with
	// TrustProxy, X-Forwarded-Proto and X-Forwarded-Host).
	PublicURL  string
	TrustProxy bool
	Logger     *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// callback serves the data-deletion callback and the status page.
type callback struct {
	opts CallbackOptions
	log  *slog.Logger
}

// NewCallback returns the handler of DeletionPath and StatusPath; mount
// it at "/channels/meta/".
func NewCallback(opts CallbackOptions) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &callback{opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+DeletionPath, h.deletion)
	mux.HandleFunc("GET "+StatusPath, h.status)
	mux.HandleFunc("/channels/meta/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return mux
}

// callbackReply is the answer Meta documents for the callback.
type callbackReply struct {
	URL              string `json:"url"`
	ConfirmationCode string `json:"confirmation_code"`
}

// deletion serves POST DeletionPath: Meta's form post with
// signed_request. A verified request erases (through a pending erasure
// request) every contact of the inbox's workspace whose Messenger,
// Instagram or WhatsApp identity is the user id, none if there is none,
// and answers {"url","confirmation_code"}. Nothing is erased unless the
// signature checks.
func (h *callback) deletion(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("inbox_id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, "not_found", "no such Meta inbox")
		return
	}
	in, err := h.opts.Store.WebhookInbox(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !isMetaKind(in.Kind)) {
		writeError(w, http.StatusNotFound, "not_found", "no such Meta inbox")
		return
	}
	if err != nil {
		h.log.Error("datarights: load inbox", slog.Int64("inbox", id), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	secret, err := h.opts.AppSecret(in)
	if err != nil || secret == "" {
		if !errors.Is(err, ErrNoAppSecret) {
			h.log.Error("datarights: open app secret", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID), slog.Any("err", err))
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the inbox's Meta app secret cannot be read")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxSignedRequestBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("the body is larger than %d bytes", MaxSignedRequestBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid", "the body is not a form")
		return
	}
	signed := r.PostForm.Get("signed_request")
	if signed == "" {
		writeError(w, http.StatusBadRequest, "invalid", "signed_request is required")
		return
	}
	p, err := ParseSignedRequest(signed, secret, h.opts.Now())
	switch {
	case errors.Is(err, ErrSignature):
		h.log.Warn("datarights: data-deletion callback with a bad signature", slog.Int64("workspace", in.WorkspaceID), slog.Int64("inbox", in.ID))
		writeError(w, http.StatusUnauthorized, "bad_signature", err.Error())
		return
	case errors.Is(err, ErrExpired):
		writeError(w, http.StatusBadRequest, "expired", err.Error())
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	ids, err := h.opts.Store.ContactsByIdentity(r.Context(), in.WorkspaceID, MetaChannels, p.UserID)
	if err != nil {
		h.log.Error("datarights: find contacts", slog.Int64("workspace", in.WorkspaceID), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	if len(ids) > store.MaxErasureContacts {
		ids = ids[:store.MaxErasureContacts]
	}
	req, err := h.opts.Service.request(r.Context(), in.WorkspaceID, store.NewErasureRequest{Source: store.ErasureByMeta, ContactIDs: ids})
	if err != nil {
		h.log.Error("datarights: record erasure request", slog.Int64("workspace", in.WorkspaceID), slog.Any("err", err))
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	writeJSON(w, http.StatusOK, callbackReply{URL: h.statusURL(r, req.Code), ConfirmationCode: req.Code})
}

func isMetaKind(k store.InboxKind) bool {
	return k == store.InboxMessenger || k == store.InboxInstagram || k == store.InboxWhatsApp
}

// statusURL is the absolute URL of code's status page.
func (h *callback) statusURL(r *http.Request, code string) string {
	base := strings.TrimRight(h.opts.PublicURL, "/")
	if base == "" {
		scheme, host := "http", r.Host
		if r.TLS != nil {
			scheme = "https"
		}
		if h.opts.TrustProxy {
			if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
				scheme = p
			}
			if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
				host = fh
			}
		}
		base = scheme + "://" + host
	}
	return base + strings.Replace(StatusPath, "{code}", url.PathEscape(code), 1)
}

// codePattern is what NewErasureCode makes; anything else is not looked
// up.
var codePattern = regexp.MustCompile(`^[A-Z2-7]{20}$`)

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Data deletion request {{.Code}}</title>
<style>
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2230; background: #f4f5f8; margin: 0; }
main { max-width: 34rem; margin: 3rem auto; padding: 1.5rem 2rem; background: #fff; border: 1px solid #e1e4ea; border-radius: 12px; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1rem; margin: 0 0 1rem; }
dt { color: #5c6170; }
dd { margin: 0; }
#status { font-weight: 600; }
@media (prefers-color-scheme: dark) {
  body { color: #e6e8ee; background: #14171d; }
  main { background: #1c2028; border-color: #2c313b; }
  dt { color: #a0a6b4; }
}
</style>
</head>
<body>
<main>
<h1>Data deletion request</h1>
{{if .Found}}
<dl>
<dt>Confirmation code</dt><dd><code>{{.Code}}</code></dd>
<dt>Status</dt><dd id="status">{{.Status}}</dd>
<dt>Received</dt><dd><time datetime="{{.RequestedAt}}">{{.RequestedAt}}</time></dd>
{{if .CompletedAt}}<dt>Completed</dt><dd><time datetime="{{.CompletedAt}}">{{.CompletedAt}}</time></dd>{{end}}
</dl>
<p>{{.Explanation}}</p>
{{else}}
<p>There is no data deletion request with this confirmation code.</p>
{{end}}
</main>
</body>
</html>
`))

// statusView is what the status page shows: nothing personal.
type statusView struct {
	Found       bool
	Code        string
	Status      string
	RequestedAt string
	CompletedAt string
	Explanation string
}

// status serves GET StatusPath: the request's status and dates, no
// authentication, nothing personal; 404 for an unknown code.
func (h *callback) status(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !codePattern.MatchString(code) {
		w.WriteHeader(http.StatusNotFound)
		h.render(w, statusView{})
		return
	}
	req, err := h.opts.Store.ErasureRequestByCode(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		h.render(w, statusView{})
		return
	}
	if err != nil {
		h.log.Error("datarights: status page", slog.Any("err", err))
		w.WriteHeader(http.StatusInternalServerError)
		h.render(w, statusView{})
		return
	}
	v := statusView{Found: true, Code: req.Code, Status: string(req.Status), RequestedAt: req.RequestedAt.Format(time.RFC3339)}
	if req.CompletedAt != nil {
		v.CompletedAt = req.CompletedAt.Format(time.RFC3339)
	}
	switch req.Status {
	case store.ErasureCompleted:
		v.Explanation = "Your data has been deleted: your messages, media, contact details and identities are gone from this service."
	case store.ErasureFailed:
		v.Explanation = "The deletion could not be completed automatically; the service's administrators have been told and will complete it."
	default:
		v.Explanation = "Your request was received and the deletion is in progress."
	}
	h.render(w, v)
}

func (h *callback) render(w http.ResponseWriter, v statusView) {
	if err := statusPage.Execute(w, v); err != nil {
		h.log.Warn("datarights: render status page", slog.Any("err", err))
	}
}

// errorBody is the callback's JSON error, shaped like the API's.
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
