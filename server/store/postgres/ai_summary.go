package postgres

import (
	"context"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// SetConversationSummary saves the conversation's summary, replacing an
// earlier one.
func (s *Store) SetConversationSummary(ctx context.Context, workspaceID, conversationID int64, sum store.ConversationSummary) (store.ConversationSummary, error) {
	if err := sum.Validate(); err != nil {
		return store.ConversationSummary{}, fmt.Errorf("store: set conversation summary: %w", err)
	}
	sum.ConversationID = conversationID
	sum.Summary = store.TruncateSummary(sum.Summary)
	sum.CreatedAt = store.Now()
	_, err := s.pool.Exec(ctx, `INSERT INTO conversation_summaries
			(workspace_id, conversation_id, summary, sentiment, intent, lead, model, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET summary = excluded.summary,
			sentiment = excluded.sentiment, intent = excluded.intent, lead = excluded.lead,
			model = excluded.model, created_at = excluded.created_at`,
		workspaceID, conversationID, sum.Summary, sum.Sentiment, sum.Intent, sum.Lead, sum.Model, sum.CreatedAt)
	if isForeignKey(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.ConversationSummary{}, fmt.Errorf("store: set conversation summary %d: %w", conversationID, err)
	}
	return s.ConversationSummary(ctx, workspaceID, conversationID)
}

// ConversationSummary returns the conversation's summary.
func (s *Store) ConversationSummary(ctx context.Context, workspaceID, conversationID int64) (store.ConversationSummary, error) {
	sum := store.ConversationSummary{ConversationID: conversationID}
	err := s.pool.QueryRow(ctx, `SELECT summary, sentiment, intent, lead, model, created_at FROM conversation_summaries
		WHERE workspace_id = $1 AND conversation_id = $2`, workspaceID, conversationID).
		Scan(&sum.Summary, &sum.Sentiment, &sum.Intent, &sum.Lead, &sum.Model, &sum.CreatedAt)
	if err != nil {
		return store.ConversationSummary{}, fmt.Errorf("store: conversation summary %d: %w", conversationID, notFound(err))
	}
	sum.CreatedAt = sum.CreatedAt.UTC()
	return sum, nil
}
