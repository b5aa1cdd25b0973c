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
// private note (type note, with mentions), written by the calling agent.
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
	var req sendRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
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
		h.fail(w, r, invalid("type", "must be text, note or template"))
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
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !created.Duplicate {
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
