package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

type consentView struct {
	ContactID  int64                 `json:"contact_id"`
	OptedOutAt *time.Time            `json:"opted_out_at"`
	Records    []store.ConsentRecord `json:"records"`
}

// contactConsent answers a contact's consent state and history.
func (h *handler) contactConsent(w http.ResponseWriter, r *http.Request, status int, c store.Contact) {
	recs, err := h.store.ConsentRecords(r.Context(), c.WorkspaceID, c.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, status, consentView{ContactID: c.ID, OptedOutAt: c.OptedOutAt, Records: recs})
}

// getConsent serves GET /api/v1/contacts/{id}/consent: whether the contact
// has opted out of messages, and every opt-out and opt-in with when, on
// which channel and how, oldest first.
func (h *handler) getConsent(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.store.Contact(r.Context(), principal(r).Workspace.ID, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.contactConsent(w, r, http.StatusOK, c)
}

type consentRequest struct {
	OptedOut *bool `json:"opted_out"`
}

// setConsent serves POST /api/v1/contacts/{id}/consent with
// {"opted_out": true|false}: an agent records an opt-out the contact asked
// for some other way (by phone, by email), or an opt-in. Setting the state
// the contact is already in changes nothing.
func (h *handler) setConsent(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req consentRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.OptedOut == nil {
		h.fail(w, r, invalid("opted_out", "required: true or false"))
		return
	}
	p := principal(r)
	c, _, err := h.store.SetContactOptOut(r.Context(), p.Workspace.ID, id, store.ConsentChange{
		OptedOut: *req.OptedOut, Channel: "api", Source: "agent:" + strconv.FormatInt(p.Agent.ID, 10),
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.contactConsent(w, r, http.StatusOK, c)
}
