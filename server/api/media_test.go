package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func newMediaDir(t testing.TB) *media.Dir {
	t.Helper()
	d, err := media.NewDir(filepath.Join(t.TempDir(), "media"))
	must(t, err)
	return d
}

// newMedia stores an inbound message of the tenant carrying one media
// item, as a connector would, and returns the item.
func newMedia(t testing.TB, st store.Store, tn tenant, mimeType, filename string) store.Media {
	t.Helper()
	m, err := st.CreateMessage(ctx(t), tn.ws.ID, store.NewMessage{
		ConversationID: tn.conv.ID, Direction: store.DirectionIn, Type: store.TypeMedia, Body: "[file]",
		ProviderMessageID: unique("wamid."),
		Media:             []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`{"id":"1"}`), MimeType: mimeType, Filename: filename}},
	})
	must(t, err)
	md, err := st.Media(ctx(t), tn.ws.ID, m.Message.Media[0].ID)
	must(t, err)
	return md
}

// claim claims the item as a downloader would (passing over the others
// due, which stay claimed for the minute).
func claim(t testing.TB, st store.Store, md store.Media) store.MediaJob {
	t.Helper()
	for {
		js, err := st.ClaimMedia(ctx(t), store.Now(), time.Minute, 100)
		must(t, err)
		if len(js) == 0 {
			t.Fatalf("media %d was not claimed", md.ID)
		}
		for _, j := range js {
			if j.Media.ID == md.ID {
				return j
			}
		}
	}
}

// storedMedia is newMedia downloaded: content is in blobs and the item
// stored.
func storedMedia(t testing.TB, st store.Store, blobs *media.Dir, tn tenant, mimeType, filename string, content []byte) store.Media {
	t.Helper()
	md := newMedia(t, st, tn, mimeType, filename)
	b, err := blobs.Put(ctx(t), bytes.NewReader(content), 1<<20)
	must(t, err)
	_, _, err = st.MarkMediaStored(ctx(t), claim(t, st, md), store.StoredBlob{Key: b.Key, Size: b.Size, SHA256: b.SHA256})
	must(t, err)
	md, err = st.Media(ctx(t), tn.ws.ID, md.ID)
	must(t, err)
	return md
}

