package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// listContactConversations serves GET /api/v1/contacts/{id}/conversations:
// the contact's conversations newest activity first, in keyset pages of
// limit (1..100, default 25) followed with cursor, shaped like GET
// /api/v1/conversations. An unknown contact is 404, not an empty list.
func (h *handler) listContactConversations(w http.ResponseWriter, r *http.Request) {
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
	ws := principal(r).Workspace.ID
	if _, err := h.store.Contact(r.Context(), ws, id); err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.store.ListConversations(r.Context(), ws, store.ConversationFilter{
		ContactID: id, Limit: int(limit), Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rowsOf(page))
}
