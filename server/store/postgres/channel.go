package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ConfigureInbox replaces an inbox's settings and sealed credentials.
func (s *Store) ConfigureInbox(ctx context.Context, workspaceID, inboxID int64, settings json.RawMessage, credentials []byte) (store.Inbox, error) {
	if err := store.ValidObject("settings", settings); err != nil {
		return store.Inbox{}, fmt.Errorf("store: configure inbox: %w", err)
	}
	in, err := scanInbox(s.pool.QueryRow(ctx, `UPDATE inboxes SET settings = $1, credentials = $2
		WHERE workspace_id = $3 AND id = $4 RETURNING `+inboxCols,
		string(store.ObjectOrEmpty(settings)), credentials, workspaceID, inboxID))
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: configure inbox %d: %w", inboxID, notFound(err))
	}
	return in, nil
}

// WebhookInbox finds an inbox by id alone, for provider webhooks.
func (s *Store) WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error) {
	in, err := scanInbox(s.pool.QueryRow(ctx, `SELECT `+inboxCols+` FROM inboxes WHERE id = $1`, inboxID))
	if err != nil {
		return store.Inbox{}, fmt.Errorf("store: webhook inbox %d: %w", inboxID, notFound(err))
	}
	return in, nil
}

// MessageByProviderID finds a message of the inbox by its provider id.
func (s *Store) MessageByProviderID(ctx context.Context, workspaceID, inboxID int64, providerMessageID string) (store.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageCols+` FROM messages m
		WHERE m.workspace_id = $1 AND m.inbox_id = $2 AND m.provider_message_id = $3`, workspaceID, inboxID, providerMessageID))
	if err != nil {
		return store.Message{}, fmt.Errorf("store: message by provider id: %w", notFound(err))
	}
	return m, nil
}

const deadLetterCols = `id, workspace_id, inbox_id, provider, received_at, body, error`

func scanDeadLetter(row pgx.Row) (store.DeadLetter, error) {
	var d store.DeadLetter
	err := row.Scan(&d.ID, &d.WorkspaceID, &d.InboxID, &d.Provider, &d.ReceivedAt, &d.Body, &d.Error)
	d.ReceivedAt = d.ReceivedAt.UTC()
	return d, err
}

// CreateDeadLetter keeps a provider payload that could not be processed.
func (s *Store) CreateDeadLetter(ctx context.Context, workspaceID int64, nd store.NewDeadLetter) (store.DeadLetter, error) {
	if err := nd.Validate(); err != nil {
		return store.DeadLetter{}, fmt.Errorf("store: create dead letter: %w", err)
	}
	d, err := scanDeadLetter(s.pool.QueryRow(ctx, `INSERT INTO dead_letters (workspace_id, inbox_id, provider, received_at, body, error)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+deadLetterCols,
		workspaceID, nd.InboxID, nd.Provider, store.Now(), nd.Body, nd.Error))
	if isForeignKey(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("store: create dead letter: %w", err)
	}
	return d, nil
}

// ListDeadLetters returns the workspace's dead letters, newest first.
func (s *Store) ListDeadLetters(ctx context.Context, workspaceID int64, limit int) ([]store.DeadLetter, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deadLetterCols+` FROM dead_letters WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2`,
		workspaceID, store.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DeadLetter, error) { return scanDeadLetter(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list dead letters: %w", err)
	}
	return out, nil
}
