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
