package apichannel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// EventMessageCreated is the event of a webhook carrying an agent's reply.
const EventMessageCreated = "message.created"

// Bounds of what a Sender reads of a receiver's answer.
const (
	maxResponseBytes = 64 << 10
	// maxExcerptBytes bounds the receiver's text kept with a refusal.
	maxExcerptBytes = 300
)

// SenderStore is what a Sender reads: the inbox's configuration and the
// recipient of the conversation.
type SenderStore interface {
	Inbox(ctx context.Context, workspaceID, inboxID int64) (store.Inbox, error)
	Conversation(ctx context.Context, workspaceID, conversationID int64) (store.Conversation, error)
	Contact(ctx context.Context, workspaceID, contactID int64) (store.Contact, error)
}

// SenderOptions configure a Sender.
type SenderOptions struct {
	Store SenderStore
	// Box opens inbox credentials.
	Box *secretbox.Box
	// Client sends the requests; the caller's context bounds each send.
	// The default follows no redirect: a receiver that moved must be
	// configured at its new URL, as a redirected POST may lose its body.
	Client *http.Client
	// Now stamps signatures; time.Now when nil.
	Now func() time.Time
	// Attachments makes the signed links a reply's attachments are sent
	// as (server/media); nil sends no media.
	Attachments connector.Attachments
}

// Sender posts outbound messages to an API inbox's webhook URL. It is the
// outbox drainer's sender for API inboxes.
type Sender struct {
	opts SenderOptions
}

// NewSender returns a Sender.
func NewSender(opts SenderOptions) *Sender {
	if opts.Client == nil {
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sender{opts: opts}
}

// SendError is a send the receiver or the inbox's configuration refused,
// or that did not get through. Permanent ones (a 4xx other than 408 and
// 429, a redirect, no webhook URL, a contact unknown to the source) fail
// the message at once; the rest are retried.
type SendError struct {
	// Status is the receiver's HTTP status, 0 when no answer came.
	Status int
	// Message says what went wrong; with a Status it is an excerpt of the
	// receiver's answer.
	Message   string
	permanent bool
	err       error
}

// Error is what the agent sees on a failed message.
func (e *SendError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("webhook answered HTTP %d: %s", e.Status, e.Message)
	}
	return "webhook: " + e.Message
}

// Unwrap returns the transport error, if any.
func (e *SendError) Unwrap() error { return e.err }

// Permanent reports whether retrying cannot help; the outbox drainer
// fails the message at once.
func (e *SendError) Permanent() bool { return e.permanent }

func permanent(format string, args ...any) *SendError {
	return &SendError{Message: fmt.Sprintf(format, args...), permanent: true}
}

// WebhookEvent is the JSON body of a webhook.
type WebhookEvent struct {
	Event          string         `json:"event"`
	InboxID        int64          `json:"inbox_id"`
	ConversationID int64          `json:"conversation_id"`
	Message        WebhookMessage `json:"message"`
	Contact        WebhookContact `json:"contact"`
}

// WebhookMessage is the reply a webhook carries.
type WebhookMessage struct {
	// ID is Switchboard's message id.
	ID        int64             `json:"id"`
	Text      string            `json:"text"`
	Type      store.MessageType `json:"type"`
	CreatedAt time.Time         `json:"created_at"`
	// Attachments are an agent's files, as links to this server that
	// work for a day (the shape of an inbound message's attachments).
	Attachments []Attachment `json:"attachments,omitempty"`
}

// WebhookContact is who the reply is for.
type WebhookContact struct {
	// ID is the source's own user id, as it gave it in contact.id.
	ID   string `json:"id"`
	Name string `json:"name"`
}

// IdempotencyKey is the Idempotency-Key of every attempt to deliver m.
func IdempotencyKey(m store.Message) string {
	return "switchboard-message-" + strconv.FormatInt(m.ID, 10)
}

// FallbackProviderID is the provider message id recorded for a reply
// whose receiver answered without an id of its own.
func FallbackProviderID(m store.Message) string {
	return "api-" + strconv.FormatInt(m.ID, 10)
}

