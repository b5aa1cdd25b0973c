package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// An agent's attachments are sent as multipart/form-data to the same
// POST /conversations/{id}/messages: one or more "file" parts, and the
// JSON body's fields as form fields (body, type, idempotency_key,
// ai_assisted, draft_id). Each file streams into the blob store (never
// held whole in memory) under Options.MaxUploadBytes; the message is
// then created with them as stored uploads. A send that is refused, or is
// a retry of one already made, keeps none of its files.

// maxUploadFiles bounds the files of one send: the most any channel
// carries in one message (store.MaxOutboundAttachments).
const maxUploadFiles = 10

// maxFormFieldBytes bounds one non-file form field.
const maxFormFieldBytes = store.MaxBodyBytes

// isMultipart reports whether r's body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// upload is what a multipart send carried: the request fields and the
// files, stored already.
type upload struct {
	req   sendRequest
	media []store.NewMedia
}

// discard deletes the upload's files from the blob store.
func (h *handler) discard(ctx context.Context, u upload) {
	for _, m := range u.media {
		if err := h.blobs.Delete(context.WithoutCancel(ctx), m.Stored.Key); err != nil {
			h.log.Warn("api: an unused upload was not deleted", slog.String("blob", m.Stored.Key), slog.Any("err", err))
		}
	}
}

// decodeUpload reads a multipart send. On error the files stored so far
// are deleted.
func (h *handler) decodeUpload(w http.ResponseWriter, r *http.Request) (u upload, err error) {
	if h.blobs == nil {
		return upload{}, &requestError{status: http.StatusServiceUnavailable, code: "unavailable", message: "this server has no media store, so it takes no attachments"}
	}
	defer func() {
		if err != nil {
			h.discard(r.Context(), u)
		}
	}()
	// The files, their fields and headers; beyond it the body is cut.
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadFiles*h.maxUpload+h.maxBody)
	mr, err := r.MultipartReader()
	if err != nil {
		return u, invalid("body", "not a multipart/form-data body: "+err.Error())
	}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return u, uploadError(err, h.maxUpload)
		}
		name := part.FormName()
		if name == "file" {
			if len(u.media) == maxUploadFiles {
				return u, invalid("file", fmt.Sprintf("at most %d files in one message", maxUploadFiles))
			}
			nm, err := h.storeFile(r.Context(), part)
			if err != nil {
				return u, err
			}
			u.media = append(u.media, nm)
			continue
		}
		if seen[name] {
			return u, invalid(name, "given twice")
		}
		seen[name] = true
		raw, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
		if err != nil {
			return u, uploadError(err, h.maxUpload)
		}
		if len(raw) > maxFormFieldBytes {
			return u, invalid(name, fmt.Sprintf("longer than %d bytes", maxFormFieldBytes))
		}
		v := string(raw)
		switch name {
		case "body":
			u.req.Body = v
		case "type":
			u.req.Type = store.MessageType(v)
		case "idempotency_key":
			u.req.IdempotencyKey = v
		case "draft_id":
			u.req.DraftID = v
		case "ai_assisted":
			if u.req.AIAssisted, err = strconv.ParseBool(v); err != nil {
				return u, invalid(name, "must be true or false")
			}
		default:
			return u, &requestError{status: http.StatusBadRequest, code: "unknown_field", message: "unknown field " + strconv.Quote(name), field: name}
		}
	}
	return u, nil
}

// storeFile streams one file part into the blob store.
func (h *handler) storeFile(ctx context.Context, part *multipart.Part) (store.NewMedia, error) {
	br := bufio.NewReaderSize(part, 512)
	head, _ := br.Peek(512) // a short file peeks short; its error comes back from Put
	mimeType := part.Header.Get("Content-Type")
	if mt, params, err := mime.ParseMediaType(mimeType); err != nil || mt == "application/octet-stream" {
		// Undeclared or generic: what the content looks like.
		mimeType = http.DetectContentType(head)
	} else {
		mimeType = mime.FormatMediaType(mt, params)
	}
	b, err := h.blobs.Put(ctx, br, h.maxUpload)
	if err != nil {
		return store.NewMedia{}, uploadError(err, h.maxUpload)
	}
	if b.Size == 0 {
		_ = h.blobs.Delete(context.WithoutCancel(ctx), b.Key)
		return store.NewMedia{}, invalid("file", "the file is empty")
	}
	return store.NewMedia{Provider: store.ProviderUpload, Source: []byte(`{}`), MimeType: connector.TruncateUTF8(mimeType, store.MaxMediaNameBytes),
		Filename: cleanFilename(part.FileName()), Stored: &store.StoredBlob{Key: b.Key, Size: b.Size, SHA256: b.SHA256}}, nil
}

// uploadError classifies a failure reading a multipart body.
func uploadError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			message: fmt.Sprintf("a file is larger than %d bytes", limit), field: "file"}
	case errors.As(err, &tooBig):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			message: fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)}
	}
	return invalid("body", "malformed multipart body: "+err.Error())
}

// cleanFilename keeps a file name's last element, without control
// characters, at most store.MaxMediaNameBytes.
func cleanFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	return connector.TruncateUTF8(name, store.MaxMediaNameBytes)
}
