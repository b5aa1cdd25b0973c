package api

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// DefaultEventPage is the events page size when the client names none.
const DefaultEventPage = 100

type eventList struct {
	Events    []store.Event `json:"events"`
	HasMore   bool          `json:"has_more"`
	LatestSeq int64         `json:"latest_seq"`
}

// listEvents serves GET /api/v1/events?after={seq}&limit=: exactly the
// workspace's events with seq > after, in order, in pages of limit
// (1..1000, default 100); has_more says to ask again after the last seq.
// When events after seq were pruned it answers 410 and the client must
// refetch state.
func (h *handler) listEvents(w http.ResponseWriter, r *http.Request) {
	after, err := queryInt(r, "after", 0, 0, 1<<62)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	limit, err := queryInt(r, "limit", DefaultEventPage, 1, store.MaxEventPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := h.store.EventsAfter(r.Context(), principal(r).Workspace.ID, after, int(limit))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := eventList{Events: page.Events, HasMore: page.HasMore, LatestSeq: page.LatestSeq}
	if out.Events == nil {
		out.Events = []store.Event{}
	}
	writeJSON(w, http.StatusOK, out)
}
