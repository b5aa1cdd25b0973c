package api

import (
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// getInboxAI serves GET /api/v1/inboxes/{id}/ai: the inbox's auto-reply
// settings (auto_reply off, min_confidence 0.8 until saved).
func (h *handler) getInboxAI(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.store.InboxAI(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// inboxAIRequest is the body of PUT /api/v1/inboxes/{id}/ai: fields left
// out keep their value.
type inboxAIRequest struct {
	AutoReply     *bool    `json:"auto_reply"`
	MinConfidence *float64 `json:"min_confidence"`
	// InboxID and UpdatedAt are what GET answers; accepted so a client
	// can PUT back what it read, and ignored.
	InboxID   *int64     `json:"inbox_id"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// putInboxAI serves PUT /api/v1/inboxes/{id}/ai: turn auto-replies on or
// off for the inbox and set how confident a draft must be to be sent.
func (h *handler) putInboxAI(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req inboxAIRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	wsID := principal(r).Workspace.ID
	in, err := h.store.Inbox(r.Context(), wsID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.store.InboxAI(r.Context(), wsID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if req.AutoReply != nil {
		s.AutoReply = *req.AutoReply
	}
	if req.MinConfidence != nil {
		s.MinConfidence = *req.MinConfidence
	}
	saved, err := h.store.SetInboxAI(r.Context(), wsID, id, s)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.audit(r, store.AuditInboxAIUpdated, in)
	writeJSON(w, http.StatusOK, saved)
}
