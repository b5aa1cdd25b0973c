package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ConfigureInbox replaces an inbox's settings and sealed credentials.
func (s *Store) ConfigureInbox(ctx context.Context, workspaceID, inboxID int64, settings json.RawMessage, credentials []byte) (store.Inbox, error) {
	if err := store.ValidObject("settings", settings); err != nil {
		return store.Inbox{}, fmt.Errorf("store: configure inbox: %w", err)
	}
	var in store.Inbox
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		in, err = scanInbox(tx.QueryRowContext(ctx, `UPDATE inboxes SET settings = ?, credentials = ?
			WHERE workspace_id = ? AND id = ? RETURNING `+inboxCols,
			string(store.ObjectOrEmpty(settings)), credentials, workspaceID, inboxID))
		return notFound(err)
	})
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: configure inbox %d: %w", inboxID, err)
	}
	return in, nil
}

// WebhookInbox finds an inbox by id alone, for provider webhooks.
func (s *Store) WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error) {
	in, err := scanInbox(s.r.QueryRowContext(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE id = ?`, inboxID))
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: webhook inbox %d: %w", inboxID, notFound(err))
	}
	return in, nil
}

// MessageByProviderID finds a message of the inbox by its provider id.
func (s *Store) MessageByProviderID(ctx context.Context, workspaceID, inboxID int64, providerMessageID string) (store.Message, error) {
	m, err := scanMessage(s.r.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m
		WHERE m.workspace_id = ? AND m.inbox_id = ? AND m.provider_message_id = ?`, workspaceID, inboxID, providerMessageID))
	if err != nil {
		return store.Message{}, fmt.Errorf("store: message by provider id: %w", notFound(err))
	}
	return m, nil
}

const deadLetterCols = `id, workspace_id, inbox_id, provider, received_at, body, error`

func scanDeadLetter(row interface{ Scan(...any) error }) (store.DeadLetter, error) {
	var (
		d        store.DeadLetter
		received int64
	)
	err := row.Scan(&d.ID, &d.WorkspaceID, &d.InboxID, &d.Provider, &received, &d.Body, &d.Error)
	d.ReceivedAt = fromMicros(received)
	return d, err
}

// CreateDeadLetter keeps a provider payload that could not be processed.
func (s *Store) CreateDeadLetter(ctx context.Context, workspaceID int64, nd store.NewDeadLetter) (store.DeadLetter, error) {
	if err := nd.Validate(); err != nil {
		return store.DeadLetter{}, fmt.Errorf("store: create dead letter: %w", err)
	}
	var d store.DeadLetter
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDeadLetter(tx.QueryRowContext(ctx, `INSERT INTO dead_letters (workspace_id, inbox_id, provider, received_at, body, error)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING `+deadLetterCols,
			workspaceID, nd.InboxID, nd.Provider, micros(store.Now()), nd.Body, nd.Error))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("store: create dead letter: %w", err)
	}
	return d, nil
}

// ListDeadLetters returns the workspace's dead letters, newest first.
func (s *Store) ListDeadLetters(ctx context.Context, workspaceID int64, limit int) ([]store.DeadLetter, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+deadLetterCols+` FROM dead_letters WHERE workspace_id = ? ORDER BY id DESC LIMIT ?`,
		workspaceID, store.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	defer rows.Close()
	out := []store.DeadLetter{}
	for rows.Next() {
		d, err := scanDeadLetter(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list dead letters: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	return out, nil
}
