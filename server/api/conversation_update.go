package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// conversationPatch is the body of PATCH /api/v1/conversations/{id}. The
// fields stay raw so that absent (leave alone) and null (clear) differ.
type conversationPatch struct {
	Status       json.RawMessage `json:"status"`
	AssigneeID   json.RawMessage `json:"assignee_id"`
	TeamID       json.RawMessage `json:"team_id"`
	Priority     json.RawMessage `json:"priority"`
	SnoozedUntil json.RawMessage `json:"snoozed_until"`
}

// update maps the patch onto a store.ConversationUpdate: null assignee_id
// or team_id unassigns, null snoozed_until is the same as absent (any
// status but snoozed clears it), null status or priority is invalid.
func (p conversationPatch) update() (store.ConversationUpdate, error) {
	var u store.ConversationUpdate
	var err error
	if u.Status, err = optional[store.Status](p.Status, "status", false); err != nil {
		return u, err
	}
	if u.Priority, err = optional[store.Priority](p.Priority, "priority", false); err != nil {
		return u, err
	}
	if u.AssigneeID, err = optional[int64](p.AssigneeID, "assignee_id", true); err != nil {
		return u, err
	}
	if u.TeamID, err = optional[int64](p.TeamID, "team_id", true); err != nil {
		return u, err
	}
	if u.SnoozedUntil, err = optional[time.Time](p.SnoozedUntil, "snoozed_until", true); err != nil {
		return u, err
	}
	if string(p.SnoozedUntil) == "null" {
		u.SnoozedUntil = nil
	}
	if u == (store.ConversationUpdate{}) {
		return u, invalid("", "nothing to change")
	}
	return u, nil
}

// optional decodes one patch field: nil when absent, a pointer to the zero
// value for null when nullOK, the value otherwise.
func optional[T any](raw json.RawMessage, field string, nullOK bool) (*T, error) {
	if raw == nil {
		return nil, nil
	}
	v := new(T)
	if string(raw) == "null" {
		if !nullOK {
			return nil, invalid(field, "must not be null")
		}
		return v, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, invalid(field, "has the wrong type or format")
	}
	return v, nil
}

// updateConversation serves PATCH /api/v1/conversations/{id}.
func (h *handler) updateConversation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var patch conversationPatch
	if err := h.decodeBody(w, r, &patch); err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := patch.update()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, _, err := h.store.UpdateConversation(r.Context(), principal(r).Workspace.ID, id, u)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
