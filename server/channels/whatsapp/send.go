package whatsapp

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
	// GraphURL is the Graph API's base URL, DefaultGraphURL when empty
	// (tests point it at a fake).
	GraphURL string
	// GraphVersion is the API version in the path, DefaultGraphVersion
	// when empty.
	GraphVersion string
	// Client sends the requests; its own timeout is not relied on, the
	// caller's context bounds each send.
	Client *http.Client
	// Attachments reads media messages' uploads (server/media); nil
	// sends no media.
	Attachments connector.Attachments
}

// Sender sends outbound messages through the WhatsApp Cloud API: POST
// {GraphURL}/{version}/{phone_number_id}/messages with the inbox's access
// token. It is the outbox drainer's sender for WhatsApp inboxes.
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
	return &Sender{opts: opts}
}

// SendError is a send the Graph API or the inbox's configuration refused.
// Permanent ones (a 4xx other than throttling, a missing access token, a
// contact with no WhatsApp number) fail the message at once; the rest are
// retried.
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
	permanent bool
	err       error
}

// Error is what the agent sees on a failed message.
func (e *SendError) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("WhatsApp error %d: %s", e.Code, e.Message)
	case e.Status != 0:
		return fmt.Sprintf("WhatsApp API answered HTTP %d: %s", e.Status, e.Message)
	}
	return "WhatsApp send: " + e.Message
}

// Unwrap returns the transport error, if any.
func (e *SendError) Unwrap() error { return e.err }

// Permanent reports whether retrying cannot help; the outbox drainer
// fails the message at once.
func (e *SendError) Permanent() bool { return e.permanent }

func permanent(format string, args ...any) *SendError {
	return &SendError{Message: fmt.Sprintf(format, args...), permanent: true}
}

// retryableCodes are Meta error codes that mean "later" whatever the HTTP
// status: throttling (4, 80007, 130429, 131056), and temporary trouble on
// Meta's side (1, 2, 131000, 131016, 133004).
var retryableCodes = map[int]bool{1: true, 2: true, 4: true, 80007: true, 130429: true, 131000: true, 131016: true, 131056: true, 133004: true}

// sendRequest is the Cloud API's message object: a text or a template.
type sendRequest struct {
	MessagingProduct string           `json:"messaging_product"`
	RecipientType    string           `json:"recipient_type"`
	To               string           `json:"to"`
	Type             string           `json:"type"`
	Text             *textBody        `json:"text,omitempty"`
	Template         *templateRequest `json:"template,omitempty"`
	Image            *mediaObject     `json:"image,omitempty"`
	Video            *mediaObject     `json:"video,omitempty"`
	Audio            *mediaObject     `json:"audio,omitempty"`
	Document         *mediaObject     `json:"document,omitempty"`
}

type textBody struct {
	Body string `json:"body"`
}

// templateRequest is an approved template with its body parameters.
type templateRequest struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []templateComponent `json:"components,omitempty"`
}

type templateComponent struct {
	Type       string              `json:"type"`
	Parameters []templateParameter `json:"parameters"`
}

type templateParameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// storedTemplate is a template message's content as the API stores it.
type storedTemplate struct {
	Template *struct {
		Name       string   `json:"name"`
		Language   string   `json:"language"`
		Parameters []string `json:"parameters"`
	} `json:"template"`
}

// request builds the Cloud API request for m; up is a media message's
// uploaded attachment.
func request(to string, m store.Message, up *uploaded) (sendRequest, error) {
	req := sendRequest{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	switch m.Type {
	case store.TypeMedia:
		if up == nil {
			return sendRequest{}, permanent("the media message's attachment was not uploaded")
		}
		req.Type = up.kind
		switch up.kind {
		case "image":
			req.Image = up.object
		case "video":
			req.Video = up.object
		case "audio":
			req.Audio = up.object
		default:
			req.Document = up.object
		}
	case store.TypeText:
		req.Type, req.Text = "text", &textBody{Body: m.Body}
	case store.TypeTemplate:
		var st storedTemplate
		if err := json.Unmarshal(m.Content, &st); err != nil || st.Template == nil || st.Template.Name == "" || st.Template.Language == "" {
			return sendRequest{}, permanent("the template message has no template name and language")
		}
		t := &templateRequest{Name: st.Template.Name}
		t.Language.Code = st.Template.Language
		if len(st.Template.Parameters) > 0 {
			c := templateComponent{Type: "body"}
			for _, p := range st.Template.Parameters {
				c.Parameters = append(c.Parameters, templateParameter{Type: "text", Text: p})
			}
			t.Components = []templateComponent{c}
		}
		req.Type, req.Template = "template", t
	default:
		return sendRequest{}, permanent("%s messages cannot be sent to WhatsApp", m.Type)
	}
	return req, nil
}

type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

type graphError struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
		ErrorData *struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
}

