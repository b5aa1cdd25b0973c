package messenger_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// TestSendAttachment: an agent's attachment goes as a Send API attachment
// Meta fetches from a signed link to this server, typed by its MIME
// type; the message's text follows as a message of its own, and the mid
// recorded is the last one's. Without a public URL nothing is sent and
// the failure names the setting.
func TestSendAttachment(t *testing.T) {
	for _, kind := range []store.InboxKind{store.InboxMessenger, store.InboxInstagram} {
		t.Run(string(kind), func(t *testing.T) {
			se := newSendEnv(t, kind)
			ctx := context.Background()
			blobs, err := media.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			attach := func(mime, name, caption string) store.Message {
				b, err := blobs.Put(ctx, bytes.NewReader([]byte("content of "+name)), 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				c, err := se.st.CreateMessage(ctx, se.ws.ID, store.NewMessage{ConversationID: se.conv.ID, Direction: store.DirectionOut,
					AuthorKind: store.AuthorAI, Type: store.TypeMedia, Body: caption, Media: []store.NewMedia{{Provider: store.ProviderUpload,
						Source: []byte(`{}`), MimeType: mime, Filename: name, Stored: &store.StoredBlob{Key: b.Key, Size: b.Size, SHA256: b.SHA256}}}})
				if err != nil {
					t.Fatal(err)
				}
				return c.Message
			}
			links := media.NewAttachments(media.AttachmentOptions{Store: se.st, Blobs: blobs, PublicURL: "https://inbox.example.com",
				SecretKey: bytes.Repeat([]byte{3}, 32)})
			sender := messenger.NewSender(messenger.SenderOptions{Store: se.st, Box: se.box, GraphURL: se.graph.srv.URL,
				Now: func() time.Time { return se.now }, Attachments: links})
			se.graph.answer(200, `{"recipient_id":"x","message_id":"m_LAST"}`)

			photo := attach("image/jpeg", "photo.jpg", "Here is the photo")
			if id, err := sender.Send(ctx, photo); err != nil || id != "m_LAST" {
				t.Fatalf("Send = %q, %v", id, err)
			}
			pdf := attach("application/pdf", "manual.pdf", "")
			if _, err := sender.Send(ctx, pdf); err != nil {
				t.Fatal(err)
			}
			got := se.graph.requests()
			if len(got) != 3 {
				t.Fatalf("%d requests, want the photo, its text and the pdf", len(got))
			}
			for i, want := range []struct{ typ, text string }{{"image", ""}, {"", "Here is the photo"}, {"file", ""}} {
				m := got[i].Body.Message
				switch {
				case want.typ == "" && (m.Attachment != nil || m.Text != want.text):
					t.Errorf("request %d: %+v, want the text %q alone", i, m, want.text)
				case want.typ != "" && (m.Attachment == nil || m.Text != "" || m.Attachment.Type != want.typ ||
					!strings.HasPrefix(m.Attachment.Payload.URL, "https://inbox.example.com"+media.PublicPath) ||
					!strings.Contains(m.Attachment.Payload.URL, "signature=")):
					t.Errorf("request %d: %+v, want a %s attachment by signed link", i, m, want.typ)
				}
				if got[i].Body.MessagingType != "RESPONSE" {
					t.Errorf("request %d messaging type %q", i, got[i].Body.MessagingType)
				}
			}

			noLinks := messenger.NewSender(messenger.SenderOptions{Store: se.st, Box: se.box, GraphURL: se.graph.srv.URL,
				Now: func() time.Time { return se.now }, Attachments: media.NewAttachments(media.AttachmentOptions{Store: se.st, Blobs: blobs})})
			_, err = noLinks.Send(ctx, attach("image/png", "x.png", ""))
			var serr *messenger.SendError
			if !errors.As(err, &serr) || !serr.Permanent() || !strings.Contains(err.Error(), "SWITCHBOARD_PUBLIC_URL") {
				t.Fatalf("without a public URL: %v", err)
			}
			if n := len(se.graph.requests()); n != 3 {
				t.Fatalf("%d requests after a refused send, want still 3", n)
			}
		})
	}
}
