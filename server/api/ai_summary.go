package api

import (
	"context"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Summarizer is the optional capability of an AI (Options.AI) that
// summarizes conversations; an AI without it answers the summary endpoint
// with 503 ai_unavailable. server/drafts.Service has it.
type Summarizer interface {
	// Summarize computes, stores and returns the conversation's summary.
	Summarize(ctx context.Context, workspaceID, conversationID int64) (store.ConversationSummary, error)
}

// summarizeConversation serves POST /api/v1/conversations/{id}/summary:
// the conversation's summary, sentiment, intent and lead label, computed
// now and stored in place of the earlier one. AI off for the workspace is
// 409 ai_disabled, for the contact 409 contact_ai_off, and then nothing is
// stored.
func (h *handler) summarizeConversation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, ok := h.ai.(Summarizer)
	if !ok {
		h.fail(w, r, aiUnavailable())
		return
	}
	sum, err := s.Summarize(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, draftError(err))
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

// getConversationSummary serves GET /api/v1/conversations/{id}/summary:
// the stored summary; 404 not_found when the conversation has none yet.
func (h *handler) getConversationSummary(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sum, err := h.store.ConversationSummary(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}
