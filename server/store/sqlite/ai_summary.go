package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// SetConversationSummary saves the conversation's summary, replacing an
// earlier one.
func (s *Store) SetConversationSummary(ctx context.Context, workspaceID, conversationID int64, sum store.ConversationSummary) (store.ConversationSummary, error) {
	if err := sum.Validate(); err != nil {
		return store.ConversationSummary{}, fmt.Errorf("store: set conversation summary: %w", err)
	}
	sum.Summary = store.TruncateSummary(sum.Summary)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO conversation_summaries
				(workspace_id, conversation_id, summary, sentiment, intent, lead, model, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET summary = excluded.summary,
				sentiment = excluded.sentiment, intent = excluded.intent, lead = excluded.lead,
				model = excluded.model, created_at = excluded.created_at`,
			workspaceID, conversationID, sum.Summary, sum.Sentiment, sum.Intent, sum.Lead, sum.Model, micros(store.Now()))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.ConversationSummary{}, fmt.Errorf("store: set conversation summary %d: %w", conversationID, err)
	}
	return s.ConversationSummary(ctx, workspaceID, conversationID)
}

// ConversationSummary returns the conversation's summary.
func (s *Store) ConversationSummary(ctx context.Context, workspaceID, conversationID int64) (store.ConversationSummary, error) {
	sum := store.ConversationSummary{ConversationID: conversationID}
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT summary, sentiment, intent, lead, model, created_at FROM conversation_summaries
		WHERE workspace_id = ? AND conversation_id = ?`, workspaceID, conversationID).
		Scan(&sum.Summary, &sum.Sentiment, &sum.Intent, &sum.Lead, &sum.Model, &at)
	if err != nil {
		return store.ConversationSummary{}, fmt.Errorf("store: conversation summary %d: %w", conversationID, notFound(err))
	}
	sum.CreatedAt = fromMicros(at)
	return sum, nil
}
