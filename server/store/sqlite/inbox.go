package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const inboxCols = `id, workspace_id, kind, name, settings, credentials, created_at`

func scanInbox(row interface{ Scan(...any) error }) (store.Inbox, error) {
	var (
		in       store.Inbox
		settings string
		created  int64
	)
	err := row.Scan(&in.ID, &in.WorkspaceID, &in.Kind, &in.Name, &settings, &in.Credentials, &created)
	in.Settings = json.RawMessage(settings)
	in.CreatedAt = fromMicros(created)
	return in, err
}

// CreateInbox connects a channel account to the workspace.
func (s *Store) CreateInbox(ctx context.Context, workspaceID int64, ni store.NewInbox) (store.Inbox, error) {
	if err := ni.Validate(); err != nil {
		return store.Inbox{}, fmt.Errorf("store: create inbox: %w", err)
	}
	var in store.Inbox
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		in, err = scanInbox(tx.QueryRowContext(ctx, `INSERT INTO inboxes (workspace_id, kind, name, settings, credentials, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING `+inboxCols,
			workspaceID, ni.Kind, strings.TrimSpace(ni.Name), string(store.ObjectOrEmpty(ni.Settings)), ni.Credentials, micros(store.Now())))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: create inbox: %w", err)
	}
	return in, nil
}

// Inbox returns an inbox of the workspace.
func (s *Store) Inbox(ctx context.Context, workspaceID, inboxID int64) (store.Inbox, error) {
	in, err := scanInbox(s.r.QueryRowContext(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE workspace_id = ? AND id = ?`, workspaceID, inboxID))
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: inbox %d: %w", inboxID, notFound(err))
	}
	return in, nil
}

// ListInboxes returns the workspace's inboxes, oldest first.
func (s *Store) ListInboxes(ctx context.Context, workspaceID int64) ([]store.Inbox, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE workspace_id = ? ORDER BY id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list inboxes: %w", err)
	}
	defer rows.Close()
	out := []store.Inbox{}
	for rows.Next() {
		in, err := scanInbox(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list inboxes: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list inboxes: %w", err)
	}
	return out, nil
}

// RenameInbox changes an inbox's name.
func (s *Store) RenameInbox(ctx context.Context, workspaceID, inboxID int64, name string) (store.Inbox, error) {
	if strings.TrimSpace(name) == "" {
		return store.Inbox{}, fmt.Errorf("store: rename inbox: %w", store.Invalid("name", "must not be empty"))
	}
	var in store.Inbox
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		in, err = scanInbox(tx.QueryRowContext(ctx, `UPDATE inboxes SET name = ? WHERE workspace_id = ? AND id = ? RETURNING `+inboxCols,
			strings.TrimSpace(name), workspaceID, inboxID))
		return notFound(err)
	})
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: rename inbox %d: %w", inboxID, err)
	}
	return in, nil
}
