package whatsapp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func TestParseWalksEverything(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "multi.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Messages) != 5 || len(b.Problems) != 0 {
		t.Fatalf("parsed %d messages, problems %v: want 5 and none", len(b.Messages), b.Problems)
	}
	if b.Messages[1].Name != "Pablo Morales" || b.Messages[3].Name != "Sheena Nelson" || b.Messages[3].PhoneNumberID != "106540352242922" {
		t.Errorf("names or number not joined from the change: %+v", b.Messages)
	}
	body, _ = os.ReadFile(filepath.Join("testdata", "statuses.json"))
	if b, err = Parse(body); err != nil || len(b.Receipts) != 5 {
		t.Fatalf("statuses: %d receipts, %v", len(b.Receipts), err)
	}
	if f := b.Receipts[3].Status; f.Status != "failed" || len(f.Errors) != 1 || f.Errors[0].Code != 131047 {
		t.Errorf("failed status %+v", f)
	}
}

func TestParseSkipsOtherFields(t *testing.T) {
	b, err := Parse([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"APPROVED"}}]}]}`))
	if err != nil || len(b.Messages)+len(b.Receipts)+len(b.Problems) != 0 {
		t.Fatalf("template update: %+v, %v; want nothing", b, err)
	}
}

// FuzzParse feeds the parser and renderer anything: they must never
// panic, and whatever they accept must render to a storable message.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"id":"x","from":"1","type":"text","text":null}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		if err != nil {
			return
		}
		for _, m := range b.Messages {
			if m.Message.ID == "" || m.WaID == "" {
				t.Fatalf("accepted a message without id or sender: %+v", m)
			}
			r, err := Render(m)
			if err != nil {
				continue
			}
			nm := store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Type: r.Type, Body: r.Body, Content: r.Content, ProviderMessageID: m.Message.ID}
			if len(nm.ProviderMessageID) > 255 {
				continue // the store refuses it and the payload is dead-lettered
			}
			if strings.ContainsRune(r.Body, 0) || strings.Contains(string(r.Content), `\u0000`) {
				t.Fatalf("rendered a NUL, which Postgres refuses: %+v", r)
			}
			if _, err := nm.Normalize(); err != nil {
				t.Fatalf("rendered message the store refuses: %v (%+v)", err, r)
			}
		}
	})
}
