package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// InboxAI returns the inbox's auto-reply settings.
func (s *Store) InboxAI(ctx context.Context, workspaceID, inboxID int64) (store.InboxAI, error) {
	a, err := inboxAIIn(ctx, s.pool, workspaceID, inboxID)
	if err != nil {
		return store.InboxAI{}, fmt.Errorf("store: inbox ai %d: %w", inboxID, err)
	}
	return a, nil
}

func inboxAIIn(ctx context.Context, q querier, workspaceID, inboxID int64) (store.InboxAI, error) {
	a := store.InboxAI{WorkspaceID: workspaceID, InboxID: inboxID}
	var at time.Time
	err := q.QueryRow(ctx, `SELECT auto_reply, min_confidence, updated_at FROM inbox_ai
		WHERE workspace_id = $1 AND inbox_id = $2`, workspaceID, inboxID).Scan(&a.AutoReply, &a.MinConfidence, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM inboxes WHERE workspace_id = $1 AND id = $2`, workspaceID, inboxID).Scan(&one); err != nil {
			return store.InboxAI{}, notFound(err)
		}
		return store.DefaultInboxAI(workspaceID, inboxID), nil
	}
	if err != nil {
		return store.InboxAI{}, err
	}
	at = at.UTC()
	a.UpdatedAt = &at
	return a, nil
}

// SetInboxAI validates and saves the inbox's auto-reply settings.
func (s *Store) SetInboxAI(ctx context.Context, workspaceID, inboxID int64, a store.InboxAI) (store.InboxAI, error) {
	if err := a.Validate(); err != nil {
		return store.InboxAI{}, fmt.Errorf("store: set inbox ai: %w", err)
	}
	var out store.InboxAI
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inbox_ai (workspace_id, inbox_id, auto_reply, min_confidence, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (workspace_id, inbox_id) DO UPDATE SET auto_reply = excluded.auto_reply,
				min_confidence = excluded.min_confidence, updated_at = excluded.updated_at`,
			workspaceID, inboxID, a.AutoReply, a.MinConfidence, store.Now())
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = inboxAIIn(ctx, tx, workspaceID, inboxID)
		return err
	})
	if err != nil {
		return store.InboxAI{}, fmt.Errorf("store: set inbox ai: %w", err)
	}
	return out, nil
}

// HandOver records the conversation's hand-over to the team, once.
func (s *Store) HandOver(ctx context.Context, workspaceID, conversationID int64, reason string) (store.Handoff, bool, error) {
	reason = store.TruncateHandoffReason(reason)
	tag, err := s.pool.Exec(ctx, `INSERT INTO conversation_handoffs (workspace_id, conversation_id, handed_over_at, reason)
		VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, conversation_id) DO NOTHING`,
		workspaceID, conversationID, store.Now(), reason)
	if isForeignKey(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Handoff{}, false, fmt.Errorf("store: hand over conversation %d: %w", conversationID, err)
	}
	h, err := s.ConversationHandoff(ctx, workspaceID, conversationID)
	if err != nil {
		return store.Handoff{}, false, err
	}
	return h, tag.RowsAffected() == 1, nil
}

// ConversationHandoff returns the conversation's hand-over.
func (s *Store) ConversationHandoff(ctx context.Context, workspaceID, conversationID int64) (store.Handoff, error) {
	h := store.Handoff{ConversationID: conversationID}
	err := s.pool.QueryRow(ctx, `SELECT handed_over_at, reason FROM conversation_handoffs
		WHERE workspace_id = $1 AND conversation_id = $2`, workspaceID, conversationID).Scan(&h.HandedOverAt, &h.Reason)
	if err != nil {
		return store.Handoff{}, fmt.Errorf("store: conversation handoff %d: %w", conversationID, notFound(err))
	}
	h.HandedOverAt = h.HandedOverAt.UTC()
	return h, nil
}
