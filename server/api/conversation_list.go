package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type conversationList struct {
	Conversations []store.Conversation `json:"conversations"`
	NextCursor    string               `json:"next_cursor,omitempty"`
}

// listConversations serves GET /api/v1/conversations: filters status,
// inbox_id, team_id, assignee (me, unassigned, any), label, unread=true;
// keyset pages of limit (1..100, default 25) followed with cursor.
func (h *handler) listConversations(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q := r.URL.Query()
	f := store.ConversationFilter{
		Status:  store.Status(q.Get("status")),
		AgentID: p.Agent.ID,
		Label:   q.Get("label"),
		Cursor:  q.Get("cursor"),
	}
	var err error
	if f.InboxID, err = queryInt(r, "inbox_id", 0, 1, 1<<62); err != nil {
		h.fail(w, r, err)
		return
	}
	if f.TeamID, err = queryInt(r, "team_id", 0, 1, 1<<62); err != nil {
		h.fail(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", store.DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Limit = int(limit)
	switch q.Get("assignee") {
	case "", "any":
		f.Assignee = store.AssigneeAny
	case "me":
		f.Assignee = store.AssigneeMe
	case "unassigned":
		f.Assignee = store.AssigneeUnassigned
	default:
		h.fail(w, r, invalid("assignee", "must be me, unassigned or any"))
		return
	}
	switch q.Get("unread") {
	case "", "false":
	case "true":
		f.Unread = true
	default:
		h.fail(w, r, invalid("unread", "must be true or false"))
		return
	}
	page, err := h.store.ListConversations(r.Context(), p.Workspace.ID, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := conversationList{Conversations: page.Conversations, NextCursor: page.Next}
	if out.Conversations == nil {
		out.Conversations = []store.Conversation{}
	}
	writeJSON(w, http.StatusOK, out)
}
