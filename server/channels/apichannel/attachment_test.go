package apichannel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestSenderAttachments: an agent's attachments reach the receiver as
// signed links in message.attachments, shaped as inbound attachments
// are; without a public URL the reply fails, naming the setting.
func TestSenderAttachments(t *testing.T) {
	rc := newReceiver(t, answer{status: http.StatusOK, body: `{"id":"ext-2"}`})
	e := newEnv(t, teststore.SQLite(t), rc.srv.URL, nil)
	conv := e.inbound()
	ctx := context.Background()
	blobs, err := media.NewDir(t.TempDir())
	must(t, err)
	var uploads []store.NewMedia
	for _, f := range []struct{ mime, name string }{{"application/pdf", "quote.pdf"}, {"image/png", "chart.png"}} {
		b, err := blobs.Put(ctx, bytes.NewReader([]byte(f.name)), 1<<20)
		must(t, err)
		uploads = append(uploads, store.NewMedia{Provider: store.ProviderUpload, Source: []byte(`{}`), MimeType: f.mime, Filename: f.name,
			Stored: &store.StoredBlob{Key: b.Key, Size: b.Size, SHA256: b.SHA256}})
	}
	created, err := e.st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: conv.ConversationID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: e.owner.ID, Type: store.TypeMedia, Body: "The quote and the chart", Media: uploads})
	must(t, err)
	links := media.NewAttachments(media.AttachmentOptions{Store: e.st, Blobs: blobs, PublicURL: "https://inbox.example.com",
		SecretKey: bytes.Repeat([]byte{5}, 32)})
	s := apichannel.NewSender(apichannel.SenderOptions{Store: e.st, Box: e.box, Attachments: links})
	if _, err := s.Send(ctx, created.Message); err != nil {
		t.Fatal(err)
	}
	var got apichannel.WebhookEvent
	must(t, json.Unmarshal(rc.requests()[0].Body, &got))
	if got.Message.Type != store.TypeMedia || got.Message.Text != "The quote and the chart" || len(got.Message.Attachments) != 2 {
		t.Fatalf("message %+v", got.Message)
	}
	for i, a := range got.Message.Attachments {
		if a.ContentType != uploads[i].MimeType || a.Filename != uploads[i].Filename ||
			!strings.HasPrefix(a.URL, "https://inbox.example.com"+media.PublicPath) || !strings.Contains(a.URL, "signature=") {
			t.Errorf("attachment %d: %+v", i, a)
		}
	}

	s = apichannel.NewSender(apichannel.SenderOptions{Store: e.st, Box: e.box,
		Attachments: media.NewAttachments(media.AttachmentOptions{Store: e.st, Blobs: blobs})})
	_, err = s.Send(ctx, created.Message)
	var se *apichannel.SendError
	if !errors.As(err, &se) || !se.Permanent() || !strings.Contains(err.Error(), "SWITCHBOARD_PUBLIC_URL") {
		t.Fatalf("without a public URL: %v", err)
	}
	if n := len(rc.requests()); n != 1 {
		t.Fatalf("%d webhooks, want 1", n)
	}
}
