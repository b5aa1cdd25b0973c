package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// recordAudit appends e to the workspace's audit log through q, inside
// the transaction of the change it records when q is one.
func recordAudit(ctx context.Context, q queryer, workspaceID int64, e store.AuditEntry) error {
	if err := e.Normalize(store.Now()); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_log (workspace_id, actor_kind, actor_id, token_id, action, target_kind, target_id, details, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		workspaceID, e.ActorKind, nullID(e.ActorID), nullID(e.TokenID), e.Action, e.TargetKind, nullID(e.TargetID), string(e.Details), micros(e.CreatedAt))
	if isForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// RecordAudit appends an entry to the workspace's audit log.
func (s *Store) RecordAudit(ctx context.Context, workspaceID int64, e store.AuditEntry) error {
	err := s.write(ctx, func(tx *sql.Tx) error { return recordAudit(ctx, tx, workspaceID, e) })
	if err != nil {
		return fmt.Errorf("store: record audit: %w", err)
	}
	return nil
}

// ListAudit pages the workspace's audit log, newest first, by id.
func (s *Store) ListAudit(ctx context.Context, workspaceID int64, f store.AuditFilter) (store.AuditPage, error) {
	f.NormalizeLimit()
	rows, err := s.r.QueryContext(ctx, `SELECT id, actor_kind, coalesce(actor_id, 0), coalesce(token_id, 0), action, target_kind,
			coalesce(target_id, 0), details, created_at
		FROM audit_log WHERE workspace_id = ?1 AND (?2 = 0 OR id < ?2) AND (?3 = '' OR action = ?3)
		ORDER BY id DESC LIMIT ?4`, workspaceID, f.Before, f.Action, f.Limit+1)
	if err != nil {
		return store.AuditPage{}, fmt.Errorf("store: list audit: %w", err)
	}
	defer rows.Close()
	var page store.AuditPage
	for rows.Next() {
		var (
			e       = store.AuditEntry{WorkspaceID: workspaceID}
			details string
			created int64
		)
		if err := rows.Scan(&e.ID, &e.ActorKind, &e.ActorID, &e.TokenID, &e.Action, &e.TargetKind, &e.TargetID, &details, &created); err != nil {
			return store.AuditPage{}, fmt.Errorf("store: list audit: %w", err)
		}
		e.Details, e.CreatedAt = json.RawMessage(details), fromMicros(created)
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return store.AuditPage{}, fmt.Errorf("store: list audit: %w", err)
	}
	if len(page.Entries) > f.Limit {
		page.Entries = page.Entries[:f.Limit]
		page.NextBefore = page.Entries[f.Limit-1].ID
	}
	return page, nil
}
