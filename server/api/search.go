package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type searchResult struct {
	Messages []store.Message `json:"messages"`
	Contacts []store.Contact `json:"contacts"`
}

// search serves GET /api/v1/search?q=...&limit=: full-text matches among
// the workspace's messages and contacts, best first, up to limit (1..100,
// default 25) of each.
func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	q, err := store.NormalizeQuery(r.URL.Query().Get("q"))
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
	var out searchResult
	if out.Messages, err = h.store.SearchMessages(r.Context(), ws, q, int(limit)); err != nil {
		h.fail(w, r, err)
		return
	}
	if out.Contacts, err = h.store.SearchContacts(r.Context(), ws, q, int(limit)); err != nil {
		h.fail(w, r, err)
		return
	}
	if out.Messages == nil {
		out.Messages = []store.Message{}
	}
	if out.Contacts == nil {
		out.Contacts = []store.Contact{}
	}
	writeJSON(w, http.StatusOK, out)
}
