package twilio

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func readForm(t testing.TB, name string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := url.ParseQuery(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseMMS(t *testing.T) {
	in, problems, err := Parse(readForm(t, "mms.form"))
	if err != nil || len(problems) != 0 {
		t.Fatalf("Parse: %v %v", err, problems)
	}
	if in.MessageSID != "MM8e2d9c4b7a6f5e4d3c2b1a0f9e8d7c6b" || in.From != "+12125550123" || in.To != "+14155559999" || in.MessagingServiceSID != "MG0a1b2c3d4e5f60718293a4b5c6d7e8f9" || len(in.Media) != 3 {
		t.Fatalf("parsed %+v", in)
	}
	if in.Media[2].ContentType != "video/mp4" || !strings.HasSuffix(in.Media[2].URL, "/Media/ME0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f") {
		t.Errorf("media in NumMedia order: %+v", in.Media)
	}
}

func TestMediaKind(t *testing.T) {
	for ct, want := range map[string]string{
		"image/jpeg": "image", "IMAGE/PNG": "image", "video/3gpp": "video", "audio/amr": "audio",
		"text/vcard": "contact", "text/x-vcard; charset=utf-8": "contact", "application/pdf": "document",
		"text/plain": "file", "": "file",
	} {
		if got := mediaKind(ct); got != want {
			t.Errorf("mediaKind(%q) = %s, want %s", ct, got, want)
		}
	}
}

func TestMapStatus(t *testing.T) {
	for _, tt := range []struct {
		s       StatusUpdate
		status  store.DeliveryStatus
		errText string
		tracked bool
	}{
		{StatusUpdate{Status: "accepted"}, store.DeliveryQueued, "", true},
		{StatusUpdate{Status: "queued"}, store.DeliveryQueued, "", true},
		{StatusUpdate{Status: "sending"}, store.DeliveryQueued, "", true},
		{StatusUpdate{Status: "sent"}, store.DeliverySent, "", true},
		{StatusUpdate{Status: "delivered"}, store.DeliveryDelivered, "", true},
		{StatusUpdate{Status: "read"}, store.DeliveryRead, "", true},
		{StatusUpdate{Status: "undelivered", ErrorCode: "30003"}, store.DeliveryFailed, "Twilio error 30003: Unreachable destination handset", true},
		{StatusUpdate{Status: "failed", ErrorCode: "30034", ErrorMessage: "Message from an unregistered number"}, store.DeliveryFailed, "Twilio error 30034: Message from an unregistered number", true},
		{StatusUpdate{Status: "failed", ErrorCode: "39999"}, store.DeliveryFailed, "Twilio error 39999", true},
		{StatusUpdate{Status: "failed"}, store.DeliveryFailed, "Twilio: message failed", true},
		{StatusUpdate{Status: "canceled"}, store.DeliveryFailed, "Twilio: the message was canceled before it was sent", true},
		{StatusUpdate{Status: "receiving"}, "", "", false},
		{StatusUpdate{Status: "received"}, "", "", false},
		{StatusUpdate{Status: "bogus"}, "", "", false},
	} {
		status, errText, tracked := MapStatus(tt.s)
		if status != tt.status || errText != tt.errText || tracked != tt.tracked {
			t.Errorf("%+v → %s %q %v, want %s %q %v", tt.s, status, errText, tracked, tt.status, tt.errText, tt.tracked)
		}
	}
}

func seedForms(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.form"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(strings.TrimSpace(string(b)))
	}
	f.Add("MessageSid=SM1&AccountSid=AC1&From=%2B1&NumMedia=11&MediaUrl0=https%3A%2F%2Fx")
	f.Add("MessageSid=SM1&AccountSid=AC1&From=%2B1&Body=%00%FF&NumMedia=-1")
	f.Add("MessageSid=&SmsSid=SM2&AccountSid=AC1&From=whatsapp%3A%2B1")
	f.Add("SmsSid=SM1&SmsStatus=undelivered&ErrorCode=30003")
}

// FuzzParse feeds the message parser and renderer any form: they must
// never panic, and whatever they accept must render to a message the
// store takes, with no NUL or invalid UTF-8 that Postgres refuses.
func FuzzParse(f *testing.F) {
	seedForms(f)
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		in, _, err := Parse(form)
		if err != nil {
			return
		}
		if in.MessageSID == "" || in.From == "" || in.AccountSID == "" || len(in.Media) > MaxMedia {
			t.Fatalf("accepted %+v", in)
		}
		for _, s := range []string{in.MessageSID, in.From, in.To} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("unstorable field %q", s)
			}
		}
		r, err := Render(in)
		if err != nil {
			return
		}
		if !utf8.ValidString(r.Body) || strings.ContainsRune(r.Body, 0) || strings.Contains(string(r.Content), `\u0000`) {
			t.Fatalf("rendered what Postgres refuses: %+v", r)
		}
		if len(in.MessageSID) > 255 {
			return // the store refuses it and the request is dead-lettered
		}
		nm := store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Type: r.Type, Body: r.Body, Content: r.Content, ProviderMessageID: in.MessageSID}
		if _, err := nm.Normalize(); err != nil {
			t.Fatalf("rendered a message the store refuses: %v (%+v)", err, r)
		}
	})
}

// FuzzParseStatus feeds the status parser any form: it must never panic,
// and what it accepts must map to a valid delivery status or none.
func FuzzParseStatus(f *testing.F) {
	seedForms(f)
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		s, err := ParseStatus(form)
		if err != nil {
			return
		}
		if s.MessageSID == "" || s.Status == "" {
			t.Fatalf("accepted %+v", s)
		}
		status, errText, tracked := MapStatus(s)
		if tracked && !status.Valid() {
			t.Fatalf("mapped %q to invalid status %q", s.Status, status)
		}
		if !utf8.ValidString(errText) || strings.ContainsRune(errText, 0) {
			t.Fatalf("unstorable error text %q", errText)
		}
	})
}

// FuzzVerify checks that no header panics the verifier and that only
// the right signature passes.
func FuzzVerify(f *testing.F) {
	f.Add("https://h/p", "A=1&B=2", "")
	f.Add("https://h:443/p", "A=1", "GvWf1cFY/Q7PnoempGyD5oXAezc=")
	f.Fuzz(func(t *testing.T, u, body, header string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		if err := Verify("token", u, form, header); err == nil && header != Sign("token", u, form) {
			for _, v := range urlVariants(u) {
				if header == Sign("token", v, form) {
					return
				}
			}
			t.Fatalf("accepted a signature that is not the request's: %q", header)
		}
	})
}
