package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// InboxAI returns the inbox's auto-reply settings.
func (s *Store) InboxAI(ctx context.Context, workspaceID, inboxID int64) (store.InboxAI, error) {
	a, err := inboxAIIn(ctx, s.r, workspaceID, inboxID)
	if err != nil {
		return store.InboxAI{}, fmt.Errorf("store: inbox ai %d: %w", inboxID, err)
	}
	return a, nil
}

func inboxAIIn(ctx context.Context, q queryer, workspaceID, inboxID int64) (store.InboxAI, error) {
	a := store.InboxAI{WorkspaceID: workspaceID, InboxID: inboxID}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT auto_reply, min_confidence, updated_at FROM inbox_ai
		WHERE workspace_id = ? AND inbox_id = ?`, workspaceID, inboxID).Scan(&a.AutoReply, &a.MinConfidence, &at)
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		if err := q.QueryRowContext(ctx, `SELECT 1 FROM inboxes WHERE workspace_id = ? AND id = ?`, workspaceID, inboxID).Scan(&one); err != nil {
			return store.InboxAI{}, notFound(err)
		}
		return store.DefaultInboxAI(workspaceID, inboxID), nil
	}
	if err != nil {
		return store.InboxAI{}, err
	}
	t := fromMicros(at)
	a.UpdatedAt = &t
	return a, nil
}

// SetInboxAI validates and saves the inbox's auto-reply settings.
func (s *Store) SetInboxAI(ctx context.Context, workspaceID, inboxID int64, a store.InboxAI) (store.InboxAI, error) {
	if err := a.Validate(); err != nil {
		return store.InboxAI{}, fmt.Errorf("store: set inbox ai: %w", err)
	}
	var out store.InboxAI
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inbox_ai (workspace_id, inbox_id, auto_reply, min_confidence, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id, inbox_id) DO UPDATE SET auto_reply = excluded.auto_reply,
				min_confidence = excluded.min_confidence, updated_at = excluded.updated_at`,
			workspaceID, inboxID, a.AutoReply, a.MinConfidence, micros(store.Now()))
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
	var (
		h     store.Handoff
		first bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO conversation_handoffs (workspace_id, conversation_id, handed_over_at, reason)
			VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, conversation_id) DO NOTHING`,
			workspaceID, conversationID, micros(store.Now()), reason)
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		first = n == 1
		h, err = handoffIn(ctx, tx, workspaceID, conversationID)
		return err
	})
	if err != nil {
		return store.Handoff{}, false, fmt.Errorf("store: hand over conversation %d: %w", conversationID, err)
	}
	return h, first, nil
}

// ConversationHandoff returns the conversation's hand-over.
func (s *Store) ConversationHandoff(ctx context.Context, workspaceID, conversationID int64) (store.Handoff, error) {
	h, err := handoffIn(ctx, s.r, workspaceID, conversationID)
	if err != nil {
		return store.Handoff{}, fmt.Errorf("store: conversation handoff %d: %w", conversationID, err)
	}
	return h, nil
}

func handoffIn(ctx context.Context, q queryer, workspaceID, conversationID int64) (store.Handoff, error) {
	h := store.Handoff{ConversationID: conversationID}
	var at int64
	err := q.QueryRowContext(ctx, `SELECT handed_over_at, reason FROM conversation_handoffs
		WHERE workspace_id = ? AND conversation_id = ?`, workspaceID, conversationID).Scan(&at, &h.Reason)
	if err != nil {
		return store.Handoff{}, notFound(err)
	}
	h.HandedOverAt = fromMicros(at)
	return h, nil
}
