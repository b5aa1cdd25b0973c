package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Graph API defaults of a Sender.
const (
	DefaultGraphURL     = "https://graph.facebook.com"
	DefaultGraphVersion = "v23.0"
	// maxResponseBytes bounds what is read of a Graph API answer.
	maxResponseBytes = 64 << 10
)

// StandardWindow is Meta's standard messaging window, counted from the
// customer's last message: a reply within it goes out as a RESPONSE.
// Later, until store.HumanAgentWindow (7 days), it goes out with the
// HUMAN_AGENT tag, which is what a reply from the inbox is; later still,
// nothing can be sent until the customer writes again.
const StandardWindow = 24 * time.Hour

// SenderStore is what a Sender reads: the inbox's credentials, the
// conversation's window and its recipient.
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
	// GraphURL is the Graph API's base URL, DefaultGraphURL when empty
	// (tests point it at a fake).
	GraphURL string
	// GraphVersion is the API version in the path, DefaultGraphVersion
	// when empty.
	GraphVersion string
	// Client sends the requests; its own timeout is not relied on, the
	// caller's context bounds each send.
	Client *http.Client
	// Attachments makes the signed public links Meta fetches agents'
	// attachments from (server/media); nil sends no media.
	Attachments connector.Attachments
	// Now is the clock the messaging window is judged by; time.Now when
	// nil.
	Now func() time.Time
}

// Sender sends outbound messages of Messenger and Instagram inboxes
// through the Send API: POST {GraphURL}/{version}/{id}/messages with the
// inbox's page access token, id being the page's (Messenger, and
// Instagram through a linked page) or the Instagram account's. It is the
// outbox drainer's sender for both kinds.
type Sender struct {
	opts SenderOptions
}

// NewSender returns a Sender.
func NewSender(opts SenderOptions) *Sender {
	if opts.GraphURL == "" {
		opts.GraphURL = DefaultGraphURL
	}
	opts.GraphURL = strings.TrimRight(opts.GraphURL, "/")
	if opts.GraphVersion == "" {
		opts.GraphVersion = DefaultGraphVersion
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sender{opts: opts}
}

// SendError is a send the Send API or the inbox's configuration refused.
// Permanent ones (a 4xx other than throttling, a closed messaging window,
// a missing token, a contact with no id on the channel) fail the message
// at once; the rest are retried.
type SendError struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Code, Subcode and Message are Meta's error fields, when it sent
	// them.
	Code    int
	Subcode int
	Message string
	// FBTraceID is Meta's trace id, for their support.
	FBTraceID string
	name      string
	permanent bool
	err       error
}

// Error is what the agent sees on a failed message.
func (e *SendError) Error() string {
	switch {
	case e.Code != 0 && e.Subcode != 0:
		return fmt.Sprintf("%s error %d (subcode %d): %s", e.name, e.Code, e.Subcode, e.Message)
	case e.Code != 0:
		return fmt.Sprintf("%s error %d: %s", e.name, e.Code, e.Message)
	case e.Status != 0:
		return fmt.Sprintf("%s API answered HTTP %d: %s", e.name, e.Status, e.Message)
	}
	return e.name + " send: " + e.Message
}

// Unwrap returns the transport error, if any.
func (e *SendError) Unwrap() error { return e.err }

// Permanent reports whether retrying cannot help; the outbox drainer
// fails the message at once.
func (e *SendError) Permanent() bool { return e.permanent }

func permanent(name, format string, args ...any) *SendError {
	return &SendError{name: name, Message: fmt.Sprintf(format, args...), permanent: true}
}

// retryableCodes are Meta error codes that mean "later" whatever the HTTP
// status: temporary trouble (1, 2) and throttling (4 application, 17 user,
// 32 page, 613 rate limit).
var retryableCodes = map[int]bool{1: true, 2: true, 4: true, 17: true, 32: true, 613: true}

type sendRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string      `json:"messaging_type"`
	Tag           string      `json:"tag,omitempty"`
	Message       sendMessage `json:"message"`
}

// sendMessage is the Send API's message: a text or one attachment.
type sendMessage struct {
	Text       string      `json:"text,omitempty"`
	Attachment *attachment `json:"attachment,omitempty"`
}

// attachment is an attachment Meta fetches from a URL.
type attachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL        string `json:"url"`
		IsReusable bool   `json:"is_reusable"`
	} `json:"payload"`
}

// attachmentType is the Send API's attachment type for a MIME type.
func attachmentType(mimeType string) string {
	switch mt, _, _ := strings.Cut(strings.ToLower(mimeType), "/"); mt {
	case "image", "video", "audio":
		return mt
	}
	return "file"
}

type sendResponse struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

