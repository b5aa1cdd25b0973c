package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// DefaultAPIBase is Twilio's REST API.
const DefaultAPIBase = "https://api.twilio.com"

// maxResponseBytes bounds what is read of a Twilio API answer.
const maxResponseBytes = 64 << 10

// SenderStore is what a Sender reads: the inbox's credentials and the
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
	// APIBase is Twilio's REST API base URL, DefaultAPIBase when empty
	// (tests point it at a fake).
	APIBase string
	// PublicURL is the server's base URL as Twilio reaches it
	// (SWITCHBOARD_PUBLIC_URL); when set, each message asks Twilio for
	// status callbacks at PublicURL/channels/sms/{inbox_id}/status.
	PublicURL string
	// Client sends the requests; the caller's context bounds each send.
	Client *http.Client
	// Attachments makes the signed public links Twilio fetches an MMS's
	// media from (server/media); nil sends no media.
	Attachments connector.Attachments
}

// Sender sends outbound messages through Twilio's Messages API: POST
// {APIBase}/2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP
// basic auth. It is the outbox drainer's sender for SMS inboxes.
type Sender struct {
	opts SenderOptions
}

// NewSender returns a Sender.
func NewSender(opts SenderOptions) *Sender {
	if opts.APIBase == "" {
		opts.APIBase = DefaultAPIBase
	}
	opts.APIBase = strings.TrimRight(opts.APIBase, "/")
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	return &Sender{opts: opts}
}

// SendError is a send Twilio or the inbox's configuration refused.
// Permanent ones (a 4xx other than throttling, a contact without a
// number) fail the message at once; the rest are retried.
type SendError struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Code and Message are Twilio's error code and message, and MoreInfo
	// its documentation link, when it sent them.
	Code      int
	Message   string
	MoreInfo  string
	permanent bool
	err       error
}

// Error is what the agent sees on a failed message.
func (e *SendError) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("Twilio error %d: %s", e.Code, e.Message)
	case e.Status != 0:
		return fmt.Sprintf("Twilio API answered HTTP %d: %s", e.Status, e.Message)
	}
	return "Twilio send: " + e.Message
}

// Unwrap returns the transport error, if any.
func (e *SendError) Unwrap() error { return e.err }

// Permanent reports whether retrying cannot help; the outbox drainer
// fails the message at once.
func (e *SendError) Permanent() bool { return e.permanent }

func permanent(format string, args ...any) *SendError {
	return &SendError{Message: fmt.Sprintf(format, args...), permanent: true}
}

// messageResource is the part of Twilio's Message resource a send reads.
type messageResource struct {
	SID          string `json:"sid"`
	Status       string `json:"status"`
	ErrorCode    *int   `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

// apiError is Twilio's error answer.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Send sends m and returns Twilio's message SID for it. The error is a
// *SendError when the send was refused or did not get through.
func (s *Sender) Send(ctx context.Context, m store.Message) (string, error) {
	if m.Type != store.TypeText && m.Type != store.TypeMedia {
		return "", permanent("%s messages cannot be sent by SMS", m.Type)
	}
	// An MMS's media are links Twilio fetches (MediaUrl, up to 10).
	var mediaURLs []string
	if m.Type == store.TypeMedia {
		var err error
		if mediaURLs, err = connector.AttachmentURLs(s.opts.Attachments, m); err != nil {
			return "", permanent("%v", err)
		}
	}
	in, err := s.opts.Store.Inbox(ctx, m.WorkspaceID, m.InboxID)
	if err != nil {
		return "", fmt.Errorf("twilio send: inbox: %w", err)
	}
	cfg, err := Open(s.opts.Box, in)
	switch {
	case errors.Is(err, ErrNotConfigured), errors.Is(err, ErrUnavailable):
		return "", permanent("%v", err)
	case err != nil:
		return "", permanent("inbox credentials cannot be read: %v", err)
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return "", permanent("inbox has no Twilio account configured")
	case cfg.PhoneNumber == "" && cfg.MessagingServiceSID == "":
		return "", permanent("inbox has neither a phone number nor a messaging service to send from")
	}
	to, err := s.recipient(ctx, m)
	if err != nil {
		return "", err
	}
	form := url.Values{"To": {to}}
	if m.Body != "" || len(mediaURLs) == 0 {
		form.Set("Body", m.Body)
	}
	for _, u := range mediaURLs {
		form.Add("MediaUrl", u)
	}
	if cfg.PhoneNumber != "" {
		form.Set("From", cfg.PhoneNumber)
	}
	if cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", cfg.MessagingServiceSID)
	}
	if s.opts.PublicURL != "" {
		form.Set("StatusCallback", s.opts.PublicURL+strings.Replace(StatusPath, "{inbox_id}", strconv.FormatInt(in.ID, 10), 1))
	}
	u := s.opts.APIBase + "/2010-04-01/Accounts/" + url.PathEscape(cfg.AccountSID) + "/Messages.json"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("twilio send: %w", err)
	}
	user, pass := cfg.AccountSID, cfg.AuthToken
	if cfg.APIKeySID != "" {
		user, pass = cfg.APIKeySID, cfg.APIKeySecret
	}
	hr.SetBasicAuth(user, pass)
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hr.Header.Set("Accept", "application/json")
	resp, err := s.opts.Client.Do(hr)
	if err != nil {
		// The credentials are in a header, never in the URL, so the
		// error carries no secret.
		return "", &SendError{Message: "request failed: " + err.Error(), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", &SendError{Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), err: err}
	}
	if resp.StatusCode/100 != 2 {
		return "", classify(resp.StatusCode, raw)
	}
	var msg messageResource
	if err := json.Unmarshal(raw, &msg); err != nil || msg.SID == "" {
		// Accepted, but no SID to track it by: sending again would
		// duplicate it, so the message is recorded as sent anyway.
		return "", nil
	}
	if (msg.Status == "failed" || msg.Status == "undelivered") && msg.ErrorCode != nil {
		return "", &SendError{Status: resp.StatusCode, Code: *msg.ErrorCode, Message: msg.ErrorMessage, permanent: true}
	}
	return msg.SID, nil
}

// classify turns a non-2xx answer into a SendError: 408, 429 and 5xx are
// retried, any other 4xx is permanent with Twilio's code and message.
func classify(status int, raw []byte) *SendError {
	e := &SendError{Status: status}
	var ae apiError
	if json.Unmarshal(raw, &ae) == nil {
		e.Code, e.Message, e.MoreInfo = ae.Code, strings.TrimSpace(ae.Message), ae.MoreInfo
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.permanent = status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout
	return e
}

// recipient is the contact's number: its sms identity, else its phone.
func (s *Sender) recipient(ctx context.Context, m store.Message) (string, error) {
	conv, err := s.opts.Store.Conversation(ctx, m.WorkspaceID, m.ConversationID)
	if err != nil {
		return "", fmt.Errorf("twilio send: conversation: %w", err)
	}
	c, err := s.opts.Store.Contact(ctx, m.WorkspaceID, conv.ContactID)
	if err != nil {
		return "", fmt.Errorf("twilio send: contact: %w", err)
	}
	for _, id := range c.Identities {
		if id.Channel == string(store.InboxSMS) && id.ExternalID != "" {
			return id.ExternalID, nil
		}
	}
	if p := strings.TrimSpace(c.Phone); IsE164(p) {
		return p, nil
	}
	return "", permanent("the contact has no phone number in E.164 form (+14155550100) to text")
}
