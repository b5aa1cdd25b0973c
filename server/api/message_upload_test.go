package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// file is one file part of a multipart send.
type file struct {
	name, mime string
	content    []byte
}

// multipartBody encodes fields (name, value pairs) and files as
// multipart/form-data, returning the body and its Content-Type.
func multipartBody(t testing.TB, fields []string, files ...file) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		must(t, mw.WriteField(fields[i], fields[i+1]))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.name))
		if f.mime != "" {
			h.Set("Content-Type", f.mime)
		}
		p, err := mw.CreatePart(h)
		must(t, err)
		_, err = p.Write(f.content)
		must(t, err)
	}
	must(t, mw.Close())
	return buf.String(), mw.FormDataContentType()
}

// blobCount counts the blobs in the media directory (temporary files
// of a Put in progress are not blobs).
func blobCount(t testing.TB, dir string) int {
	t.Helper()
	n := 0
	must(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") && !strings.Contains(d.Name(), "tmp") {
			n++
		}
		return err
	}))
	return n
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 600)...)

// TestSendFiles: an agent's files, sent as multipart/form-data, become a
// media message with stored uploads the agent can read back; a retried
// send keeps one copy; every refused send (too large, too many for the
// channel, outside the window, malformed, another workspace's
// conversation) is a clear error that keeps no file and no message.
func TestSendFiles(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		dir := filepath.Join(t.TempDir(), "media")
		blobs, err := media.NewDir(dir)
		must(t, err)
		base, _ := newServerWith(t, st, api.Options{Media: blobs, MaxUploadBytes: 64 << 10})
		a, b := newTenant(t, st), newTenant(t, st)
		ca := client{t: t, base: base, token: a.token}
		send := func(convID int64, fields []string, files ...file) reply {
			t.Helper()
			body, ct := multipartBody(t, fields, files...)
			return ca.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", convID), body, "Content-Type", ct)
		}

		r := send(a.conv.ID, []string{"body", "The chart you asked for", "idempotency_key", "k-1"},
			file{"chart.png", "image/png", pngBytes}, file{"data.bin", "application/octet-stream", []byte("%PDF-1.4 sniffed")})
		if r.status != http.StatusCreated {
			t.Fatalf("send: %d %s", r.status, r.body)
		}
		var m store.Message
		must(t, json.Unmarshal(r.body, &m))
		if m.Type != store.TypeMedia || m.Body != "The chart you asked for" || m.Status != store.DeliveryQueued || len(m.Media) != 2 {
			t.Fatalf("message %s", r.body)
		}
		if ref := m.Media[0]; ref.State != store.MediaStored || ref.MimeType != "image/png" || ref.Filename != "chart.png" || ref.Size != int64(len(pngBytes)) {
			t.Errorf("first file %+v", ref)
		}
		if ref := m.Media[1]; ref.MimeType != "application/pdf" || ref.Filename != "data.bin" {
			t.Errorf("an octet-stream part was not sniffed: %+v", ref)
		}
		got := ca.do("GET", fmt.Sprintf("/api/v1/media/%d", m.Media[0].ID), "")
		if got.status != http.StatusOK || !bytes.Equal(got.body, pngBytes) {
			t.Fatalf("reading the upload back: %d, %d bytes", got.status, len(got.body))
		}
		if n := blobCount(t, dir); n != 2 {
			t.Fatalf("%d blobs, want 2", n)
		}

		// A retry answers the first message and keeps no second copy.
		r = send(a.conv.ID, []string{"body", "The chart you asked for", "idempotency_key", "k-1"},
			file{"chart.png", "image/png", pngBytes}, file{"data.bin", "", []byte("%PDF-1.4 sniffed")})
		var again store.Message
		must(t, json.Unmarshal(r.body, &again))
		if r.status != http.StatusOK || again.ID != m.ID {
			t.Fatalf("retry: %d %s", r.status, r.body)
		}
		if n := blobCount(t, dir); n != 2 {
			t.Fatalf("%d blobs after a retry, want 2", n)
		}

		// A WhatsApp conversation: one file per message, within 24 hours.
		wa, err := st.CreateInbox(ctx(t), a.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "WhatsApp"})
		must(t, err)
		waConv, _, err := st.CreateConversation(ctx(t), a.ws.ID, store.NewConversation{InboxID: wa.ID, ContactID: a.contact.ID})
		must(t, err)

		before, err := st.ListMessages(ctx(t), a.ws.ID, waConv.ID, store.MessageFilter{Limit: 100})
		must(t, err)
		png := file{"a.png", "image/png", pngBytes}
		for _, tc := range []struct {
			name   string
			conv   int64
			fields []string
			files  []file
			status int
			code   string
			field  string
		}{
			{"outside the window", waConv.ID, nil, []file{png}, http.StatusUnprocessableEntity, store.CodeOutsideWindow, ""},
			{"too large", a.conv.ID, nil, []file{{"big.bin", "", bytes.Repeat([]byte("x"), 65<<10)}}, http.StatusRequestEntityTooLarge, "payload_too_large", "file"},
			{"empty", a.conv.ID, nil, []file{{"empty.txt", "text/plain", nil}}, http.StatusBadRequest, "invalid", "file"},
			{"text with a file", a.conv.ID, []string{"type", "text", "body", "hi"}, []file{png}, http.StatusBadRequest, "invalid", "type"},
			{"media without a file", a.conv.ID, []string{"type", "media", "body", "hi"}, nil, http.StatusBadRequest, "invalid", "file"},
			{"unknown field", a.conv.ID, []string{"colour", "red"}, []file{png}, http.StatusBadRequest, "unknown_field", "colour"},
			{"a field twice", a.conv.ID, []string{"body", "a", "body", "b"}, []file{png}, http.StatusBadRequest, "invalid", "body"},
			{"bad ai_assisted", a.conv.ID, []string{"ai_assisted", "maybe"}, []file{png}, http.StatusBadRequest, "invalid", "ai_assisted"},
			{"another workspace's conversation", b.conv.ID, nil, []file{png}, http.StatusNotFound, "not_found", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := send(tc.conv, tc.fields, tc.files...)
				var e struct {
					Error struct{ Code, Field string }
				}
				_ = json.Unmarshal(r.body, &e)
				if r.status != tc.status || e.Error.Code != tc.code || e.Error.Field != tc.field {
					t.Fatalf("%d %s, want %d %s field %q", r.status, r.body, tc.status, tc.code, tc.field)
				}
				if n := blobCount(t, dir); n != 2 {
					t.Fatalf("%d blobs after a refused send, want still 2", n)
				}
			})
		}
		// Inside the window, two files are still one too many for WhatsApp.
		_, err = st.CreateMessage(ctx(t), a.ws.ID, store.NewMessage{ConversationID: waConv.ID, Direction: store.DirectionIn,
			Body: "hello", ProviderMessageID: unique("wamid.")})
		must(t, err)
		r = send(waConv.ID, nil, png, png)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), store.CodeTooManyAttachments) {
			t.Fatalf("two files to WhatsApp: %d %s", r.status, r.body)
		}
		if r = send(waConv.ID, []string{"body", "Here you go"}, png); r.status != http.StatusCreated {
			t.Fatalf("one file to WhatsApp: %d %s", r.status, r.body)
		}
		after, err := st.ListMessages(ctx(t), a.ws.ID, waConv.ID, store.MessageFilter{Limit: 100})
		must(t, err)
		if len(after) != len(before)+2 { // the customer's message and the one file
			t.Fatalf("%d messages written, want 2", len(after)-len(before))
		}
		if n := blobCount(t, dir); n != 3 {
			t.Fatalf("%d blobs, want 3", n)
		}

		// Malformed multipart and no media store.
		r = ca.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), "--x\r\nnot a part", "Content-Type", "multipart/form-data; boundary=x")
		if r.status != http.StatusBadRequest {
			t.Errorf("malformed multipart: %d %s", r.status, r.body)
		}
		bare, _ := newServerWith(t, st, api.Options{})
		body, ct := multipartBody(t, nil, png)
		r = client{t: t, base: bare, token: a.token}.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), body, "Content-Type", ct)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("without a media store: %d %s", r.status, r.body)
		}
	})
}
