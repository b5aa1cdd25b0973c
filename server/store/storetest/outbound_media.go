package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// upload is an agent's attachment as the API stores it: a blob in the
// blob store already.
func upload(key, mime, name string) store.NewMedia {
	return store.NewMedia{Provider: store.ProviderUpload, Source: json.RawMessage(`{}`), MimeType: mime, Filename: name,
		Stored: &store.StoredBlob{Key: key, Size: 1234, SHA256: "ab12"}}
}

// testOutboundMedia: an agent's media message is stored with its uploads
// (stored, never downloaded), queued for sending with them, deduplicated
// by its idempotency key, and refused beyond what the channel carries in
// one message; malformed combinations are invalid and write nothing.
func testOutboundMedia(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s) // a WhatsApp inbox: one attachment per message
	inbound(t, s, f.ws.ID, f.conv.ID, "Can you send the invoice?", unique("wamid.om"))
	send := func(key string, media ...store.NewMedia) (store.CreatedMessage, error) {
		return s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: f.conv.ID, Direction: store.DirectionOut,
			AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID, Type: store.TypeMedia, Body: "Here it is",
			IdempotencyKey: key, Media: media})
	}
	key := unique("idem")
	created, err := send(key, upload("k1", "application/pdf", "invoice.pdf"))
	must(t, err)
	m := created.Message
	if m.Status != store.DeliveryQueued || m.Type != store.TypeMedia || len(m.Media) != 1 {
		t.Fatalf("media message %+v, want queued with one attachment", m)
	}
	ref := m.Media[0]
	if ref.State != store.MediaStored || ref.MimeType != "application/pdf" || ref.Filename != "invoice.pdf" || ref.Size != 1234 {
		t.Fatalf("attachment %+v, want stored application/pdf invoice.pdf of 1234 bytes", ref)
	}
	md, err := s.Media(c, f.ws.ID, ref.ID)
	must(t, err)
	if md.BlobKey != "k1" || md.SHA256 != "ab12" || md.Provider != store.ProviderUpload || md.MessageID != m.ID {
		t.Fatalf("media row %+v", md)
	}
	// An upload is never claimed for download.
	jobs, err := s.ClaimMedia(c, time.Now().Add(time.Hour), time.Minute, 100)
	must(t, err)
	for _, j := range jobs {
		if j.Media.ID == ref.ID {
			t.Fatal("an upload was claimed for download")
		}
	}
	// The outbox hands the sender the message with its attachment.
	entries, err := s.ClaimOutbox(c, []store.InboxKind{store.InboxWhatsApp}, time.Now().Add(time.Second), time.Minute, 100)
	must(t, err)
	var found bool
	for _, e := range entries {
		if e.Message.ID == m.ID {
			found = len(e.Message.Media) == 1 && e.Message.Media[0].ID == ref.ID
		}
	}
	if !found {
		t.Fatalf("the outbox entry of the media message is missing or lost its attachment: %+v", entries)
	}

	// A retried send is the first message, with no second attachment.
	again, err := send(key, upload("k2", "application/pdf", "invoice.pdf"))
	must(t, err)
	if !again.Duplicate || again.Message.ID != m.ID || len(again.Message.Media) != 1 || again.Message.Media[0].ID != ref.ID {
		t.Fatalf("retried send %+v, want the first message as a duplicate", again)
	}

	before, err := s.ListMessages(c, f.ws.ID, f.conv.ID, store.MessageFilter{Limit: 100})
	must(t, err)
	_, err = send(unique("idem"), upload("k3", "image/png", "a.png"), upload("k4", "image/png", "b.png"))
	wantPolicy(t, err, store.CodeTooManyAttachments)
	for name, media := range map[string][]store.NewMedia{
		"no attachment":  nil,
		"not an upload":  {{Provider: "whatsapp", Source: json.RawMessage(`{"id":"1"}`)}},
		"no blob":        {{Provider: store.ProviderUpload, Source: json.RawMessage(`{}`)}},
		"empty blob key": {{Provider: store.ProviderUpload, Source: json.RawMessage(`{}`), Stored: &store.StoredBlob{}}},
	} {
		if _, err := send(unique("idem"), media...); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
	// Uploads make a media message, and only an outbound one.
	_, err = s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: f.conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID, Type: store.TypeText, Body: "x", Media: []store.NewMedia{upload("k5", "image/png", "a.png")}})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a text message with an upload: got %v, want invalid", err)
	}
	_, err = s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: f.conv.ID, Direction: store.DirectionIn,
		Body: "x", ProviderMessageID: unique("wamid"), Media: []store.NewMedia{upload("k6", "image/png", "a.png")}})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an inbound message with an upload: got %v, want invalid", err)
	}
	after, err := s.ListMessages(c, f.ws.ID, f.conv.ID, store.MessageFilter{Limit: 100})
	must(t, err)
	if len(after) != len(before) {
		t.Fatalf("refused sends wrote %d messages", len(after)-len(before))
	}

	// An SMS carries up to 10.
	sms, err := s.CreateInbox(c, f.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "SMS"})
	must(t, err)
	conv := newConversation(t, s, f.ws.ID, sms.ID, f.contact.ID)
	var ten []store.NewMedia
	for range 10 {
		ten = append(ten, upload(unique("k"), "image/jpeg", "p.jpg"))
	}
	mms, err := s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID, Type: store.TypeMedia, Media: ten})
	must(t, err)
	if len(mms.Message.Media) != 10 {
		t.Fatalf("an MMS with %d attachments, want 10", len(mms.Message.Media))
	}
	_, err = s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID, Type: store.TypeMedia,
		Media: append(ten, upload("k11", "image/jpeg", "p.jpg"))})
	wantPolicy(t, err, store.CodeTooManyAttachments)
}
