package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type conversationList struct {
	Conversations []conversationRow `json:"conversations"`
	NextCursor    string            `json:"next_cursor,omitempty"`
}

// conversationRow is a conversation of the list, with what its row shows
// when asked for (include=preview).
type conversationRow struct {
	store.Conversation
	Contact     *store.ContactSummary `json:"contact,omitempty"`
	LastMessage *store.MessagePreview `json:"last_message,omitempty"`
}

// listConversations serves GET /api/v1/conversations: filters status,
// inbox_id, team_id, assignee (me, unassigned, any), label, unread=true;
// keyset pages of limit (1..100, default 25) followed with cursor. With
// include=preview each row also carries its contact's name and its newest
// message (store.ConversationPreviews, one more query), so a client
// draws the list without a request per row.
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
	var preview bool
	switch q.Get("include") {
	case "":
	case "preview":
		preview = true
	default:
		h.fail(w, r, invalid("include", "must be preview"))
		return
	}
	page, err := h.store.ListConversations(r.Context(), p.Workspace.ID, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := rowsOf(page)
	if preview && len(out.Conversations) > 0 {
		ids := make([]int64, len(out.Conversations))
		for i, c := range out.Conversations {
			ids[i] = c.ID
		}
		previews, err := h.store.ConversationPreviews(r.Context(), p.Workspace.ID, ids)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		by := make(map[int64]store.ConversationPreview, len(previews))
		for _, pv := range previews {
			by[pv.ConversationID] = pv
		}
		for i := range out.Conversations {
			if pv, ok := by[out.Conversations[i].ID]; ok {
				out.Conversations[i].Contact, out.Conversations[i].LastMessage = &pv.Contact, pv.LastMessage
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// rowsOf is a page of conversations as the API lists them.
func rowsOf(page store.ConversationPage) conversationList {
	out := conversationList{Conversations: make([]conversationRow, len(page.Conversations)), NextCursor: page.Next}
	for i, c := range page.Conversations {
		out.Conversations[i].Conversation = c
	}
	return out
}