func TestGetMedia(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		blobs := newMediaDir(t)
		base, _ := newServerWith(t, st, api.Options{Media: blobs})
		a, b := newTenant(t, st), newTenant(t, st)
		ca := client{t: t, base: base, token: a.token}
		path := func(md store.Media) string { return fmt.Sprintf("/api/v1/media/%d", md.ID) }

		photo := bytes.Repeat([]byte("\xff\xd8\xff photo "), 50)
		img := storedMedia(t, st, blobs, a, "image/jpeg", "IMG_0001.jpg", photo)
		pdf := storedMedia(t, st, blobs, a, "application/pdf", "Invoice März 2026.pdf", []byte("%PDF-1.7"))
		svg := storedMedia(t, st, blobs, a, "image/svg+xml", "", []byte("<svg onload=alert(1)/>"))
		bad := storedMedia(t, st, blobs, a, "not a type", "a\r\nb.txt", []byte("??"))

		t.Run("image inline", func(t *testing.T) {
			r := ca.do("GET", path(img), "")
			if r.status != http.StatusOK || !bytes.Equal(r.body, photo) {
				t.Fatalf("%d, %d bytes", r.status, len(r.body))
			}
			for name, want := range map[string]string{
				"Content-Type": "image/jpeg", "Content-Length": fmt.Sprint(len(photo)), "Content-Disposition": "inline",
				"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
				"Cache-Control": "private, max-age=3600", "ETag": `"` + img.SHA256 + `"`,
			} {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
		t.Run("document as an attachment", func(t *testing.T) {
			r := ca.do("GET", path(pdf), "")
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("%d %v", r.status, r.header)
			}
			if got, want := r.header.Get("Content-Disposition"), `attachment; filename*=utf-8''Invoice%20M%C3%A4rz%202026.pdf`; got != want {
				t.Errorf("Content-Disposition %q, want %q", got, want)
			}
		})
		t.Run("SVG never inline", func(t *testing.T) {
			r := ca.do("GET", path(svg), "")
			if r.status != http.StatusOK || r.header.Get("Content-Disposition") != fmt.Sprintf(`attachment; filename=media-%d`, svg.ID) {
				t.Errorf("%d Content-Disposition %q", r.status, r.header.Get("Content-Disposition"))
			}
		})
		t.Run("unusable type and filename", func(t *testing.T) {
			r := ca.do("GET", path(bad), "")
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/octet-stream" ||
				r.header.Get("Content-Disposition") != `attachment; filename=a__b.txt` {
				t.Errorf("%d %q %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Disposition"))
			}
		})
		t.Run("range", func(t *testing.T) {
			r := ca.do("GET", path(img), "", "Range", "bytes=0-3")
			if r.status != http.StatusPartialContent || !bytes.Equal(r.body, photo[:4]) {
				t.Errorf("%d %q", r.status, r.body)
			}
		})
		t.Run("not modified", func(t *testing.T) {
			r := ca.do("GET", path(img), "", "If-None-Match", `"`+img.SHA256+`"`)
			if r.status != http.StatusNotModified || len(r.body) != 0 {
				t.Errorf("%d, %d bytes", r.status, len(r.body))
			}
		})
		t.Run("HEAD", func(t *testing.T) {
			r := ca.do("HEAD", path(img), "")
			if r.status != http.StatusOK || len(r.body) != 0 || r.header.Get("Content-Length") != fmt.Sprint(len(photo)) {
				t.Errorf("%d, %d bytes, length %q", r.status, len(r.body), r.header.Get("Content-Length"))
			}
		})
		t.Run("another workspace's", func(t *testing.T) {
			client{t: t, base: base, token: b.token}.do("GET", path(img), "").wantError(t, http.StatusNotFound, "not_found", "")
		})
		t.Run("unknown", func(t *testing.T) {
			ca.do("GET", "/api/v1/media/999999999", "").wantError(t, http.StatusNotFound, "not_found", "")
			ca.do("GET", "/api/v1/media/abc", "").wantError(t, http.StatusNotFound, "not_found", "")
			ca.do("GET", "/api/v1/media/-1", "").wantError(t, http.StatusNotFound, "not_found", "")
		})
		t.Run("no token", func(t *testing.T) {
			client{t: t, base: base}.do("GET", path(img), "").wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		})
		t.Run("wrong method", func(t *testing.T) {
			ca.do("DELETE", path(img), "").wantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
		})
		t.Run("pending", func(t *testing.T) {
			md := newMedia(t, st, a, "image/png", "")
			r := ca.do("GET", path(md), "")
			r.wantError(t, http.StatusConflict, "media_not_ready", "")
			if !strings.Contains(string(r.body), `"state":"pending"`) {
				t.Errorf("body %s does not give the state", r.body)
			}
		})
		t.Run("failed", func(t *testing.T) {
			md := newMedia(t, st, a, "image/png", "")
			_, _, err := st.FailMedia(ctx(t), claim(t, st, md), "HTTP 404: media expired")
			must(t, err)
			r := ca.do("GET", path(md), "")
			e := r.wantError(t, http.StatusConflict, "media_failed", "")
			if !strings.Contains(e.Error.Message, "media expired") || !strings.Contains(string(r.body), `"state":"failed"`) {
				t.Errorf("body %s", r.body)
			}
		})
		t.Run("blob gone", func(t *testing.T) {
			md := storedMedia(t, st, blobs, a, "image/png", "", []byte("png"))
			must(t, blobs.Delete(ctx(t), md.BlobKey))
			ca.do("GET", path(md), "").wantError(t, http.StatusNotFound, "not_found", "")
		})
		t.Run("no blob store", func(t *testing.T) {
			bare, _ := newServer(t, st)
			client{t: t, base: bare, token: a.token}.do("GET", path(img), "").wantError(t, http.StatusServiceUnavailable, "unavailable", "")
		})
		t.Run("listed with its message", func(t *testing.T) {
			var page struct {
				Messages []store.Message `json:"messages"`
			}
			ca.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), "").ok(t, http.StatusOK, &page)
			found := false
			for _, m := range page.Messages {
				for _, ref := range m.Media {
					if ref.ID == img.ID {
						found = ref.State == store.MediaStored && ref.Size == int64(len(photo)) && ref.MimeType == "image/jpeg" && ref.Filename == "IMG_0001.jpg"
					}
				}
			}
			if !found {
				t.Errorf("the stored image is not listed with its message: %+v", page.Messages)
			}
		})
	})
}

func FuzzMediaHeaders(f *testing.F) {
	f.Add("image/jpeg", "IMG_0001.jpg")
	f.Add("text/html; charset=utf-8", "index.html")
	f.Add("image/svg+xml", "a\r\nSet-Cookie: x=1")
	f.Add("", "../../etc/passwd")
	f.Fuzz(func(t *testing.T, mimeType, filename string) {
		ct, cd := api.MediaHeaders(mimeType, filename, 7)
		for _, v := range []string{ct, cd} {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("header value %q", v)
			}
		}
		if cd == "inline" && !(strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "audio/") || strings.HasPrefix(ct, "video/")) {
			t.Errorf("%q shown inline", ct)
		}
		if strings.HasPrefix(ct, "image/svg+xml") && cd == "inline" {
			t.Error("SVG shown inline")
		}
	})
}
