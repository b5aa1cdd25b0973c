package api

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Retention runs data retention for one workspace now
// (server/retention.Job).
type Retention interface {
	// RunWorkspace deletes what the workspace's retention settings
	// expire and returns the counts; with dryRun it deletes nothing and
	// returns what it would delete.
	RunWorkspace(ctx context.Context, workspaceID int64, dryRun bool) (store.RetentionCounts, error)
}

// getRetention serves GET /api/v1/retention.
func (h *handler) getRetention(w http.ResponseWriter, r *http.Request) {
	s, err := h.store.RetentionSettings(r.Context(), principal(r).Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// retentionRequest is the body of PUT /api/v1/retention: fields left out
// keep their value.
type retentionRequest struct {
	MessageDays *int `json:"message_days"`
	MediaDays   *int `json:"media_days"`
	EventDays   *int `json:"event_days"`
	// UpdatedAt is what GET answers; accepted so a client can PUT back
	// what it read, and ignored.
	UpdatedAt *time.Time `json:"updated_at"`
}

// putRetention serves PUT /api/v1/retention: how many days messages,
// media and the event log are kept. Out-of-range days are 400 invalid
// with the field; the change is in the audit log as retention.updated.
func (h *handler) putRetention(w http.ResponseWriter, r *http.Request) {
	var req retentionRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	p := principal(r)
	s, err := h.store.RetentionSettings(r.Context(), p.Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, f := range []struct {
		dst *int
		v   *int
	}{{&s.MessageDays, req.MessageDays}, {&s.MediaDays, req.MediaDays}, {&s.EventDays, req.EventDays}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	saved, err := h.store.SetRetentionSettings(r.Context(), p.Workspace.ID, s, store.ActorOf(p))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, saved)
}

// retentionRunRequest is the body of POST /api/v1/retention/run; dry_run
// is required, so that nothing is deleted by a forgotten field.
type retentionRunRequest struct {
	DryRun *bool `json:"dry_run"`
}

// retentionRunReply is the answer of POST /api/v1/retention/run: what
// was deleted, or with dry_run what would be.
type retentionRunReply struct {
	DryRun bool `json:"dry_run"`
	store.RetentionCounts
}

// runRetention serves POST /api/v1/retention/run: {"dry_run":true}
// counts what the workspace's settings expire now, {"dry_run":false}
// deletes it now. 503 retention_unavailable when the server runs no
// retention job.
func (h *handler) runRetention(w http.ResponseWriter, r *http.Request) {
	var req retentionRunRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if req.DryRun == nil {
		h.fail(w, r, invalid("dry_run", "required: true to count what would be deleted, false to delete it"))
		return
	}
	if h.retention == nil {
		h.fail(w, r, retentionUnavailable())
		return
	}
	n, err := h.retention.RunWorkspace(r.Context(), principal(r).Workspace.ID, *req.DryRun)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, retentionRunReply{DryRun: *req.DryRun, RetentionCounts: n})
}

// retentionUnavailable is the answer when the server runs no retention
// job.
func retentionUnavailable() error {
	return &requestError{status: http.StatusServiceUnavailable, code: "retention_unavailable",
		message: "data retention does not run on this server"}
}
