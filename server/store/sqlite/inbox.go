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
