// Package media owns inbound media: the blob store that keeps the bytes
// customers send (images, voice notes, documents) and the Downloader that
// fetches them from the providers into it.
//
// A connector describes each attachment of an inbound message as a
// store.NewMedia; the store keeps it, in the message's transaction, as a
// pending row of a durable download queue. The Downloader claims pending
// rows under a lease (several replicas share one database safely; a
// crashed replica's claims are taken over when their leases end), fetches
// each through its provider's Fetcher, streams it into the Blobs with a
// size limit that holds whatever the provider declares, and records the
// outcome: stored, retried with exponential backoff (network errors,
// 5xx, 429), or failed for good (other 4xx, too large). Each outcome
// appends message.updated, so agents' screens update live. Agents read
// the bytes through GET /api/v1/media/{id} (server/api), never from the
// provider.
//
// Blobs is the storage seam: Dir keeps blobs in a local directory; an
// S3-compatible object store can implement the same three methods.
//
// The API channel's attachments are links the source gave, not media a
// provider holds: they are kept as links and never downloaded, as fetching
// an arbitrary URL on a caller's behalf would let it probe the server's
// network (SSRF). Twilio, Messenger and Instagram URLs are fetched only
// when they arrived in a signature-checked webhook.
package media

import (
	"context"
	"errors"
	"io"
)

// DefaultMaxBytes is the largest media item stored when no limit is
// configured (SWITCHBOARD_MEDIA_MAX_BYTES).
const DefaultMaxBytes = 100 << 20

// Errors of Blobs.
var (
	// ErrTooLarge: the content is longer than the limit given to Put.
	ErrTooLarge = errors.New("media: larger than the size limit")
	// ErrNotFound: no blob has the key.
	ErrNotFound = errors.New("media: blob not found")
)

// Blob describes a stored blob.
type Blob struct {
	// Key names the blob; the store picks it, at random.
	Key  string
	Size int64
	// SHA256 is the content's digest, lower-case hex.
	SHA256 string
}

// Blobs keeps media bytes.
type Blobs interface {
	// Put stores r's content under a new key, failing with ErrTooLarge
	// (and storing nothing) once more than limit bytes were read.
	Put(ctx context.Context, r io.Reader, limit int64) (Blob, error)
	// Open returns a blob's content and size; ErrNotFound when there is
	// none. The content may also be an io.Seeker (a local file is), which
	// lets HTTP range requests be served.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Delete removes a blob; a missing one is no error.
	Delete(ctx context.Context, key string) error
}
