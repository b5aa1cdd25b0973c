package api

import (
	"errors"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/drafts"
)

// draftStarted is the answer of POST /api/v1/conversations/{id}/draft.
type draftStarted struct {
	DraftID string `json:"draft_id"`
	// Channel is where the draft's events are published.
	Channel string `json:"channel"`
}

// startDraft serves POST /api/v1/conversations/{id}/draft: 202 with the
// new draft's id, whose draft.delta, draft.completed or draft.failed
// events follow on the conversation's presence channel. A running draft
// of the conversation is canceled. AI off for the workspace is 409
// ai_disabled, for the contact 409 contact_ai_off; a full queue is 503
// ai_busy.
func (h *handler) startDraft(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if h.ai == nil {
		h.fail(w, r, aiUnavailable())
		return
	}
	draftID, err := h.ai.Start(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		if errors.Is(err, drafts.ErrBusy) || errors.Is(err, drafts.ErrClosed) {
			w.Header().Set("Retry-After", "1")
		}
		h.fail(w, r, draftError(err))
		return
	}
	writeAccepted(w, draftStarted{DraftID: draftID, Channel: drafts.Channel(id)})
}

// draftError translates the drafts service's refusals.
func draftError(err error) error {
	switch {
	case errors.Is(err, drafts.ErrWorkspaceAIOff):
		return &requestError{status: http.StatusConflict, code: "ai_disabled", message: "AI drafts are turned off for this workspace (PUT /api/v1/ai/settings)"}
	case errors.Is(err, drafts.ErrContactAIOff):
		return &requestError{status: http.StatusConflict, code: "contact_ai_off", message: "AI processing is turned off for this conversation's contact (POST /api/v1/contacts/{id}/ai)"}
	case errors.Is(err, drafts.ErrBusy), errors.Is(err, drafts.ErrClosed):
		return &requestError{status: http.StatusServiceUnavailable, code: "ai_busy", message: "too many drafts are waiting; try again shortly"}
	}
	return err
}

// writeAccepted answers 202 with v: the work goes on after the answer.
func writeAccepted(w http.ResponseWriter, v any) { writeJSON(w, http.StatusAccepted, v) }
