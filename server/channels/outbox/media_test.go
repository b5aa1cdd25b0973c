package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/outbox"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// upload is one media upload the fake Graph API received: POST
// /{version}/{phone_number_id}/media, multipart with messaging_product,
// type and file, as the Cloud API documents it.
type upload struct {
	Path, Auth, Product, Type, Filename, FileType string
	File                                          []byte
}

func (g *graph) serveUpload(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"(#100) Invalid multipart body","type":"OAuthException","code":100}}`)
		return
	}
	u := upload{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Product: r.FormValue("messaging_product"), Type: r.FormValue("type")}
	if f, h, err := r.FormFile("file"); err == nil {
		u.File, _ = io.ReadAll(f)
		u.Filename, u.FileType = h.Filename, h.Header.Get("Content-Type")
		f.Close()
	}
	g.mu.Lock()
	n := len(g.uploads)
	g.uploads = append(g.uploads, u)
	a := answer{status: http.StatusOK}
	if len(g.uploadAnswers) > 0 {
		a = g.uploadAnswers[min(n, len(g.uploadAnswers)-1)]
	}
	g.mu.Unlock()
	w.WriteHeader(a.status)
	if a.status == http.StatusOK {
		fmt.Fprintf(w, `{"id":"MEDIA%d"}`, n+1)
		return
	}
	io.WriteString(w, a.body)
}

func (g *graph) uploaded() []upload {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slicesClone(g.uploads)
}

// attach stores content as an agent's upload and sends it in a media
// message with body as its caption.
func (e *env) attach(blobs media.Blobs, mime, name, body string, content []byte) store.Message {
	e.t.Helper()
	b, err := blobs.Put(context.Background(), bytes.NewReader(content), 1<<30)
	must(e.t, err)
	m, err := e.st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
		ConversationID: e.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: e.owner.ID,
		Type: store.TypeMedia, Body: body, Media: []store.NewMedia{{Provider: store.ProviderUpload, Source: []byte(`{}`),
			MimeType: mime, Filename: name, Stored: &store.StoredBlob{Key: b.Key, Size: b.Size, SHA256: b.SHA256}}},
	})
	must(e.t, err)
	return m.Message
}

func (e *env) mediaDrainer(blobs media.Blobs) *outbox.Drainer {
	return outbox.New(outbox.Options{Store: e.st, Interval: 10e6, BaseBackoff: 1e6,
		Senders: map[store.InboxKind]outbox.Sender{store.InboxWhatsApp: whatsapp.NewSender(whatsapp.SenderOptions{
			Store: e.st, Box: e.box, GraphURL: e.graph.srv.URL, GraphVersion: "v23.0",
			Attachments: media.NewAttachments(media.AttachmentOptions{Store: e.st, Blobs: blobs}),
		})}})
}

// TestMediaSend: an agent's attachment is uploaded to the Cloud API's
// media endpoint and sent by the id it answers, as the message type its
// MIME type and size allow (an image with its caption; a PDF, and audio
// with a caption, as documents with their file name).
func TestMediaSend(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t))
		blobs, err := media.NewDir(t.TempDir())
		must(t, err)
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 5000)...)
		pic := e.attach(blobs, "image/png", "receipt.png", "Your receipt", png)
		pdf := e.attach(blobs, "application/pdf", "invoice.pdf", "", []byte("%PDF-1.4 invoice"))
		voice := e.attach(blobs, "audio/ogg", "note.ogg", "Listen to this", []byte("OggS voice"))
		run(t, e.mediaDrainer(blobs))
		for _, m := range []store.Message{pic, pdf, voice} {
			e.waitStatus(m.ID, store.DeliverySent)
		}
		ups := e.graph.uploaded()
		if len(ups) != 3 {
			t.Fatalf("%d uploads, want 3", len(ups))
		}
		byName := map[string]upload{}
		for _, u := range ups {
			byName[u.Filename] = u
			if u.Path != "/v23.0/"+phoneNumberID+"/media" || u.Auth != "Bearer "+accessToken || u.Product != "whatsapp" || u.Type != u.FileType {
				t.Errorf("upload %+v", u)
			}
		}
		if u := byName["receipt.png"]; !bytes.Equal(u.File, png) || u.Type != "image/png" {
			t.Errorf("the image upload carried %d bytes of %s, want the file's %d of image/png", len(u.File), u.Type, len(png))
		}
		kinds := map[string]int{}
		for _, r := range e.graph.requests() {
			typ, _ := r.Body["type"].(string)
			kinds[typ]++
			obj, _ := r.Body[typ].(map[string]any)
			id, _ := obj["id"].(string)
			if !strings.HasPrefix(id, "MEDIA") {
				t.Errorf("%s message names media %q, want an uploaded id", typ, id)
			}
			switch typ {
			case "image":
				if obj["caption"] != "Your receipt" {
					t.Errorf("image %v, want the caption", obj)
				}
			case "document":
				if obj["filename"] != "invoice.pdf" && !(obj["filename"] == "note.ogg" && obj["caption"] == "Listen to this") {
					t.Errorf("document %v", obj)
				}
			default:
				t.Errorf("unexpected message type %q: %v", typ, r.Body)
			}
		}
		if kinds["image"] != 1 || kinds["document"] != 2 {
			t.Fatalf("sent %v, want 1 image and 2 documents", kinds)
		}
	})
}

// TestMediaUploadFailures: a refused upload fails the message with Meta's
// reason and sends no message; a server error is retried and the message
// then goes once; an attachment whose blob is gone fails at once.
func TestMediaUploadFailures(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		g := newGraph(t)
		g.uploadAnswers = []answer{
			{http.StatusBadRequest, `{"error":{"message":"(#131053) Media upload error","type":"OAuthException","code":131053,"error_data":{"details":"Unsupported file type"}}}`},
			{http.StatusInternalServerError, `{"error":{"message":"Service temporarily unavailable","code":2}}`},
			{http.StatusOK, ""},
		}
		e := newEnv(t, st, g)
		blobs, err := media.NewDir(t.TempDir())
		must(t, err)
		refused := e.attach(blobs, "application/x-msdownload", "setup.exe", "", []byte("MZ"))
		d := e.mediaDrainer(blobs)
		run(t, d)
		failed := e.waitStatus(refused.ID, store.DeliveryFailed)
		if !strings.Contains(failed.Error, "131053") || !strings.Contains(failed.Error, "Unsupported file type") {
			t.Fatalf("failed with %q, want Meta's reason", failed.Error)
		}
		if n := len(g.requests()); n != 0 {
			t.Fatalf("%d messages sent after a refused upload", n)
		}
		retried := e.attach(blobs, "image/jpeg", "a.jpg", "", []byte("\xff\xd8\xff jpeg"))
		d.Notify(e.ws.ID)
		e.waitStatus(retried.ID, store.DeliverySent)
		if n := len(g.uploaded()); n != 3 {
			t.Fatalf("%d uploads, want 3 (refused, server error, retried)", n)
		}
		if n := len(g.requests()); n != 1 {
			t.Fatalf("%d messages sent, want 1", n)
		}

		// An upload whose blob went missing (deleted under the message).
		gone := e.attach(deleting{blobs}, "image/jpeg", "b.jpg", "", []byte("\xff\xd8\xff jpeg"))
		d.Notify(e.ws.ID)
		if m := e.waitStatus(gone.ID, store.DeliveryFailed); !strings.Contains(m.Error, "attachment is gone") {
			t.Fatalf("a missing blob failed with %q", m.Error)
		}
	})
}

// deleting is a blob store whose Put deletes what it stored at once.
type deleting struct{ media.Blobs }

func (d deleting) Put(ctx context.Context, r io.Reader, limit int64) (media.Blob, error) {
	b, err := d.Blobs.Put(ctx, r, limit)
	if err == nil {
		err = d.Blobs.Delete(ctx, b.Key)
	}
	return b, err
}
