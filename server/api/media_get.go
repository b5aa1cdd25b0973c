package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// MediaBlobs is the blob store (server/media.Blobs): GET
// /api/v1/media/{id} reads media bytes from it, and agents' attachments
// are put into it (message_upload.go).
type MediaBlobs interface {
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	Put(ctx context.Context, r io.Reader, limit int64) (media.Blob, error)
	Delete(ctx context.Context, key string) error
}

// mediaMaxAge is how long a browser may keep a media item: stored media
// never changes, but access to it can be cut, so not for long.
const mediaMaxAge = time.Hour

// mediaErrorBody is the error of a media item that has no bytes to
// serve: the usual error with the item's state.
type mediaErrorBody struct {
	Error struct {
		Code    string           `json:"code"`
		Message string           `json:"message"`
		State   store.MediaState `json:"state"`
	} `json:"error"`
}

// getMedia serves GET /api/v1/media/{id}: a stored media item's bytes,
// to members of its workspace only. The answer is made safe to open
// from the inbox's origin whatever the customer sent: nosniff, a
// sandboxing Content-Security-Policy, and inline display only for
// images (but SVG), audio and video.
func (h *handler) getMedia(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	md, err := h.store.Media(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch md.State {
	case store.MediaPending:
		writeMediaError(w, http.StatusConflict, "media_not_ready", "the media is still being downloaded from the provider", md.State)
		return
	case store.MediaFailed:
		writeMediaError(w, http.StatusConflict, "media_failed", "the media could not be downloaded: "+md.Error, md.State)
		return
	}
	if h.blobs == nil {
		mediaUnavailable(w)
		return
	}
	body, size, err := h.blobs.Open(r.Context(), md.BlobKey)
	if errors.Is(err, media.ErrNotFound) {
		h.log.Error("api: stored media has no blob", slog.Int64("workspace", md.WorkspaceID), slog.Int64("media", md.ID))
		writeError(w, http.StatusNotFound, "not_found", "the media's content is missing", "")
		return
	}
	if err != nil {
		h.fail(w, r, fmt.Errorf("open media %d: %w", md.ID, err))
		return
	}
	defer body.Close()

	hd := w.Header()
	ct := contentTypeOf(md.MimeType)
	hd.Set("Content-Type", ct)
	hd.Set("Content-Disposition", disposition(ct, md))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "sandbox")
	hd.Set("Cache-Control", "private, max-age="+strconv.Itoa(int(mediaMaxAge.Seconds())))
	if md.SHA256 != "" {
		hd.Set("ETag", `"`+md.SHA256+`"`)
	}
	if rs, ok := body.(io.ReadSeeker); ok {
		// Ranges, conditional requests and HEAD, for audio and video.
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	hd.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, body) // the client went away: nobody left to tell
	}
}

// mediaUnavailable answers for a server built without a blob store.
func mediaUnavailable(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, "unavailable", "this server has no media store", "")
}

func writeMediaError(w http.ResponseWriter, status int, code, message string, state store.MediaState) {
	var b mediaErrorBody
	b.Error.Code, b.Error.Message, b.Error.State = code, message, state
	writeJSON(w, status, b)
}

// contentTypeOf is the stored type when it parses, else
// application/octet-stream.
func contentTypeOf(stored string) string {
	mt, params, err := mime.ParseMediaType(stored)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return mime.FormatMediaType(mt, params)
}

// disposition shows images, audio and video inline and has everything
// else (SVG, which can carry script, included) downloaded under its
// filename.
func disposition(ct string, md store.Media) string {
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "image/svg+xml" && (strings.HasPrefix(mt, "image/") || strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/")) {
		return "inline"
	}
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, strings.TrimSpace(md.Filename))
	if name == "" {
		name = "media-" + strconv.FormatInt(md.ID, 10)
	}
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": name}); d != "" {
		return d
	}
	return "attachment"
}
