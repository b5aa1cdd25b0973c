package connector

import (
	"context"
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
