package apichannel_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// FuzzParseInbound feeds the inbound parser and renderer anything: they
// must never panic, and whatever they accept must render to a message the
// store takes, with ids within their limits.
func FuzzParseInbound(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "message_*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"contact":{"id":"u"},"message":{"id":"m","text":"\u0000"}}`))
	f.Add([]byte(`{"contact":{"id":"u"},"message":{"id":"m","attachments":[{"url":"https://x/\u0000"}]}}`))
	f.Add([]byte(`{"contact":{"id":"u","email":"a@b"},"message":{"id":"m","text":"hi"}} `))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := apichannel.ParseInbound(body)
		if err != nil {
			var re *apichannel.RequestError
			if !errors.As(err, &re) || (re.Status != 400 && re.Status != 422) {
				t.Fatalf("error %v is not a 400/422 RequestError", err)
			}
			return
		}
		if r.Contact.ID == "" || len(r.Contact.ID) > apichannel.MaxIDBytes || r.Message.ID == "" || len(r.Message.ID) > apichannel.MaxIDBytes {
			t.Fatalf("accepted ids %q %q", r.Contact.ID, r.Message.ID)
		}
		rendered, err := apichannel.Render(r)
		if err != nil {
			t.Fatalf("accepted a request that does not render: %v", err)
		}
		if strings.ContainsRune(rendered.Body, 0) || strings.Contains(string(rendered.Content), `\u0000`) {
			t.Fatalf("rendered a NUL, which Postgres refuses: %+v", rendered)
		}
		nm := store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Type: rendered.Type, Body: rendered.Body,
			Content: rendered.Content, ProviderMessageID: apichannel.InboundIDPrefix + r.Message.ID}
		if _, err := nm.Normalize(); err != nil {
			t.Fatalf("rendered a message the store refuses: %v (%+v)", err, rendered)
		}
		if err := (store.Identity{Channel: "inbox:1", ExternalID: r.Contact.ID}).Validate(); err != nil {
			t.Fatalf("accepted a contact id the store refuses: %v", err)
		}
	})
}

// FuzzParseStatus: never a panic; an accepted update is one the
// connector applies.
func FuzzParseStatus(f *testing.F) {
	for _, name := range []string{"status_delivered.json", "status_failed.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"message_id":"x","status":"read","error":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := apichannel.ParseStatus(body)
		if err != nil {
			return
		}
		switch store.DeliveryStatus(s.Status) {
		case store.DeliveryDelivered, store.DeliveryRead, store.DeliveryFailed:
		default:
			t.Fatalf("accepted status %q", s.Status)
		}
		if s.MessageID == "" || len(s.Error) > apichannel.MaxStatusErrorBytes || strings.ContainsRune(s.Error, 0) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
