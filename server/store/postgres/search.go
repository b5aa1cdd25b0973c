package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Queries go through websearch_to_tsquery, which accepts any user input
// (quotes, OR, -word) without syntax errors. The 'simple' configuration
// matches the generated tsvector columns: no stemming, no stop words.

// SearchMessages finds the workspace's messages matching query, best
// first.
func (s *Store) SearchMessages(ctx context.Context, workspaceID int64, query string, limit int) ([]store.Message, error) {
	q, err := store.NormalizeQuery(query)
	if err != nil {
		return nil, fmt.Errorf("store: search messages: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+messageCols+`
		FROM messages m, websearch_to_tsquery('simple', $2) q
		WHERE m.workspace_id = $1 AND m.body_search @@ q
		ORDER BY ts_rank(m.body_search, q) DESC, m.id DESC LIMIT $3`, workspaceID, q, store.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: search messages: %w", err)
	}
	out, err := collectMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("store: search messages: %w", err)
	}
	return out, nil
}

// SearchContacts finds the workspace's contacts matching query, best
// first.
func (s *Store) SearchContacts(ctx context.Context, workspaceID int64, query string, limit int) ([]store.Contact, error) {
	q, err := store.NormalizeQuery(query)
	if err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+contactCols+`
		FROM contacts c, websearch_to_tsquery('simple', $2) q
		WHERE c.workspace_id = $1 AND c.search @@ q
		ORDER BY ts_rank(c.search, q) DESC, c.id DESC LIMIT $3`, workspaceID, q, store.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Contact, error) { return scanContact(r) })
	if err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	return out, nil
}
