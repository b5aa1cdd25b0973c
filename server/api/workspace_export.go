package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// exportWorkspace serves GET /api/v1/export: the whole workspace as an
// archive (server/archive), streamed as it is read, for a backup or a
// move to another server. Only owners and admins may (manage_workspace):
// the archive holds every conversation, the Pusher secret and token
// hashes. Every export is recorded in the audit log as workspace.exported
// before the first byte goes out. A failure once streaming has begun
// aborts the connection, so the client is left with a truncated archive,
// which an import refuses, rather than a short one that looks whole.
func (h *handler) exportWorkspace(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if h.blobs == nil {
		mediaUnavailable(w)
		return
	}
	filename := fmt.Sprintf("switchboard-workspace-%d-%s.tar.gz", p.Workspace.ID, time.Now().UTC().Format("20060102-150405"))
	if r.Method == http.MethodHead {
		exportHeaders(w, filename)
		w.WriteHeader(http.StatusOK)
		return
	}
	by := store.ActorOf(p)
	details, _ := json.Marshal(map[string]any{"via": "api", "format_version": archive.FormatVersion})
	err := h.store.RecordAudit(r.Context(), p.Workspace.ID, store.AuditEntry{
		ActorID: by.AgentID, TokenID: by.TokenID, Action: store.AuditWorkspaceExported,
		TargetKind: store.AuditTargetWorkspace, TargetID: p.Workspace.ID, Details: details,
	})
	if err != nil {
		h.fail(w, r, fmt.Errorf("export: audit: %w", err))
		return
	}
	sw := &startedWriter{w: w, start: func() { exportHeaders(w, filename) }}
	m, err := archive.Export(r.Context(), h.store, h.blobs, p.Workspace.ID, sw, archive.ExportOptions{})
	if err != nil {
		if !sw.started {
			h.fail(w, r, fmt.Errorf("export: %w", err))
			return
		}
		h.log.Error("api: workspace export failed mid-stream", slog.Int64("workspace", p.Workspace.ID), slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
	h.log.Info("workspace exported", slog.Int64("workspace", p.Workspace.ID), slog.Int("tables", len(m.Tables)), slog.Int64("media", m.Media.Files))
}

func exportHeaders(w http.ResponseWriter, filename string) {
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// startedWriter sets the answer's headers on the first write, so that an
// export failing before it wrote anything can still answer a JSON error.
type startedWriter struct {
	w       http.ResponseWriter
	start   func()
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.start()
	}
	return s.w.Write(p)
}