// Send posts m to the inbox's webhook URL and returns the provider message
// id: the "id" of the receiver's JSON answer, else FallbackProviderID(m).
// The error is a *SendError when the send was refused or did not get
// through.
func (s *Sender) Send(ctx context.Context, m store.Message) (string, error) {
	if m.Type == store.TypeNote {
		return "", permanent("private notes are never sent")
	}
	in, err := s.opts.Store.Inbox(ctx, m.WorkspaceID, m.InboxID)
	if err != nil {
		return "", fmt.Errorf("api channel send: inbox: %w", err)
	}
	if in.Kind != store.InboxAPI {
		return "", permanent("inbox %d is a %s inbox, not an API inbox", in.ID, in.Kind)
	}
	cfg, err := Open(s.opts.Box, in)
	switch {
	case errors.Is(err, ErrNotConfigured), errors.Is(err, ErrUnavailable):
		return "", permanent("%v", err)
	case err != nil:
		return "", permanent("inbox credentials cannot be read: %v", err)
	case cfg.WebhookURL == "":
		return "", permanent("the API inbox has no webhook_url configured, so replies cannot be delivered; configure one")
	case cfg.WebhookSecret == "":
		return "", permanent("the API inbox has no webhook_secret configured")
	}
	contact, err := s.recipient(ctx, m)
	if err != nil {
		return "", err
	}
	var urls []string
	if len(m.Media) > 0 {
		if urls, err = connector.AttachmentURLs(s.opts.Attachments, m); err != nil {
			return "", permanent("%v", err)
		}
	}
	var attachments []Attachment
	for i, u := range urls {
		attachments = append(attachments, Attachment{URL: u, ContentType: m.Media[i].MimeType, Filename: m.Media[i].Filename})
	}
	body, err := json.Marshal(WebhookEvent{
		Event:          EventMessageCreated,
		InboxID:        m.InboxID,
		ConversationID: m.ConversationID,
		Message:        WebhookMessage{ID: m.ID, Text: m.Body, Type: m.Type, CreatedAt: m.CreatedAt.UTC(), Attachments: attachments},
		Contact:        contact,
	})
	if err != nil {
		return "", fmt.Errorf("api channel send: encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return "", permanent("webhook_url: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhook/1")
	req.Header.Set(IdempotencyKeyHeader, IdempotencyKey(m))
	req.Header.Set(SignatureHeader, Sign(cfg.WebhookSecret, s.opts.Now(), body))
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return "", transportError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode/100 == 2 {
		// Accepted: whatever the answer's body (even one cut short,
		// err), sending again would duplicate the reply.
		var ok struct {
			ID json.RawMessage `json:"id"`
		}
		var id string
		if json.Unmarshal(raw, &ok) == nil && json.Unmarshal(ok.ID, &id) == nil {
			id = strings.TrimSpace(id)
			if id != "" && len(id) <= 255 && !strings.ContainsRune(id, 0) {
				return id, nil
			}
		}
		return FallbackProviderID(m), nil
	}
	if err != nil {
		return "", &SendError{Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), err: err}
	}
	return "", classify(resp.StatusCode, raw)
}

// classify turns a non-2xx answer into a SendError: 408, 429 and 5xx are
// retried, anything else (another 4xx, a redirect) is permanent.
func classify(status int, raw []byte) *SendError {
	e := &SendError{Status: status, Message: excerpt(raw)}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	switch {
	case status >= 500, status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
	case status >= 300 && status < 400:
		e.permanent = true
		e.Message = "redirects are not followed; configure the final URL as webhook_url (" + e.Message + ")"
	default:
		e.permanent = true
	}
	return e
}

// excerpt is the start of a receiver's answer on one line, for the agent
// to read.
func excerpt(raw []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(raw[:min(len(raw), 4*maxExcerptBytes)]), "\ufffd")), " ")
	s = strings.ReplaceAll(s, "\x00", "\ufffd")
	if len(s) > maxExcerptBytes {
		return connector.TruncateUTF8(s, maxExcerptBytes) + "…"
	}
	return s
}

// transportError is a send that got no answer, retried. A *url.Error is
// unwrapped so that the webhook URL, whose query may hold a receiver's
// token, is not kept in the message's error.
func transportError(err error) *SendError {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	return &SendError{Message: "request failed: " + msg, err: err}
}

// recipient is the contact as the source knows it: its identity in this
// inbox.
func (s *Sender) recipient(ctx context.Context, m store.Message) (WebhookContact, error) {
	conv, err := s.opts.Store.Conversation(ctx, m.WorkspaceID, m.ConversationID)
	if err != nil {
		return WebhookContact{}, fmt.Errorf("api channel send: conversation: %w", err)
	}
	c, err := s.opts.Store.Contact(ctx, m.WorkspaceID, conv.ContactID)
	if err != nil {
		return WebhookContact{}, fmt.Errorf("api channel send: contact: %w", err)
	}
	channel := store.IdentityChannelForInbox(m.InboxID)
	for _, id := range c.Identities {
		if id.Channel == channel && id.ExternalID != "" {
			return WebhookContact{ID: id.ExternalID, Name: c.Name}, nil
		}
	}
	return WebhookContact{}, permanent("the contact has never written through this API inbox, so the source has no id for them")
}
