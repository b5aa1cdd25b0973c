package media

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Outbound media: an agent's attachments travel to the customer in one of
// two ways, whichever the provider takes. WhatsApp's sender uploads the
// bytes (Open); Twilio, Messenger, Instagram and the API channel's
// webhook get a link they fetch themselves (URL): a public URL of this
// server, signed with a key derived from SWITCHBOARD_SECRET_KEY and valid
// for DefaultURLTTL, that serves that one upload and nothing else.

// PublicPath is where the signed links are served:
// /media/public/{workspace}/{id}/{filename}?expires={unix}&signature={hex}.
const PublicPath = "/media/public/"

// DefaultURLTTL is how long a signed link works: long enough for a
// provider that fetches it late, or a retried send.
const DefaultURLTTL = 24 * time.Hour

// ErrNoPublicURL: a link cannot be made without SWITCHBOARD_PUBLIC_URL
// and SWITCHBOARD_SECRET_KEY; the send fails with this reason.
var ErrNoPublicURL = errors.New("sending media through this channel needs a public link to it: set SWITCHBOARD_PUBLIC_URL (and SWITCHBOARD_SECRET_KEY)")

// AttachmentStore is what Attachments reads.
type AttachmentStore interface {
	Media(ctx context.Context, workspaceID, mediaID int64) (store.Media, error)
}

// AttachmentOptions configure Attachments.
type AttachmentOptions struct {
	Store AttachmentStore
	Blobs Blobs
	// PublicURL is the server's base URL as the providers reach it; empty
	// makes no links.
	PublicURL string
	// SecretKey is SWITCHBOARD_SECRET_KEY; the links' signing key is
	// derived from it. Nil makes no links.
	SecretKey []byte
	// TTL is how long a link works; DefaultURLTTL when zero.
	TTL    time.Duration
	Logger *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// Attachments hands the channel senders an outbound message's uploads:
// their bytes, or signed public links to them; Handler serves the links.
type Attachments struct {
	opt AttachmentOptions
	key []byte
}

// NewAttachments returns Attachments.
func NewAttachments(opt AttachmentOptions) *Attachments {
	if opt.TTL <= 0 {
		opt.TTL = DefaultURLTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	a := &Attachments{opt: opt}
	if len(opt.SecretKey) > 0 {
		// A key of its own, so a link's signature says nothing of the
		// key that seals credentials.
		m := hmac.New(sha256.New, opt.SecretKey)
		m.Write([]byte("switchboard media link v1"))
		a.key = m.Sum(nil)
	}
	return a
}

// Open returns an upload of the workspace with its content, which the
// caller closes. Only an agent's stored upload opens: store.ErrNotFound
// for anything else.
func (a *Attachments) Open(ctx context.Context, workspaceID, mediaID int64) (store.Media, io.ReadCloser, error) {
	md, err := a.upload(ctx, workspaceID, mediaID)
	if err != nil {
		return store.Media{}, nil, err
	}
	body, _, err := a.opt.Blobs.Open(ctx, md.BlobKey)
	if errors.Is(err, ErrNotFound) {
		return store.Media{}, nil, fmt.Errorf("media: upload %d has no content: %w", mediaID, store.ErrNotFound)
	}
	if err != nil {
		return store.Media{}, nil, fmt.Errorf("media: open upload %d: %w", mediaID, err)
	}
	return md, body, nil
}

func (a *Attachments) upload(ctx context.Context, workspaceID, mediaID int64) (store.Media, error) {
	md, err := a.opt.Store.Media(ctx, workspaceID, mediaID)
	if err != nil {
		return store.Media{}, err
	}
	if md.Provider != store.ProviderUpload || md.State != store.MediaStored || md.BlobKey == "" {
		return store.Media{}, fmt.Errorf("media %d is not an agent's upload: %w", mediaID, store.ErrNotFound)
	}
	return md, nil
}

// URL returns a signed public link to an upload of the workspace, valid
// for the configured TTL; ErrNoPublicURL when links cannot be made.
func (a *Attachments) URL(workspaceID int64, ref store.MediaRef) (string, error) {
	if a.opt.PublicURL == "" || a.key == nil {
		return "", ErrNoPublicURL
	}
	expires := a.opt.Now().Add(a.opt.TTL).Unix()
	name := path.Base(ref.Filename)
	if name == "." || name == ".." || name == "/" {
		// No usable name (a client would fold "..", losing the path).
		name = "attachment" + extension(ref.MimeType)
	}
	q := url.Values{"expires": {strconv.FormatInt(expires, 10)}, "signature": {a.sign(workspaceID, ref.ID, expires)}}
	return fmt.Sprintf("%s%s%d/%d/%s?%s", a.opt.PublicURL, PublicPath, workspaceID, ref.ID, url.PathEscape(name), q.Encode()), nil
}

// extension is a file extension for a MIME type, "" when none is known.
func extension(mimeType string) string {
	if exts, _ := mime.ExtensionsByType(mimeType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

func (a *Attachments) sign(workspaceID, mediaID, expires int64) string {
	m := hmac.New(sha256.New, a.key)
	fmt.Fprintf(m, "%d:%d:%d", workspaceID, mediaID, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// Handler serves the signed links at PublicPath: no session or token, the
// signature is the authorization. A link that is malformed, badly signed,
// expired or names anything but a stored upload is 404, alike, so a
// prober learns nothing; the answer is made safe as the API's media is
// (nosniff, a sandboxing CSP).
func (a *Attachments) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		md, ok := a.verify(r)
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		body, size, err := a.opt.Blobs.Open(r.Context(), md.BlobKey)
		if err != nil {
			a.opt.Logger.Error("media: signed link to a missing blob", slog.Int64("workspace", md.WorkspaceID),
				slog.Int64("media", md.ID), slog.Any("err", err))
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		defer body.Close()
		hd := w.Header()
		ct := md.MimeType
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
			ct = "application/octet-stream"
		}
		hd.Set("Content-Type", ct)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", "sandbox")
		hd.Set("Cache-Control", "private, max-age=300")
		if rs, ok := body.(io.ReadSeeker); ok {
			http.ServeContent(w, r, "", time.Time{}, rs)
			return
		}
		hd.Set("Content-Length", strconv.FormatInt(size, 10))
		if r.Method != http.MethodHead {
			_, _ = io.Copy(w, body)
		}
	})
}

// verify checks a signed link and returns the upload it names.
func (a *Attachments) verify(r *http.Request) (store.Media, bool) {
	if a.key == nil {
		return store.Media{}, false
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, PublicPath), "/")
	if len(parts) != 3 {
		return store.Media{}, false
	}
	ws, err1 := strconv.ParseInt(parts[0], 10, 64)
	id, err2 := strconv.ParseInt(parts[1], 10, 64)
	expires, err3 := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
	sig, err4 := hex.DecodeString(r.URL.Query().Get("signature"))
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || ws <= 0 || id <= 0 {
		return store.Media{}, false
	}
	want, _ := hex.DecodeString(a.sign(ws, id, expires))
	if !hmac.Equal(sig, want) || a.opt.Now().Unix() > expires {
		return store.Media{}, false
	}
	md, err := a.upload(r.Context(), ws, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.opt.Logger.Error("media: signed link lookup", slog.Int64("media", id), slog.Any("err", err))
		}
		return store.Media{}, false
	}
	return md, true
}
