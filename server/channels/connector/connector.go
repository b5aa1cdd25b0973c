// Package connector is what every channel connector shares: filing an
// inbound message in its contact's open conversation exactly once,
// applying a provider's delivery receipt, sealing an inbox's credentials,
// Meta's webhook signature, and the JSON answers of a webhook handler.
//
// A connector package (server/channels/whatsapp, …) owns its provider's
// wire format: it verifies and parses a webhook, maps each message to a
// Message here, and answers the provider only after File returned, so
// anything not yet durably stored is retried by the provider and dropped
// as a duplicate by its provider message id once it is.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Store is what filing messages and receipts needs of storage.
type Store interface {
	UpsertContact(ctx context.Context, workspaceID int64, id store.Identity, c store.NewContact) (store.Contact, bool, error)
	ListConversations(ctx context.Context, workspaceID int64, f store.ConversationFilter) (store.ConversationPage, error)
	CreateConversation(ctx context.Context, workspaceID int64, c store.NewConversation) (store.Conversation, store.Event, error)
	OpenConversation(ctx context.Context, workspaceID int64, c store.NewConversation) (store.Conversation, bool, error)
	CreateMessage(ctx context.Context, workspaceID int64, m store.NewMessage) (store.CreatedMessage, error)
	MessageByProviderID(ctx context.Context, workspaceID, inboxID int64, providerMessageID string) (store.Message, error)
	UpdateMessageStatus(ctx context.Context, workspaceID, messageID int64, status store.DeliveryStatus, errText string) (store.Message, store.Event, error)
	SetContactOptOut(ctx context.Context, workspaceID, contactID int64, c store.ConsentChange) (store.Contact, bool, error)
}

// Message is one inbound message of a provider, ready to file.
type Message struct {
	// Identity is the sender on the provider (a WhatsApp number without
	// "+", a page-scoped id, …); it finds or creates the contact.
	Identity store.Identity
	// Contact fills in a new contact; an existing one is not changed.
	Contact store.NewContact
	// Message is the message; ConversationID and Direction are set by
	// File, and ProviderMessageID must be set: it is what makes a
	// provider's retry a duplicate.
	Message store.NewMessage
}

// Filed is the outcome of File.
type Filed struct {
	// Duplicate reports a message already stored (a provider retry);
	// nothing was changed.
	Duplicate      bool
	ConversationID int64
	MessageID      int64
	ContactID      int64
}

// File stores one inbound message in its sender's latest unresolved
// conversation of the inbox, or in a new one. A text that is only an
// opt-out keyword (STOP, see OptOutKeyword) opts the contact out of
// outbound messages, and START opts them back in; the message itself is
// filed as usual, so agents see it. The change is made before the message
// is stored, so a provider's retry after a failure makes it too.
func File(ctx context.Context, st Store, in store.Inbox, m Message) (Filed, error) {
	if m.Message.ProviderMessageID == "" {
		return Filed{}, &store.ValidationError{Field: "provider_message_id", Message: "is required for an inbound message"}
	}
	// Checked first so that a retry of a message whose conversation was
	// resolved since does not open an empty new one; CreateMessage's own
	// dedup still settles two deliveries racing.
	if prev, err := st.MessageByProviderID(ctx, in.WorkspaceID, in.ID, m.Message.ProviderMessageID); err == nil {
		return Filed{Duplicate: true, ConversationID: prev.ConversationID, MessageID: prev.ID}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return Filed{}, err
	}
	contact, _, err := st.UpsertContact(ctx, in.WorkspaceID, m.Identity, m.Contact)
	if err != nil {
		return Filed{}, err
	}
	if m.Message.Type == "" || m.Message.Type == store.TypeText {
		if optOut, keyword, ok := OptOutKeyword(m.Message.Body); ok {
			if _, _, err := st.SetContactOptOut(ctx, in.WorkspaceID, contact.ID, store.ConsentChange{
				OptedOut: optOut, Channel: string(in.Kind), Source: keyword,
			}); err != nil {
				return Filed{}, err
			}
		}
	}
	conv, _, err := st.OpenConversation(ctx, in.WorkspaceID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
	if err != nil {
		return Filed{}, err
	}
	convID := conv.ID
	nm := m.Message
	nm.ConversationID = convID
	nm.Direction = store.DirectionIn
	created, err := st.CreateMessage(ctx, in.WorkspaceID, nm)
	if err != nil {
		return Filed{}, err
	}
	return Filed{Duplicate: created.Duplicate, ConversationID: convID, MessageID: created.Message.ID, ContactID: contact.ID}, nil
}

// statusRank orders delivery statuses so a late "delivered" never undoes
// "read"; failed is final.
var statusRank = map[store.DeliveryStatus]int{
	store.DeliveryQueued: 1, store.DeliverySent: 2, store.DeliveryDelivered: 3, store.DeliveryRead: 4,
}

// ApplyStatus records a provider's delivery receipt on the message of the
// inbox it is for, and reports whether anything changed. A receipt for a
// message this inbox did not send (sent from another tool on the same
// account), of a status not tracked, or older than what is recorded,
// changes nothing; errText is kept with a failure.
func ApplyStatus(ctx context.Context, st Store, in store.Inbox, providerMessageID string, status store.DeliveryStatus, errText string) (bool, error) {
	if _, known := statusRank[status]; !known && status != store.DeliveryFailed {
		return false, nil
	}
	m, err := st.MessageByProviderID(ctx, in.WorkspaceID, in.ID, providerMessageID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if status == store.DeliveryFailed {
		if m.Status == store.DeliveryFailed && m.Error == errText {
			return false, nil
		}
	} else if m.Status == store.DeliveryFailed || statusRank[status] <= statusRank[m.Status] {
		return false, nil
	}
	if _, _, err := st.UpdateMessageStatus(ctx, in.WorkspaceID, m.ID, status, errText); err != nil {
		return false, err
	}
	return true, nil
}

// ReadBody reads a webhook body of at most max bytes, or answers 413 or
// 400 itself and returns ok false.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) (body []byte, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", max))
			return nil, false
		}
		WriteError(w, http.StatusBadRequest, "bad_request", "cannot read body")
		return nil, false
	}
	return body, true
}

// ErrorBody is the JSON of an error answer, the same shape as the REST
// API's: {"error":{"code":…,"message":…}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// WriteError answers status with an ErrorBody.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, message
	WriteJSON(w, status, b)
}

// WriteJSON answers status with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Clean makes provider text storable: NUL bytes replaced, and cut to
// store.MaxBodyBytes without splitting a rune.
func Clean(s string) string {
	s = strings.ReplaceAll(s, "\x00", "\ufffd")
	return TruncateUTF8(s, store.MaxBodyBytes)
}

// TruncateUTF8 cuts s to at most n bytes without splitting a rune.
func TruncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
