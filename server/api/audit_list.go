package api

import (
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type auditList struct {
	Entries    []store.AuditEntry `json:"entries"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

// listAudit serves GET /api/v1/audit?action=&cursor=&limit=: the
// workspace's audit log, newest first, in pages of limit (1..100, default
// 25) followed with cursor; action keeps one action's entries (see
// store.AuditInvitationCreated and the rest).
func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) {
	f := store.AuditFilter{Action: r.URL.Query().Get("action")}
	limit, err := queryInt(r, "limit", store.DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Limit = int(limit)
	if c := r.URL.Query().Get("cursor"); c != "" {
		// The cursor is the id of the last entry seen, opaque to clients.
		if f.Before, err = strconv.ParseInt(c, 10, 64); err != nil || f.Before <= 0 {
			h.fail(w, r, invalid("cursor", "not a cursor this endpoint returned"))
			return
		}
	}
	page, err := h.store.ListAudit(r.Context(), principal(r).Workspace.ID, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := auditList{Entries: page.Entries}
	if out.Entries == nil {
		out.Entries = []store.AuditEntry{}
	}
	if page.NextBefore != 0 {
		out.NextCursor = strconv.FormatInt(page.NextBefore, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
