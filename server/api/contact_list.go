package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type contactList struct {
	Contacts   []store.Contact `json:"contacts"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// listContacts serves GET /api/v1/contacts: the workspace's contacts
// newest first (by id, so pages stay stable while contacts are edited),
// optionally only those whose name, email or phone match the full-text
// query q; keyset pages of limit (1..100, default 25) followed with
// cursor.
func (h *handler) listContacts(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", store.DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	page, err := h.store.ListContacts(r.Context(), principal(r).Workspace.ID, store.ContactFilter{
		Query: q.Get("q"), Limit: int(limit), Cursor: q.Get("cursor"),
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := contactList{Contacts: page.Contacts, NextCursor: page.Next}
	if out.Contacts == nil {
		out.Contacts = []store.Contact{}
	}
	writeJSON(w, http.StatusOK, out)
}