// Send sends m (a text, an approved template or an agent's attachment)
// and returns WhatsApp's message id (wamid...) for it. The
// error is a *SendError when the send was refused or did not get through.
func (s *Sender) Send(ctx context.Context, m store.Message) (string, error) {
	in, err := s.opts.Store.Inbox(ctx, m.WorkspaceID, m.InboxID)
	if err != nil {
		return "", fmt.Errorf("whatsapp send: inbox: %w", err)
	}
	cfg, err := Open(s.opts.Box, in)
	switch {
	case errors.Is(err, ErrNotConfigured), errors.Is(err, ErrUnavailable):
		return "", permanent("%v", err)
	case err != nil:
		return "", permanent("inbox credentials cannot be read: %v", err)
	case cfg.AccessToken == "":
		return "", permanent("inbox has no access token configured (configure-whatsapp --access-token)")
	case cfg.PhoneNumberID == "":
		return "", permanent("inbox has no phone number id configured")
	}
	to, err := s.recipient(ctx, m)
	if err != nil {
		return "", err
	}
	var up *uploaded
	if m.Type == store.TypeMedia {
		if up, err = s.upload(ctx, cfg, m); err != nil {
			return "", err
		}
	}
	req, err := request(to, m, up)
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("whatsapp send: encode: %w", err)
	}
	u := s.opts.GraphURL + "/" + s.opts.GraphVersion + "/" + url.PathEscape(cfg.PhoneNumberID) + "/messages"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("whatsapp send: %w", err)
	}
	hr.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := s.opts.Client.Do(hr)
	if err != nil {
		// The token is in a header, never in the URL, so the error
		// carries no secret.
		return "", &SendError{Message: "request failed: " + err.Error(), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return "", &SendError{Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), err: err}
	}
	if resp.StatusCode/100 == 2 {
		var ok sendResponse
		if err := json.Unmarshal(raw, &ok); err != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
			// Accepted, but no id to track it by: sending again would
			// duplicate it, so the message is recorded as sent anyway.
			return "", nil
		}
		return ok.Messages[0].ID, nil
	}
	return "", classify(resp.StatusCode, raw)
}

// classify turns a non-2xx answer into a SendError: 429, 5xx and Meta's
// throttling or temporary codes are retried, any other 4xx is permanent.
func classify(status int, raw []byte) *SendError {
	e := &SendError{Status: status}
	var ge graphError
	if json.Unmarshal(raw, &ge) == nil && ge.Error != nil {
		e.Code, e.Subcode, e.FBTraceID = ge.Error.Code, ge.Error.Subcode, ge.Error.FBTraceID
		// "(#131030) Recipient phone number not in allowed list": the
		// code is shown once, by Error.
		e.Message = strings.TrimSpace(strings.TrimPrefix(ge.Error.Message, fmt.Sprintf("(#%d)", e.Code)))
		if ge.Error.ErrorData != nil {
			switch d := strings.TrimSpace(ge.Error.ErrorData.Details); {
			case d == "" || d == e.Message:
			case strings.HasPrefix(d, e.Message):
				e.Message = d
			default:
				e.Message += ": " + d
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	e.permanent = status >= 400 && status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout && !retryableCodes[e.Code]
	return e
}

// recipient is the contact's WhatsApp id: its whatsapp identity, else its
// phone number without the plus.
func (s *Sender) recipient(ctx context.Context, m store.Message) (string, error) {
	conv, err := s.opts.Store.Conversation(ctx, m.WorkspaceID, m.ConversationID)
	if err != nil {
		return "", fmt.Errorf("whatsapp send: conversation: %w", err)
	}
	c, err := s.opts.Store.Contact(ctx, m.WorkspaceID, conv.ContactID)
	if err != nil {
		return "", fmt.Errorf("whatsapp send: contact: %w", err)
	}
	for _, id := range c.Identities {
		if id.Channel == string(store.InboxWhatsApp) && id.ExternalID != "" {
			return strings.TrimPrefix(id.ExternalID, "+"), nil
		}
	}
	if p := strings.TrimPrefix(strings.TrimSpace(c.Phone), "+"); p != "" {
		return p, nil
	}
	return "", permanent("the contact has no WhatsApp number")
}
