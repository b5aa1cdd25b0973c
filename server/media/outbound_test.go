package media_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// uploads is an AttachmentStore of stored uploads by id, all of workspace 1.
type uploads map[int64]store.Media

func (u uploads) Media(_ context.Context, workspaceID, id int64) (store.Media, error) {
	md, ok := u[id]
	if !ok || workspaceID != 1 {
		return store.Media{}, store.ErrNotFound
	}
	return md, nil
}

// TestSignedLinkNames: whatever an upload's file name (none, a path,
// dots, spaces and non-ASCII), its link is one path segment that a client
// does not rewrite, and it serves the file.
func TestSignedLinkNames(t *testing.T) {
	blobs, err := media.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := blobs.Put(context.Background(), strings.NewReader("%PDF-1.4"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st := uploads{}
	a := media.NewAttachments(media.AttachmentOptions{Store: st, Blobs: blobs, PublicURL: "http://placeholder", SecretKey: bytes.Repeat([]byte{1}, 32)})
	// Mounted as the server mounts it: the mux cleans paths.
	mux := http.NewServeMux()
	mux.Handle(media.PublicPath, a.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a = media.NewAttachments(media.AttachmentOptions{Store: st, Blobs: blobs, PublicURL: srv.URL, SecretKey: bytes.Repeat([]byte{1}, 32)})
	for i, name := range []string{"", "..", ".", "../../etc/passwd", "a/b/quote.pdf", "Angebot März 2026.pdf", "x?y#z.pdf"} {
		id := int64(i + 1)
		st[id] = store.Media{ID: id, WorkspaceID: 1, Provider: store.ProviderUpload, State: store.MediaStored, BlobKey: b.Key,
			MimeType: "application/pdf", Filename: name, Size: b.Size}
		u, err := a.URL(1, store.MediaRef{ID: id, MimeType: "application/pdf", Filename: name})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "%PDF-1.4" {
			t.Errorf("name %q: link %s answered %d", name, u, resp.StatusCode)
		}
	}
}
