package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// matchQuery turns free text into an FTS5 query: every word quoted (so
// FTS5 operators and punctuation in user input are just text) and all
// words required. "alice@example.com" becomes the phrase alice example com.
func matchQuery(q string) string {
	words := strings.Fields(q)
	for i, w := range words {
		words[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return strings.Join(words, " ")
}

// SearchMessages finds the workspace's messages matching query, best
// first.
func (s *Store) SearchMessages(ctx context.Context, workspaceID int64, query string, limit int) ([]store.Message, error) {
	q, err := store.NormalizeQuery(query)
	if err != nil {
		return nil, fmt.Errorf("store: search messages: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+messageCols+` FROM messages_fts f JOIN messages m ON m.id = f.rowid
		WHERE messages_fts MATCH ? AND m.workspace_id = ?
		ORDER BY f.rank, m.id DESC LIMIT ?`, matchQuery(q), workspaceID, store.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: search messages: %w", err)
	}
	return collectMessages(rows, "search messages")
}

// SearchContacts finds the workspace's contacts matching query, best
// first.
func (s *Store) SearchContacts(ctx context.Context, workspaceID int64, query string, limit int) ([]store.Contact, error) {
	q, err := store.NormalizeQuery(query)
	if err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+contactCols+` FROM contacts_fts f JOIN contacts c ON c.id = f.rowid
		WHERE contacts_fts MATCH ? AND c.workspace_id = ?
		ORDER BY f.rank, c.id DESC LIMIT ?`, matchQuery(q), workspaceID, store.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	defer rows.Close()
	out := []store.Contact{}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, fmt.Errorf("store: search contacts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search contacts: %w", err)
	}
	return out, nil
}
