package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// IdempotencyKeyHeader carries the client's key for a send; a retried send
// with the same key answers the first message instead of posting twice.
const IdempotencyKeyHeader = "Idempotency-Key"

type sendRequest struct {
	Body           string            `json:"body"`
	Type           store.MessageType `json:"type"`
	Mentions       []int64           `json:"mentions"`
	IdempotencyKey string            `json:"idempotency_key"`
	Template       *templateRequest  `json:"template"`
	// AIAssisted marks a reply written from an AI draft; DraftID, the
	// draft's id, implies it.
	AIAssisted bool   `json:"ai_assisted"`
	DraftID    string `json:"draft_id"`
}

// sendMessage serves POST /api/v1/conversations/{id}/messages: a reply
// (type text, queued for delivery through the outbox), a WhatsApp
// template (type template, allowed outside the 24-hour window) or a
// private note (type note, with mentions), or an agent's files (type
// media, multipart/form-data: see message_upload.go), written by the
// calling agent.
// A reply the channel's rules forbid (window closed, contact opted out)
// is 422 with the rule's code. A new message
// answers 201; a send whose idempotency key (header or body) was seen
// before answers 200 with the earlier message and writes nothing.
func (h *handler) sendMessage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var (
		req sendRequest
		up  upload
	)
	if isMultipart(r) {
		if up, err = h.decodeUpload(w, r); err != nil {
			h.fail(w, r, err)
			return
		}
		req = up.req
		if req.Type == "" && len(up.media) > 0 {
			req.Type = store.TypeMedia
		}
	} else if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	// The files are kept only by the new message that names them.
	keep := false
	defer func() {
		if !keep {
			h.discard(r.Context(), up)
		}
	}()
	key := r.Header.Get(IdempotencyKeyHeader)
	switch {
	case key == "":
		key = req.IdempotencyKey
	case req.IdempotencyKey != "" && req.IdempotencyKey != key:
		h.fail(w, r, invalid("idempotency_key", "differs from the "+IdempotencyKeyHeader+" header"))
		return
	}
	if req.Type == "" {
		req.Type = store.TypeText
	}
	var content []byte
	switch req.Type {
	case store.TypeText, store.TypeNote:
		if req.Template != nil {
			h.fail(w, r, invalid("template", "only a template message has one"))
			return
		}
		if len(up.media) > 0 {
			h.fail(w, r, invalid("type", "a message with files is a media message"))
			return
		}
	case store.TypeMedia:
		if len(up.media) == 0 {
			h.fail(w, r, invalid("file", "a media message needs a file, sent as multipart/form-data"))
			return
		}
	case store.TypeTemplate:
		if req.Body != "" {
			h.fail(w, r, invalid("body", "a template message's text is the template's; send parameters instead"))
			return
		}
		if content, req.Body, err = req.Template.content(); err != nil {
			h.fail(w, r, err)
			return
		}
	default:
		h.fail(w, r, invalid("type", "must be text, note, template or media"))
		return
	}
	p := principal(r)
	created, err := h.store.CreateMessage(r.Context(), p.Workspace.ID, store.NewMessage{
		ConversationID: id,
		Direction:      store.DirectionOut,
		AuthorKind:     store.AuthorAgent,
		AuthorAgentID:  p.Agent.ID,
		Type:           req.Type,
		Body:           req.Body,
		Content:        content,
		IdempotencyKey: key,
		Mentions:       req.Mentions,
		AIAssisted:     req.AIAssisted || req.DraftID != "",
		Media:          up.media,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !created.Duplicate {
		keep = true
		writeJSON(w, http.StatusCreated, created.Message)
		return
	}
	// Keys are unique per workspace; one reused for another conversation
	// is a client bug, not a retry.
	if created.Message.ConversationID != id {
		h.fail(w, r, &requestError{status: http.StatusConflict, code: "conflict",
			message: "this idempotency key was used for another conversation", field: "idempotency_key"})
		return
	}
	writeJSON(w, http.StatusOK, created.Message)
}