type graphError struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// Send sends m and returns Meta's message id (mid) for it. The error is
// a *SendError when the send was refused or did not get through.
func (s *Sender) Send(ctx context.Context, m store.Message) (string, error) {
	in, err := s.opts.Store.Inbox(ctx, m.WorkspaceID, m.InboxID)
	if err != nil {
		return "", fmt.Errorf("messenger send: inbox: %w", err)
	}
	name := displayName(in.Kind)
	if in.Kind != store.InboxMessenger && in.Kind != store.InboxInstagram {
		return "", permanent(name, "inbox %d is a %s inbox, not Messenger or Instagram", in.ID, in.Kind)
	}
	if m.Type != store.TypeText && m.Type != store.TypeMedia {
		return "", permanent(name, "%s messages cannot be sent to %s", m.Type, name)
	}
	// Meta fetches an attachment from a signed link to this server; the
	// message's text, if any, follows as a message of its own.
	if m.Type == store.TypeMedia && len(m.Media) == 0 {
		return "", permanent(name, "the media message has no attachment")
	}
	var urls []string
	if len(m.Media) > 0 {
		if urls, err = connector.AttachmentURLs(s.opts.Attachments, m); err != nil {
			return "", permanent(name, "%v", err)
		}
	}
	var parts []sendMessage
	for i, u := range urls {
		a := &attachment{Type: attachmentType(m.Media[i].MimeType)}
		a.Payload.URL = u
		parts = append(parts, sendMessage{Attachment: a})
	}
	if m.Body != "" || len(parts) == 0 {
		parts = append(parts, sendMessage{Text: m.Body})
	}
	cfg, err := Open(s.opts.Box, in)
	switch {
	case errors.Is(err, ErrNotConfigured), errors.Is(err, ErrUnavailable):
		return "", permanent(name, "%v", err)
	case err != nil:
		return "", permanent(name, "inbox credentials cannot be read: %v", err)
	case cfg.PageAccessToken == "":
		return "", permanent(name, "inbox has no page access token configured")
	}
	senderID := cfg.PageID
	if senderID == "" {
		senderID = cfg.InstagramAccountID
	}
	if senderID == "" {
		return "", permanent(name, "inbox has no page or Instagram account id configured")
	}
	conv, err := s.opts.Store.Conversation(ctx, m.WorkspaceID, m.ConversationID)
	if err != nil {
		return "", fmt.Errorf("messenger send: conversation: %w", err)
	}
	var req sendRequest
	switch {
	case conv.LastInboundAt == nil:
		return "", permanent(name, "the customer has not written in this conversation; Meta only allows replies to customers who wrote first")
	case s.opts.Now().Sub(*conv.LastInboundAt) <= StandardWindow:
		req.MessagingType = "RESPONSE"
	case s.opts.Now().Sub(*conv.LastInboundAt) <= store.HumanAgentWindow:
		req.MessagingType, req.Tag = "MESSAGE_TAG", "HUMAN_AGENT"
	default:
		return "", permanent(name, "the messaging window is closed: the customer last wrote %s, more than 7 days ago; Meta allows replies until they write again",
			conv.LastInboundAt.UTC().Format(time.RFC3339))
	}
	to, err := s.recipient(ctx, in.Kind, m.WorkspaceID, conv.ContactID)
	if err != nil {
		return "", err
	}
	req.Recipient.ID = to
	var mid string
	for _, part := range parts {
		req.Message = part
		if mid, err = s.post(ctx, name, senderID, cfg.PageAccessToken, req); err != nil {
			return "", err
		}
	}
	return mid, nil
}

// post sends one Send API request and returns Meta's mid for it.
func (s *Sender) post(ctx context.Context, name, senderID, token string, req sendRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("messenger send: encode: %w", err)
	}
	u := s.opts.GraphURL + "/" + s.opts.GraphVersion + "/" + url.PathEscape(senderID) + "/messages"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("messenger send: %w", err)
	}
	hr.Header.Set("Authorization", "Bearer "+token)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := s.opts.Client.Do(hr)
	if err != nil {
		// The token is in a header, never in the URL, so the error
		// carries no secret.
		return "", &SendError{name: name, Message: "request failed: " + err.Error(), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", &SendError{name: name, Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), err: err}
	}
	if resp.StatusCode/100 == 2 {
		var ok sendResponse
		if err := json.Unmarshal(raw, &ok); err != nil || ok.MessageID == "" {
			// Accepted, but no id to track it by: sending again would
			// duplicate it, so the message is recorded as sent anyway.
			return "", nil
		}
		return ok.MessageID, nil
	}
	return "", classify(name, resp.StatusCode, raw)
}

// classify turns a non-2xx answer into a SendError: 429, 5xx and Meta's
// throttling or temporary codes are retried, any other 4xx is permanent
// with Meta's message.
func classify(name string, status int, raw []byte) *SendError {
	e := &SendError{name: name, Status: status}
	var ge graphError
	if json.Unmarshal(raw, &ge) == nil && ge.Error != nil {
		e.Code, e.Subcode, e.FBTraceID = ge.Error.Code, ge.Error.Subcode, ge.Error.FBTraceID
		// "(#100) No matching user found": the code is shown once, by
		// Error.
		e.Message = strings.TrimSpace(strings.TrimPrefix(ge.Error.Message, fmt.Sprintf("(#%d)", e.Code)))
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.permanent = status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout && !retryableCodes[e.Code]
	return e
}

// recipient is the contact's id on the inbox's channel (PSID or IGSID).
func (s *Sender) recipient(ctx context.Context, kind store.InboxKind, workspaceID, contactID int64) (string, error) {
	c, err := s.opts.Store.Contact(ctx, workspaceID, contactID)
	if err != nil {
		return "", fmt.Errorf("messenger send: contact: %w", err)
	}
	for _, id := range c.Identities {
		if id.Channel == string(kind) && id.ExternalID != "" {
			return id.ExternalID, nil
		}
	}
	return "", permanent(displayName(kind), "the contact has no %s id", displayName(kind))
}
