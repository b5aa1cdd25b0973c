package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The shapes below follow Meta's documented "messages" webhook of the
// WhatsApp Cloud API: an envelope of entries, each with changes, each
// change's value carrying the receiving number's metadata, the senders'
// profiles, inbound messages and delivery statuses of outbound ones.

// ObjectWhatsApp is the object every WhatsApp Business webhook names.
const ObjectWhatsApp = "whatsapp_business_account"

// FieldMessages is the change field that carries messages and statuses;
// other fields (template reviews, account updates) are not for the inbox.
const FieldMessages = "messages"

// Payload is a webhook body.
type Payload struct {
	Object string  `json:"object"`
	Entry  []Entry `json:"entry"`
}

// Entry is one WhatsApp Business Account's share of a payload.
type Entry struct {
	ID      string   `json:"id"`
	Changes []Change `json:"changes"`
}

// Change is one batch of notifications for one phone number.
type Change struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
}

// Value holds a change's notifications.
type Value struct {
	MessagingProduct string    `json:"messaging_product"`
	Metadata         Metadata  `json:"metadata"`
	Contacts         []Contact `json:"contacts,omitempty"`
	// Messages are kept raw so each message can be stored whole in the
	// message's content; Message is their decoded form.
	Messages []json.RawMessage `json:"messages,omitempty"`
	Statuses []Status          `json:"statuses,omitempty"`
	Errors   []APIError        `json:"errors,omitempty"`
}

// Metadata names the business number a change is for.
type Metadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

// Contact is a sender's WhatsApp profile.
type Contact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID string `json:"wa_id"`
}

// Message is an inbound message.
type Message struct {
	From        string          `json:"from"`
	ID          string          `json:"id"`
	Timestamp   string          `json:"timestamp"`
	Type        string          `json:"type"`
	Text        *Text           `json:"text,omitempty"`
	Image       *Media          `json:"image,omitempty"`
	Audio       *Media          `json:"audio,omitempty"`
	Video       *Media          `json:"video,omitempty"`
	Document    *Media          `json:"document,omitempty"`
	Sticker     *Media          `json:"sticker,omitempty"`
	Location    *Location       `json:"location,omitempty"`
	Contacts    []SharedContact `json:"contacts,omitempty"`
	Interactive *Interactive    `json:"interactive,omitempty"`
	Button      *Button         `json:"button,omitempty"`
	Reaction    *Reaction       `json:"reaction,omitempty"`
	Context     *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context,omitempty"`
	Errors []APIError `json:"errors,omitempty"`
}

// Text is a text message's content.
type Text struct {
	Body string `json:"body"`
}

// Media describes an image, audio, video, document or sticker. The media
// itself is fetched from the Graph API by ID, by server/media.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
	Animated bool   `json:"animated,omitempty"`
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// SharedContact is a contact card sent in a message.
type SharedContact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id,omitempty"`
		Type  string `json:"type,omitempty"`
	} `json:"phones,omitempty"`
	Emails []struct {
		Email string `json:"email"`
	} `json:"emails,omitempty"`
}

// Interactive is the customer's answer to a reply button or list.
type Interactive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply,omitempty"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
	} `json:"list_reply,omitempty"`
}

// Button is a press of a template's quick-reply button.
type Button struct {
	Payload string `json:"payload"`
	Text    string `json:"text"`
}

// Reaction is an emoji reaction to a message; an empty emoji removes it.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// Status is a delivery receipt for a message the business sent.
type Status struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	Timestamp   string     `json:"timestamp"`
	RecipientID string     `json:"recipient_id"`
	Errors      []APIError `json:"errors,omitempty"`
}

// APIError is an error as the webhook reports it.
type APIError struct {
	Code      int    `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message,omitempty"`
	ErrorData *struct {
		Details string `json:"details"`
	} `json:"error_data,omitempty"`
}

// String renders the error for an agent: code, title and details.
func (e APIError) String() string {
	s := fmt.Sprintf("%d %s", e.Code, e.Title)
	detail := e.Message
	if e.ErrorData != nil && e.ErrorData.Details != "" {
		detail = e.ErrorData.Details
	}
	if detail != "" && detail != e.Title {
		s += ": " + detail
	}
	return s
}

// ErrNotWhatsApp is returned by Parse for a JSON body that is not a
// WhatsApp Business webhook.
var ErrNotWhatsApp = errors.New("whatsapp: not a whatsapp_business_account webhook")

// Inbound is one inbound message with what the inbox needs to file it.
type Inbound struct {
	PhoneNumberID string
	// WaID is the sender's WhatsApp id (their number, digits only) and
	// Name their profile name, "" when the payload has none.
	WaID    string
	Name    string
	Message Message
	// Raw is the message exactly as received, kept in the stored
	// message's content.
	Raw json.RawMessage
}

// Receipt is one delivery status with the number it is for.
type Receipt struct {
	PhoneNumberID string
	Status        Status
}

// Batch is everything a payload asks of the inbox, in payload order, plus
// what in it could not be understood.
type Batch struct {
	Messages []Inbound
	Receipts []Receipt
	// Problems describe the parts skipped as malformed; the handler keeps
	// the raw payload as a dead letter when there are any.
	Problems []string
}

// Parse decodes a webhook body, walking every entry, change, message and
// status. A body that is not JSON or not a WhatsApp webhook is an error;
// a malformed part of an otherwise good body is a Problem, so the good
// parts are still delivered.
func Parse(body []byte) (Batch, error) {
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return Batch{}, fmt.Errorf("whatsapp: decode payload: %w", err)
	}
	if p.Object != ObjectWhatsApp {
		return Batch{}, fmt.Errorf("%w (object %.40q)", ErrNotWhatsApp, p.Object)
	}
	var b Batch
	for ei, e := range p.Entry {
		for ci, ch := range e.Changes {
			where := fmt.Sprintf("entry[%d].changes[%d]", ei, ci)
			if ch.Field != "" && ch.Field != FieldMessages {
				continue
			}
			v := ch.Value
			names := make(map[string]string, len(v.Contacts))
			for _, c := range v.Contacts {
				names[c.WaID] = c.Profile.Name
			}
			for mi, raw := range v.Messages {
				var m Message
				if err := json.Unmarshal(raw, &m); err != nil {
					b.Problems = append(b.Problems, fmt.Sprintf("%s.value.messages[%d]: %v", where, mi, err))
					continue
				}
				if strings.TrimSpace(m.ID) == "" || strings.TrimSpace(m.From) == "" {
					b.Problems = append(b.Problems, fmt.Sprintf("%s.value.messages[%d]: no id or from", where, mi))
					continue
				}
				b.Messages = append(b.Messages, Inbound{
					PhoneNumberID: v.Metadata.PhoneNumberID,
					WaID:          m.From,
					Name:          names[m.From],
					Message:       m,
					Raw:           raw,
				})
			}
			for si, s := range v.Statuses {
				if strings.TrimSpace(s.ID) == "" || strings.TrimSpace(s.Status) == "" {
					b.Problems = append(b.Problems, fmt.Sprintf("%s.value.statuses[%d]: no id or status", where, si))
					continue
				}
				b.Receipts = append(b.Receipts, Receipt{PhoneNumberID: v.Metadata.PhoneNumberID, Status: s})
			}
			for _, e := range v.Errors {
				b.Problems = append(b.Problems, fmt.Sprintf("%s.value.errors: %s", where, e))
			}
		}
	}
	return b, nil
}
