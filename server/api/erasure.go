package api

import (
	"context"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Erasure records requests to erase contacts and carries them out in
// the background (server/datarights.Service).
type Erasure interface {
	// RequestErasure records a pending request to erase the contact
	// (store.ErrNotFound when there is none) and wakes the worker.
	RequestErasure(ctx context.Context, workspaceID, contactID int64, by store.Actor) (store.ErasureRequest, error)
}

// eraseRequest is the body of POST /api/v1/contacts/{id}/erase: confirm
// must be true, so that nothing is erased by an empty or mistaken call.
type eraseRequest struct {
	Confirm *bool `json:"confirm"`
}

// eraseContact serves POST /api/v1/contacts/{id}/erase with
// {"confirm":true}: it records a request to erase the contact everywhere
// (store.ErasureStore says what goes) and answers 202 with it, pending;
// GET /api/v1/erasures/{id} follows it to completed. 503
// erasure_unavailable when the server runs no erasure worker.
func (h *handler) eraseContact(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req eraseRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.Confirm == nil || !*req.Confirm {
		h.fail(w, r, invalid("confirm", "must be true: erasing a contact cannot be undone"))
		return
	}
	if h.erasure == nil {
		h.fail(w, r, erasureUnavailable())
		return
	}
	p := principal(r)
	out, err := h.erasure.RequestErasure(r.Context(), p.Workspace.ID, id, store.ActorOf(p))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeAccepted(w, out)
}

// erasureUnavailable is the answer when the server runs no erasure
// worker.
func erasureUnavailable() error {
	return &requestError{status: http.StatusServiceUnavailable, code: "erasure_unavailable",
		message: "erasure does not run on this server"}
}

// erasureList is the answer of GET /api/v1/erasures.
type erasureList struct {
	Erasures []store.ErasureRequest `json:"erasures"`
}

// listErasures serves GET /api/v1/erasures?limit=: the workspace's
// erasure requests (an admin's and Meta's), newest first, with their
// status, counts and dates.
func (h *handler) listErasures(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", store.DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.store.ListErasureRequests(r.Context(), principal(r).Workspace.ID, int(limit))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if list == nil {
		list = []store.ErasureRequest{}
	}
	writeJSON(w, http.StatusOK, erasureList{Erasures: list})
}

// getErasure serves GET /api/v1/erasures/{id}.
func (h *handler) getErasure(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := h.store.ErasureRequest(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
