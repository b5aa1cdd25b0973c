package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// MediaState is where an inbound media item is on its way into the blob
// store.
type MediaState string

// The media states: pending waits for (or is in) a download, stored is in
// the blob store, failed was given up with an error.
const (
	MediaPending MediaState = "pending"
	MediaStored  MediaState = "stored"
	MediaFailed  MediaState = "failed"
)

// ErrMediaLeaseLost is returned by the media completion methods when the
// item is no longer claimed by the caller: its lease expired and another
// downloader claimed it, or it was completed already. It wraps
// ErrLeaseLost.
var ErrMediaLeaseLost = fmt.Errorf("store: media lease lost: %w", ErrLeaseLost)

// Bounds of a NewMedia.
const (
	MaxMediaSourceBytes = 8 << 10
	MaxMediaNameBytes   = 255
	MaxMediaCaption     = 4 << 10
)

// NewMedia is one attachment of a message, created with it by
// CreateMessage: an inbound message's, downloaded later, or an agent's
// upload for an outbound message, in the blob store already (Stored).
type NewMedia struct {
	// Provider picks the fetcher that downloads it: "whatsapp", "twilio",
	// "messenger", "instagram"; ProviderUpload for an agent's upload.
	Provider string
	// Source is what the fetcher needs, as a JSON object: the provider's
	// media id, or the URL to fetch.
	Source json.RawMessage
	// MimeType and Filename are what the provider said; either may be
	// empty.
	MimeType string
	Filename string
	Caption  string
	// Stored is the blob of an outbound attachment, which starts stored;
	// nil for an inbound one, which starts pending.
	Stored *StoredBlob
}

// ProviderUpload is the NewMedia.Provider of an agent's upload.
const ProviderUpload = "upload"

func (nm *NewMedia) normalize(i int) error {
	field := func(name string) string { return fmt.Sprintf("media[%d].%s", i, name) }
	nm.Provider = strings.TrimSpace(nm.Provider)
	switch {
	case nm.Provider == "" || len(nm.Provider) > 32:
		return Invalid(field("provider"), "required, at most 32 bytes")
	case len(nm.Source) > MaxMediaSourceBytes:
		return Invalid(field("source"), "longer than %d bytes", MaxMediaSourceBytes)
	case len(nm.MimeType) > MaxMediaNameBytes:
		return Invalid(field("mime_type"), "longer than %d bytes", MaxMediaNameBytes)
	case len(nm.Filename) > MaxMediaNameBytes:
		return Invalid(field("filename"), "longer than %d bytes", MaxMediaNameBytes)
	case len(nm.Caption) > MaxMediaCaption:
		return Invalid(field("caption"), "longer than %d bytes", MaxMediaCaption)
	case len(nm.Source) == 0:
		return Invalid(field("source"), "required")
	}
	return validObject(field("source"), nm.Source)
}

// MaxMediaPerMessage bounds NewMessage.Media.
const MaxMediaPerMessage = 20

// normalizeMedia checks a message's media: an inbound message's are to
// download; an outbound one's are uploads, stored already, and make it a
// media message that is queued for sending.
func normalizeMedia(m *NewMessage) error {
	if len(m.Media) == 0 {
		// A provider's echo of media sent elsewhere (Sent) has nothing
		// here to attach.
		if m.Direction == DirectionOut && m.Type == TypeMedia && !m.Sent {
			return Invalid("media", "a media message needs an attachment")
		}
		return nil
	}
	if len(m.Media) > MaxMediaPerMessage {
		return Invalid("media", "more than %d items", MaxMediaPerMessage)
	}
	for i := range m.Media {
		nm := &m.Media[i]
		if err := nm.normalize(i); err != nil {
			return err
		}
		switch {
		case m.Direction == DirectionIn && nm.Stored != nil:
			return Invalid(fmt.Sprintf("media[%d]", i), "an inbound message's media is downloaded, not uploaded")
		case m.Direction == DirectionOut && (nm.Stored == nil || nm.Stored.Key == "" || nm.Provider != ProviderUpload):
			return Invalid(fmt.Sprintf("media[%d]", i), "an outbound message's media is an upload, stored already")
		case m.Direction == DirectionOut && (m.Type != TypeMedia || m.Sent):
			return Invalid("type", "an outbound message with attachments is a media message, queued for sending")
		}
	}
	return nil
}

// MediaRef is a message's view of one of its media items, as the UI sees
// it in messages and their events; the bytes are at GET
// /api/v1/media/{id} once State is stored.
type MediaRef struct {
	ID       int64      `json:"id"`
	State    MediaState `json:"state"`
	MimeType string     `json:"mime_type,omitempty"`
	Filename string     `json:"filename,omitempty"`
	Size     int64      `json:"size,omitempty"`
}

// Media is one inbound media item and its download.
type Media struct {
	ID          int64
	WorkspaceID int64
	MessageID   int64
	InboxID     int64
	Provider    string
	Source      json.RawMessage
	MimeType    string
	Filename    string
	Caption     string
	State       MediaState
	// BlobKey, Size and SHA256 (hex) describe the stored blob.
	BlobKey string
	Size    int64
	SHA256  string
	// Error is why the last attempt failed.
	Error         string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// MediaJob is a media item claimed for download (ClaimMedia).
type MediaJob struct {
	Media Media
	// LockedUntil is when the claim's lease ends; it fences the
	// completion methods as OutboxEntry.LockedUntil does.
	LockedUntil time.Time
}

// StoredBlob is what MarkMediaStored records of a download.
type StoredBlob struct {
	Key    string
	Size   int64
	SHA256 string
	// MimeType, when not empty, replaces the item's (the provider's
	// answer may name it better than the webhook did).
	MimeType string
}
