package messenger

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWalksEverything(t *testing.T) {
	b, err := Parse(readFixture(t, "messenger_multi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Object != ObjectPage || len(b.Messages) != 5 || len(b.Problems) != 0 {
		t.Fatalf("parsed %s, %d messages, problems %v: want page, 5 and none", b.Object, len(b.Messages), b.Problems)
	}
	if last := b.Messages[4]; last.CustomerID() != "7229465410393126" || last.AccountID != "1477823465785462" || last.BusinessID() != "1477823465785462" {
		t.Errorf("standby event = %+v, want Grace's to the page", last)
	}
	b, err = Parse(readFixture(t, "messenger_receipts.json"))
	if err != nil || len(b.Receipts) != 2 || len(b.Messages) != 0 {
		t.Fatalf("receipts: %+v, %v", b, err)
	}
	if d := b.Receipts[0].Delivery; d == nil || len(d.Mids) != 2 || d.Watermark != 1749416598000 || b.Receipts[0].CustomerID != "6783961241632418" {
		t.Errorf("delivery %+v", b.Receipts[0])
	}
	if r := b.Receipts[1].Read; r == nil || r.Watermark != 1749416598500 {
		t.Errorf("read %+v", b.Receipts[1])
	}
	b, err = Parse(readFixture(t, "messenger_echoes.json"))
	if err != nil || len(b.Messages) != 3 {
		t.Fatalf("echoes: %+v, %v", b, err)
	}
	for i, wantApp := range []ID{"1517776481860111", "263902037430900", "263902037430900"} {
		m := b.Messages[i]
		if !m.Echo() || m.Event.Message.AppID != wantApp || m.CustomerID() != "6783961241632418" || m.BusinessID() != "1477823465785462" {
			t.Errorf("echo %d = %+v, app %q: want an echo of app %s to Ada", i, m, m.Event.Message.AppID, wantApp)
		}
	}
}

func TestParseSkipsOtherEvents(t *testing.T) {
	b, err := Parse([]byte(`{"object":"page","entry":[{"id":"1","time":1,"messaging":[
		{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":1,"optin":{"ref":"x"}},
		{"sender":{"id":"2"},"recipient":{"id":"1"},"timestamp":1,"pass_thread_control":{"new_owner_app_id":"3"}}]}]}`))
	if err != nil || len(b.Messages)+len(b.Receipts)+len(b.Problems) != 0 {
		t.Fatalf("opt-in and handover: %+v, %v; want nothing", b, err)
	}
}

func TestID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ID
		ok   bool
	}{
		{`"1517776481860111"`, "1517776481860111", true},
		{`1517776481860111`, "1517776481860111", true},
		{`369239263222822`, "369239263222822", true},
		{`null`, "", true},
		{`true`, "", false},
		{`{"id":1}`, "", false},
	} {
		var id ID
		err := json.Unmarshal([]byte(tt.in), &id)
		if (err == nil) != tt.ok || id != tt.want {
			t.Errorf("ID from %s = %q, %v; want %q ok=%v", tt.in, id, err, tt.want, tt.ok)
		}
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
	f.Add([]byte(`{"object":"page","entry":[{"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"message":{"mid":"x","attachments":[{"type":"image","payload":null}]}}]}]}`))
	f.Add([]byte(`{"object":"instagram","entry":[{"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"reaction":{"mid":"x","action":"react","emoji":"\u0000"}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Parse(body)
		if err != nil {
			return
		}
		for _, kind := range []store.InboxKind{store.InboxMessenger, store.InboxInstagram} {
			for _, m := range b.Messages {
				if m.CustomerID() == "" || m.BusinessID() == "" {
					t.Fatalf("accepted an event without its parties: %+v", m)
				}
				r, err := Render(kind, m)
				if err != nil {
					t.Fatalf("accepted event does not render: %v (%+v)", err, m)
				}
				if r.ProviderMessageID == "" {
					t.Fatalf("rendered without a provider message id: %+v", m)
				}
				if strings.ContainsRune(r.Body, 0) || strings.Contains(string(r.Content), `\u0000`) {
					t.Fatalf("rendered a NUL, which Postgres refuses: %+v", r)
				}
				nm := store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Type: r.Type, Body: r.Body, Content: r.Content, ProviderMessageID: r.ProviderMessageID}
				if len(nm.ProviderMessageID) > 255 {
					continue // the store refuses it and the payload is dead-lettered
				}
				if _, err := nm.Normalize(); err != nil {
					t.Fatalf("rendered message the store refuses: %v (%+v)", err, r)
				}
			}
		}
	})
}
