package twilio_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestSendMMS: an agent's attachments go to Twilio as MediaUrl links to
// this server, signed and expiring; the link serves the file (as Twilio
// fetches it) and nothing else: a tampered, expired or unsigned link is
// 404. Without a public URL the send fails with the setting to fix.
func TestSendMMS(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	ctx := context.Background()
	api := newFakeTwilio(t, answer{201, string(fixture(t, "message_created.json"))})
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	att := func(publicURL string) *media.Attachments {
		return media.NewAttachments(media.AttachmentOptions{Store: e.st, Blobs: blobs, PublicURL: publicURL,
			SecretKey: bytes.Repeat([]byte{9}, 32), Now: clock})
	}
	// The server's public URL is only known once it listens: the handler
	// and the links share the key, not the instance.
	public := httptest.NewServer(att("").Handler())
	t.Cleanup(public.Close)
	links := att(public.URL)

	first := e.reply(t, "x") // opens the conversation from the customer's SMS
	jpeg := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{7}, 3000)...)
	var uploads []store.NewMedia
	for _, name := range []string{"front.jpg", "back.jpg"} {
		b, err := blobs.Put(ctx, bytes.NewReader(jpeg), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		uploads = append(uploads, store.NewMedia{Provider: store.ProviderUpload, Source: []byte(`{}`), MimeType: "image/jpeg", Filename: name,
			Stored: &store.StoredBlob{Key: b.Key, Size: b.Size, SHA256: b.SHA256}})
	}
	created, err := e.st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: first.ConversationID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorSystem, Type: store.TypeMedia, Body: "Both sides of the card", Media: uploads})
	if err != nil {
		t.Fatal(err)
	}
	s := twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL, Attachments: links})
	if _, err := s.Send(ctx, created.Message); err != nil {
		t.Fatal(err)
	}
	r := api.last(t)
	mediaURLs := r.form["MediaUrl"]
	if len(mediaURLs) != 2 || r.form.Get("Body") != "Both sides of the card" {
		t.Fatalf("form %v: want the caption and two MediaUrl", r.form)
	}
	for _, u := range mediaURLs {
		if !strings.HasPrefix(u, public.URL+media.PublicPath) {
			t.Fatalf("MediaUrl %s is not a link to this server", u)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, jpeg) || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("fetching %s: %d %s, %d bytes", u, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}

	// Links that must not work, among them a well-signed one to a
	// customer's media, which is not an upload.
	e.mustDeliver("webhook", fixture(t, "mms.form"))
	var inboundLink string
	for _, m := range e.messages() {
		if m.Direction == store.DirectionIn && len(m.Media) > 0 {
			inboundLink, _ = links.URL(e.ws.ID, m.Media[0])
		}
	}
	if inboundLink == "" {
		t.Fatal("the MMS fixture stored no media")
	}
	good, _ := url.Parse(mediaURLs[0])
	tamper := func(f func(u *url.URL)) string {
		u := *good
		q := u.Query()
		u.RawQuery = q.Encode()
		f(&u)
		return u.String()
	}
	otherWorkspace := strings.Replace(good.Path, media.PublicPath, media.PublicPath+"9", 1)
	for name, u := range map[string]string{
		"bad signature": tamper(func(u *url.URL) {
			q := u.Query()
			sig := []byte(q.Get("signature"))
			sig[0] ^= 1
			q.Set("signature", string(sig))
			u.RawQuery = q.Encode()
		}),
		"later expiry": tamper(func(u *url.URL) {
			q := u.Query()
			q.Set("expires", "99999999999")
			u.RawQuery = q.Encode()
		}),
		"no signature":    tamper(func(u *url.URL) { u.RawQuery = "" }),
		"other workspace": tamper(func(u *url.URL) { u.Path = otherWorkspace }),
		"short path":      public.URL + media.PublicPath + "1/2",
		"inbound media":   inboundLink,
	} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s answered %d, want 404", name, u, resp.StatusCode)
		}
	}
	now = now.Add(media.DefaultURLTTL + time.Minute)
	resp, err := http.Get(mediaURLs[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an expired link answered %d, want 404", resp.StatusCode)
	}

	// No public URL: a permanent failure naming the setting.
	s = twilio.NewSender(twilio.SenderOptions{Store: e.st, Box: e.box, APIBase: api.srv.URL, Attachments: att("")})
	if _, err := s.Send(ctx, created.Message); !isPermanent(err) || !strings.Contains(err.Error(), "SWITCHBOARD_PUBLIC_URL") {
		t.Fatalf("without a public URL: %v", err)
	}
}
