package media_test

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// TestConnectorsDescribeMedia: each connector's Render describes the
// media it receives for a provider the downloader has a fetcher for,
// with the source that fetcher reads; other attachments are not
// downloaded.
func TestConnectorsDescribeMedia(t *testing.T) {
	fetchers := media.Fetchers(media.FetcherOptions{})
	var source struct{ ID, SHA256, URL string }

	wa, err := whatsapp.Render(whatsapp.Inbound{WaID: "16505551234", Raw: json.RawMessage(`{}`), Message: whatsapp.Message{
		ID: "wamid.1", Type: "document",
		Document: &whatsapp.Media{ID: "1003383421387256", MimeType: "application/pdf", SHA256: "SfInY0g=", Filename: "invoice.pdf", Caption: "March"},
	}})
	must(t, err)
	if len(wa.Media) != 1 || wa.Media[0].MimeType != "application/pdf" || wa.Media[0].Filename != "invoice.pdf" || wa.Media[0].Caption != "March" {
		t.Fatalf("whatsapp media %+v", wa.Media)
	}
	must(t, json.Unmarshal(wa.Media[0].Source, &source))
	if source.ID != "1003383421387256" || source.SHA256 != "SfInY0g=" {
		t.Errorf("whatsapp source %s", wa.Media[0].Source)
	}
	text, err := whatsapp.Render(whatsapp.Inbound{Raw: json.RawMessage(`{}`), Message: whatsapp.Message{ID: "wamid.2", Type: "text", Text: &whatsapp.Text{Body: "hi"}}})
	must(t, err)
	if len(text.Media) != 0 {
		t.Errorf("a text has media %+v", text.Media)
	}

	sms, err := twilio.Render(twilio.Inbound{MessageSID: "MM1", Body: "look", Media: []twilio.Media{
		{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", ContentType: "image/jpeg"},
		{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", ContentType: "text/vcard"},
	}})
	must(t, err)
	if len(sms.Media) != 2 || sms.Media[1].MimeType != "text/vcard" {
		t.Fatalf("twilio media %+v", sms.Media)
	}
	must(t, json.Unmarshal(sms.Media[0].Source, &source))
	if source.URL != "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1" {
		t.Errorf("twilio source %s", sms.Media[0].Source)
	}

	msg := &messenger.Message{Mid: "m_1", Attachments: []messenger.Attachment{
		{Type: "image", Payload: &messenger.AttachmentPayload{URL: "https://scontent.example/photo.jpg"}},
		{Type: "file", Payload: &messenger.AttachmentPayload{URL: "https://cdn.example/f.pdf", Title: "f.pdf"}},
		{Type: "share", Payload: &messenger.AttachmentPayload{URL: "https://www.instagram.example/p/1"}},
		{Type: "fallback", URL: "https://example.com"},
		{Type: "location", Payload: &messenger.AttachmentPayload{Coordinates: &messenger.Coordinates{Lat: 1, Long: 2}}},
	}}
	ig, err := messenger.Render(store.InboxInstagram, messenger.Inbound{Raw: json.RawMessage(`{}`), Event: messenger.Event{
		Sender: messenger.Party{ID: "IGSID"}, Message: msg}})
	must(t, err)
	if len(ig.Media) != 2 || ig.Media[1].Filename != "f.pdf" {
		t.Fatalf("instagram media %+v", ig.Media)
	}
	msg.IsEcho = true
	echo, err := messenger.Render(store.InboxMessenger, messenger.Inbound{Raw: json.RawMessage(`{}`), Event: messenger.Event{
		Recipient: messenger.Party{ID: "PSID"}, Message: msg}})
	must(t, err)
	if len(echo.Media) != 0 {
		t.Errorf("an echo (the business's own message) has media to download: %+v", echo.Media)
	}

	for _, md := range [][]store.NewMedia{wa.Media, sms.Media, ig.Media} {
		if fetchers[md[0].Provider] == nil {
			t.Errorf("no fetcher for provider %q", md[0].Provider)
		}
	}
}
