package api

import (
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type messageList struct {
	Messages   []store.Message `json:"messages"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// listMessages serves GET /api/v1/conversations/{id}/messages: newest
// first, pages of limit (1..100, default 25), the next page asked for with
// the previous page's next_cursor. The cursor is opaque to clients (today
// the id of the oldest message seen).
func (h *handler) listMessages(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", store.DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var before int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before <= 0 {
			h.fail(w, r, invalid("cursor", "malformed"))
			return
		}
	}
	msgs, err := h.store.ListMessages(r.Context(), principal(r).Workspace.ID, id, store.MessageFilter{BeforeID: before, Limit: int(limit)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := messageList{Messages: msgs}
	if out.Messages == nil {
		out.Messages = []store.Message{}
	}
	// A full page may have more behind it; a short one is the last.
	if len(msgs) == int(limit) {
		out.NextCursor = strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
