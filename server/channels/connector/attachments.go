package connector

import (
	"context"
	"errors"
	"io"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Attachments is how a channel's sender reaches an outbound media
// message's uploads (server/media.Attachments): their bytes, for a
// provider that takes an upload (WhatsApp), or a signed public link, for
// one that fetches it (Twilio, Messenger, Instagram, the API channel's
// webhook).
type Attachments interface {
	// Open returns an upload of the workspace and its content, which the
	// caller closes.
	Open(ctx context.Context, workspaceID, mediaID int64) (store.Media, io.ReadCloser, error)
	// URL returns a signed public link to an upload of the workspace, or
	// an error saying why none can be made.
	URL(workspaceID int64, ref store.MediaRef) (string, error)
}

// ErrNoMediaStore: a server without a media store sends no files.
var ErrNoMediaStore = errors.New("this server cannot send attachments (no media store)")

// AttachmentURLs returns signed public links to m's attachments, in
// order, for a sender whose provider fetches them itself; call it for a
// message that has media. Either error (no media store, no public URL) is
// permanent for the send.
func AttachmentURLs(a Attachments, m store.Message) ([]string, error) {
	if a == nil {
		return nil, ErrNoMediaStore
	}
	urls := make([]string, len(m.Media))
	for i, ref := range m.Media {
		u, err := a.URL(m.WorkspaceID, ref)
		if err != nil {
			return nil, err
		}
		urls[i] = u
	}
	return urls, nil
}
