package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// An agent's attachment goes out the Cloud API's way: the bytes are
// uploaded to POST /{phone_number_id}/media (multipart: messaging_product,
// type, file), which answers a media id, and the message names that id.
// No public link to this server is needed.

// Cloud API media limits (bytes) by message type.
const (
	maxImageBytes    = 5 << 20
	maxVideoBytes    = 16 << 20
	maxAudioBytes    = 16 << 20
	maxDocumentBytes = 100 << 20
)

// mediaObject is a media message's object, by uploaded media id.
type mediaObject struct {
	ID       string `json:"id"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// uploaded is an attachment uploaded to WhatsApp: the message type it
// goes as, and the object naming it.
type uploaded struct {
	kind   string
	object *mediaObject
}

// messageKind is the Cloud API message type an upload goes as: image
// (JPEG and PNG), video (MP4, 3GPP), audio (AAC, MP4, MPEG, AMR, OGG)
// within their size limits, and a document for everything else. Audio
// carries no caption on WhatsApp, so audio with a caption goes as a
// document too: nothing the agent wrote is dropped.
func messageKind(mimeType string, size int64, caption bool) string {
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(mimeType, ";", 2)[0]))
	switch {
	case (mt == "image/jpeg" || mt == "image/png") && size <= maxImageBytes:
		return "image"
	case (mt == "video/mp4" || mt == "video/3gpp") && size <= maxVideoBytes:
		return "video"
	case !caption && size <= maxAudioBytes && (mt == "audio/aac" || mt == "audio/mp4" || mt == "audio/mpeg" || mt == "audio/amr" || mt == "audio/ogg"):
		return "audio"
	}
	return "document"
}

type uploadResponse struct {
	ID string `json:"id"`
}

// upload sends a media message's one attachment to WhatsApp.
func (s *Sender) upload(ctx context.Context, cfg Config, m store.Message) (*uploaded, error) {
	if len(m.Media) != 1 {
		return nil, permanent("a WhatsApp media message carries exactly one attachment, not %d", len(m.Media))
	}
	if s.opts.Attachments == nil {
		return nil, permanent("this server cannot send attachments (no media store)")
	}
	md, body, err := s.opts.Attachments.Open(ctx, m.WorkspaceID, m.Media[0].ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, permanent("the attachment is gone (deleted by retention or erasure)")
	}
	if err != nil {
		return nil, &SendError{Message: "reading the attachment: " + err.Error(), err: err}
	}
	defer body.Close()
	if md.Size > maxDocumentBytes {
		return nil, permanent("the attachment is %d MB; WhatsApp takes at most 100 MB", md.Size>>20)
	}
	kind := messageKind(md.MimeType, md.Size, m.Body != "")
	mimeType := md.MimeType
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}

	// The multipart body is streamed: the file is never held in memory.
	pr, pw := io.Pipe()
	// However the request ends, the writer below stops: its next write
	// fails once the reading side is closed.
	defer pr.Close()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("messaging_product", "whatsapp"); err != nil {
				return err
			}
			if err := mw.WriteField("type", mimeType); err != nil {
				return err
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, fileName(md)))
			h.Set("Content-Type", mimeType)
			part, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, body); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	u := s.opts.GraphURL + "/" + s.opts.GraphVersion + "/" + url.PathEscape(cfg.PhoneNumberID) + "/media"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, pr)
	if err != nil {
		pr.CloseWithError(err)
		return nil, fmt.Errorf("whatsapp upload: %w", err)
	}
	hr.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
	hr.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := s.opts.Client.Do(hr)
	if err != nil {
		return nil, &SendError{Message: "uploading the attachment failed: " + err.Error(), err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &SendError{Status: resp.StatusCode, Message: "reading the upload's answer: " + err.Error(), err: err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, classify(resp.StatusCode, raw)
	}
	var ok uploadResponse
	if err := json.Unmarshal(raw, &ok); err != nil || ok.ID == "" {
		// Nothing was sent to the customer yet: trying again is safe.
		return nil, &SendError{Status: resp.StatusCode, Message: "the upload was answered without a media id"}
	}
	obj := &mediaObject{ID: ok.ID}
	switch kind {
	case "document":
		obj.Filename, obj.Caption = fileName(md), m.Body
	case "image", "video":
		obj.Caption = m.Body
	}
	return &uploaded{kind: kind, object: obj}, nil
}

// fileName is the name the customer sees on a document.
func fileName(md store.Media) string {
	if md.Filename != "" {
		return md.Filename
	}
	return "attachment"
}
