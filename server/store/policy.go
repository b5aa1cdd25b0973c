package store

import (
	"errors"
	"fmt"
	"time"
)

// Messaging windows. WhatsApp lets a business write freely only within
// 24 hours of the customer's last message (outside it, only approved
// templates); Messenger and Instagram allow 24 hours, extended to 7 days
// for replies by a human agent (the HUMAN_AGENT tag), which is what an
// inbox reply is. SMS and the API channel have no window.
const (
	WhatsAppWindow   = 24 * time.Hour
	HumanAgentWindow = 7 * 24 * time.Hour
)

// MessagingWindow is how long after the contact's last message an inbox
// of kind may send free-form messages; zero means no window.
func MessagingWindow(kind InboxKind) time.Duration {
	switch kind {
	case InboxWhatsApp:
		return WhatsAppWindow
	case InboxMessenger, InboxInstagram:
		return HumanAgentWindow
	}
	return 0
}

// ErrPolicy is wrapped by every *PolicyError.
var ErrPolicy = errors.New("store: refused by channel policy")

// The codes of a PolicyError.
const (
	// CodeOutsideWindow: the channel's messaging window is closed; on
	// WhatsApp a template may still be sent.
	CodeOutsideWindow = "outside_messaging_window"
	// CodeOptedOut: the contact opted out of messages.
	CodeOptedOut = "contact_opted_out"
	// CodeUnsupported: the channel cannot carry this type of message
	// (a template anywhere but WhatsApp).
	CodeUnsupported = "unsupported_message_type"
	// CodeTooManyAttachments: the channel carries fewer attachments in
	// one message (MaxOutboundAttachments).
	CodeTooManyAttachments = "too_many_attachments"
)

// MaxOutboundAttachments is how many attachments one outbound message may
// carry through an inbox of kind: WhatsApp, Messenger and Instagram send
// one file per message; an MMS carries up to 10 (Twilio's MediaUrl
// limit), and so does the API channel's webhook.
func MaxOutboundAttachments(kind InboxKind) int {
	switch kind {
	case InboxSMS, InboxAPI:
		return 10
	}
	return 1
}

// CheckAttachments reports whether an outbound message with n attachments
// may go through an inbox of kind.
func CheckAttachments(kind InboxKind, n int) error {
	if max := MaxOutboundAttachments(kind); n > max {
		return &PolicyError{Code: CodeTooManyAttachments, Message: fmt.Sprintf(
			"%s sends at most %d attachment(s) in one message; send the others in messages of their own", kindTitle(kind), max)}
	}
	return nil
}

// PolicyError is an outbound message the channel's rules forbid, with a
// stable Code for clients and a Message an agent can act on. The API
// answers it with 422.
type PolicyError struct {
	Code    string
	Message string
}

// Error implements error.
func (e *PolicyError) Error() string { return "store: " + e.Code + ": " + e.Message }

// Unwrap lets errors.Is(err, ErrPolicy) hold.
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// CheckOutbound reports whether a message of type typ may be sent now to
// a contact through an inbox of kind: not when the contact opted out
// (optedOutAt set), and not outside the messaging window that runs from
// lastInbound (nil: the contact never wrote), except a template on
// WhatsApp.
func CheckOutbound(kind InboxKind, typ MessageType, optedOutAt, lastInbound *time.Time, now time.Time) error {
	if optedOutAt != nil {
		return &PolicyError{Code: CodeOptedOut, Message: fmt.Sprintf(
			"the contact opted out of messages on %s; they must write START (or opt in again) before anyone can message them",
			optedOutAt.UTC().Format("2006-01-02 15:04 UTC"))}
	}
	if typ == TypeTemplate && kind != InboxWhatsApp {
		return &PolicyError{Code: CodeUnsupported, Message: "message templates are a WhatsApp feature; " + kindTitle(kind) + " inboxes send text"}
	}
	window := MessagingWindow(kind)
	if window == 0 || (kind == InboxWhatsApp && typ == TypeTemplate) {
		return nil
	}
	if lastInbound != nil && now.Sub(*lastInbound) <= window {
		return nil
	}
	var msg string
	switch kind {
	case InboxWhatsApp:
		msg = "WhatsApp allows free-form replies only within 24 hours of the customer's last message; send an approved template instead"
	default:
		msg = fmt.Sprintf("%s allows replies only within 7 days of the customer's last message; wait for the customer to write again", kindTitle(kind))
	}
	if lastInbound == nil {
		msg += " (the customer has not written in this conversation)"
	}
	return &PolicyError{Code: CodeOutsideWindow, Message: msg}
}

func kindTitle(kind InboxKind) string {
	switch kind {
	case InboxMessenger:
		return "Messenger"
	case InboxInstagram:
		return "Instagram"
	case InboxSMS:
		return "SMS"
	case InboxAPI:
		return "API channel"
	}
	return string(kind)
}

// Consent kinds: what a ConsentRecord says changed. ai_off and ai_on
// record a contact's AI processing turned off and on again.
const (
	ConsentOptOut = "opt_out"
	ConsentOptIn  = "opt_in"
	ConsentAIOff  = "ai_off"
	ConsentAIOn   = "ai_on"
)

// ConsentChange is the input to SetContactOptOut.
type ConsentChange struct {
	// OptedOut is the new state: true stops outbound messages.
	OptedOut bool
	// Channel is where it happened: an inbox kind ("whatsapp", "sms"),
	// or "api" when an agent or integration changed it.
	Channel string
	// Source says how: the keyword the contact wrote ("STOP"), or
	// "agent:{id}".
	Source string
}

// ConsentRecord is one opt-out or opt-in of a contact, kept with the
// contact for its data export.
type ConsentRecord struct {
	ID        int64     `json:"id"`
	ContactID int64     `json:"contact_id"`
	Kind      string    `json:"kind"`
	Channel   string    `json:"channel"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}
