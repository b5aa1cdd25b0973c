package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const inboxCols = `id, workspace_id, kind, name, settings, credentials, created_at`

func scanInbox(row pgx.Row) (store.Inbox, error) {
	var in store.Inbox
	err := row.Scan(&in.ID, &in.WorkspaceID, &in.Kind, &in.Name, &in.Settings, &in.Credentials, &in.CreatedAt)
	in.CreatedAt = in.CreatedAt.UTC()
	return in, err
}

// CreateInbox connects a channel account to the workspace.
func (s *Store) CreateInbox(ctx context.Context, workspaceID int64, ni store.NewInbox) (store.Inbox, error) {
	if err := ni.Validate(); err != nil {
		return store.Inbox{}, fmt.Errorf("store: create inbox: %w", err)
	}
	in, err := scanInbox(s.pool.QueryRow(ctx, `INSERT INTO inboxes (workspace_id, kind, name, settings, credentials, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+inboxCols,
		workspaceID, ni.Kind, strings.TrimSpace(ni.Name), string(store.ObjectOrEmpty(ni.Settings)), ni.Credentials, store.Now()))
	if isForeignKey(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: create inbox: %w", err)
	}
	return in, nil
}

// Inbox returns an inbox of the workspace.
func (s *Store) Inbox(ctx context.Context, workspaceID, inboxID int64) (store.Inbox, error) {
	in, err := scanInbox(s.pool.QueryRow(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE workspace_id = $1 AND id = $2`, workspaceID, inboxID))
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: inbox %d: %w", inboxID, notFound(err))
	}
	return in, nil
}

// ListInboxes returns the workspace's inboxes, oldest first.
func (s *Store) ListInboxes(ctx context.Context, workspaceID int64) ([]store.Inbox, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE workspace_id = $1 ORDER BY id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list inboxes: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Inbox, error) { return scanInbox(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list inboxes: %w", err)
	}
	if out == nil {
		out = []store.Inbox{}
	}
	return out, nil
}

// RenameInbox changes an inbox's name.
func (s *Store) RenameInbox(ctx context.Context, workspaceID, inboxID int64, name string) (store.Inbox, error) {
	if strings.TrimSpace(name) == "" {
		return store.Inbox{}, fmt.Errorf("store: rename inbox: %w", store.Invalid("name", "must not be empty"))
	}
	in, err := scanInbox(s.pool.QueryRow(ctx, `UPDATE inboxes SET name = $1 WHERE workspace_id = $2 AND id = $3 RETURNING `+inboxCols,
		strings.TrimSpace(name), workspaceID, inboxID))
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: rename inbox %d: %w", inboxID, notFound(err))
	}
	return in, nil
}
