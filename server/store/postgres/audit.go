package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// recordAudit appends e to the workspace's audit log through q, inside
// the transaction of the change it records when q is one.
func recordAudit(ctx context.Context, q querier, workspaceID int64, e store.AuditEntry) error {
	if err := e.Normalize(store.Now()); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (workspace_id, actor_kind, actor_id, token_id, action, target_kind, target_id, details, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		workspaceID, e.ActorKind, nullID(e.ActorID), nullID(e.TokenID), e.Action, e.TargetKind, nullID(e.TargetID), string(e.Details), e.CreatedAt)
	if isForeignKey(err) {
		return store.ErrNotFound
	}
	return err
}

// RecordAudit appends an entry to the workspace's audit log.
func (s *Store) RecordAudit(ctx context.Context, workspaceID int64, e store.AuditEntry) error {
	if err := recordAudit(ctx, s.pool, workspaceID, e); err != nil {
		return fmt.Errorf("store: record audit: %w", err)
	}
	return nil
}

// ListAudit pages the workspace's audit log, newest first, by id.
func (s *Store) ListAudit(ctx context.Context, workspaceID int64, f store.AuditFilter) (store.AuditPage, error) {
	f.NormalizeLimit()
	rows, err := s.pool.Query(ctx, `SELECT id, actor_kind, coalesce(actor_id, 0), coalesce(token_id, 0), action, target_kind,
			coalesce(target_id, 0), details, created_at
		FROM audit_log WHERE workspace_id = $1 AND ($2::bigint = 0 OR id < $2::bigint) AND ($3::text = '' OR action = $3::text)
		ORDER BY id DESC LIMIT $4`, workspaceID, f.Before, f.Action, f.Limit+1)
	if err != nil {
		return store.AuditPage{}, fmt.Errorf("store: list audit: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) {
		e := store.AuditEntry{WorkspaceID: workspaceID}
		err := r.Scan(&e.ID, &e.ActorKind, &e.ActorID, &e.TokenID, &e.Action, &e.TargetKind, &e.TargetID, &e.Details, &e.CreatedAt)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	})
	if err != nil {
		return store.AuditPage{}, fmt.Errorf("store: list audit: %w", err)
	}
	page := store.AuditPage{Entries: entries}
	if len(entries) > f.Limit {
		page.Entries = entries[:f.Limit]
		page.NextBefore = page.Entries[f.Limit-1].ID
	}
	return page, nil
}
