package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ClaimOutbox claims up to limit due outbox entries of inboxes of the
// given kinds for lease. FOR UPDATE SKIP LOCKED lets several replicas
// drain one database: a row another drainer is claiming is skipped, not
// waited for, and a committed claim hides the row until its lease ends.
func (s *Store) ClaimOutbox(ctx context.Context, kinds []store.InboxKind, now time.Time, lease time.Duration, limit int) ([]store.OutboxEntry, error) {
	if len(kinds) == 0 || limit <= 0 {
		return nil, nil
	}
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease).Truncate(time.Microsecond)
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	var out []store.OutboxEntry
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT o.id FROM outbox o
				JOIN messages m ON m.workspace_id = o.workspace_id AND m.id = o.message_id
				JOIN inboxes i ON i.id = m.inbox_id
				WHERE o.state IN ('pending', 'sending') AND o.next_attempt_at <= $1
					AND (o.locked_until IS NULL OR o.locked_until <= $1) AND i.kind = ANY($2)
				ORDER BY o.next_attempt_at, o.id LIMIT $3
				FOR UPDATE OF o SKIP LOCKED)
			UPDATE outbox o SET state = 'sending', attempts = o.attempts + 1, locked_until = $4, updated_at = $1
			FROM due WHERE o.id = due.id
			RETURNING o.id, o.workspace_id, o.message_id, o.attempts`, now, names, limit, until)
		if err != nil {
			return err
		}
		type claimed struct {
			id, workspaceID, messageID int64
			attempts                   int
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
			var c claimed
			return c, r.Scan(&c.id, &c.workspaceID, &c.messageID, &c.attempts)
		})
		if err != nil {
			return err
		}
		for _, c := range got {
			m, err := messageIn(ctx, tx, c.workspaceID, c.messageID)
			if err != nil {
				return err
			}
			e := store.OutboxEntry{ID: c.id, WorkspaceID: c.workspaceID, Attempts: c.attempts, LockedUntil: until, Message: m}
			if err := tx.QueryRow(ctx, `SELECT kind FROM inboxes WHERE id = $1`, m.InboxID).Scan(&e.InboxKind); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b store.OutboxEntry) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// settleOutbox moves a claimed entry to state, provided the caller still
// holds its lease.
func settleOutbox(ctx context.Context, tx pgx.Tx, e store.OutboxEntry, state string, next time.Time, errText string, now time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE outbox SET state = $1, next_attempt_at = $2, locked_until = NULL, last_error = $3, updated_at = $4
		WHERE workspace_id = $5 AND id = $6 AND state = 'sending' AND locked_until = $7`,
		state, next, errText, now, e.WorkspaceID, e.ID, e.LockedUntil)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrLeaseLost
	}
	return nil
}

// outboxMessage sets the claimed message's delivery status and appends
// message.updated.
func outboxMessage(ctx context.Context, tx pgx.Tx, e store.OutboxEntry, status store.DeliveryStatus, errText, providerID string, now time.Time) (store.Message, store.Event, error) {
	if _, err := tx.Exec(ctx, `UPDATE messages SET status = $1, error = $2, provider_message_id = coalesce($3, provider_message_id), updated_at = $4
		WHERE workspace_id = $5 AND id = $6`, status, errText, nullString(providerID), now, e.WorkspaceID, e.Message.ID); err != nil {
		return store.Message{}, store.Event{}, err
	}
	m, err := messageIn(ctx, tx, e.WorkspaceID, e.Message.ID)
	if err != nil {
		return store.Message{}, store.Event{}, err
	}
	c, err := conversationIn(ctx, tx, e.WorkspaceID, m.ConversationID, false)
	if err != nil {
		return store.Message{}, store.Event{}, err
	}
	ev, err := appendEvent(ctx, tx, e.WorkspaceID, store.EventMessageUpdated, c.ID, store.MessagePayload{Message: m, Conversation: c}, now)
	return m, ev, err
}

// MarkOutboxSent records the provider's acceptance of a claimed send.
func (s *Store) MarkOutboxSent(ctx context.Context, e store.OutboxEntry, providerMessageID string) (store.Message, store.Event, error) {
	var (
		m  store.Message
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		if err := settleOutbox(ctx, tx, e, store.OutboxDone, now, "", now); err != nil {
			return err
		}
		var err error
		m, ev, err = outboxMessage(ctx, tx, e, store.DeliverySent, "", providerMessageID, now)
		return err
	})
	if err != nil {
		return store.Message{}, store.Event{}, fmt.Errorf("store: outbox %d sent: %w", e.ID, err)
	}
	return m, ev, nil
}

// RetryOutbox releases a claimed send to be attempted again at next.
func (s *Store) RetryOutbox(ctx context.Context, e store.OutboxEntry, next time.Time, errText string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		return settleOutbox(ctx, tx, e, store.OutboxPending, next.UTC().Truncate(time.Microsecond), errText, store.Now())
	})
	if err != nil {
		return fmt.Errorf("store: outbox %d retry: %w", e.ID, err)
	}
	return nil
}

// FailOutbox gives up a claimed send.
func (s *Store) FailOutbox(ctx context.Context, e store.OutboxEntry, errText string) (store.Message, store.Event, error) {
	var (
		m  store.Message
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		if err := settleOutbox(ctx, tx, e, store.OutboxFailed, now, errText, now); err != nil {
			return err
		}
		var err error
		m, ev, err = outboxMessage(ctx, tx, e, store.DeliveryFailed, errText, "", now)
		return err
	})
	if err != nil {
		return store.Message{}, store.Event{}, fmt.Errorf("store: outbox %d failed: %w", e.ID, err)
	}
	return m, ev, nil
}

// RequeueMessage queues a failed outbound message again.
func (s *Store) RequeueMessage(ctx context.Context, workspaceID, messageID int64) (store.Message, store.Event, error) {
	var (
		m  store.Message
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		tag, err := tx.Exec(ctx, `UPDATE outbox o SET state = 'pending', attempts = 0, next_attempt_at = $1, locked_until = NULL, last_error = '', updated_at = $1
			FROM messages m WHERE o.workspace_id = $2 AND o.message_id = $3 AND o.state IN ('failed', 'done')
				AND m.workspace_id = o.workspace_id AND m.id = o.message_id AND m.status = 'failed'`, now, workspaceID, messageID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			if _, err := messageIn(ctx, tx, workspaceID, messageID); err != nil {
				return err
			}
			return store.ErrNotRetryable
		}
		failed, err := messageIn(ctx, tx, workspaceID, messageID)
		if err != nil {
			return err
		}
		fc, err := conversationIn(ctx, tx, workspaceID, failed.ConversationID, false)
		if err != nil {
			return err
		}
		if err := checkOutbound(ctx, tx, workspaceID, fc, failed.Type, len(failed.Media), now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE messages SET status = 'queued', error = '', provider_message_id = NULL, updated_at = $1
			WHERE workspace_id = $2 AND id = $3`, now, workspaceID, messageID); err != nil {
			return err
		}
		if m, err = messageIn(ctx, tx, workspaceID, messageID); err != nil {
			return err
		}
		c, err := conversationIn(ctx, tx, workspaceID, m.ConversationID, false)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventMessageUpdated, c.ID, store.MessagePayload{Message: m, Conversation: c}, now)
		return err
	})
	if err != nil {
		return store.Message{}, store.Event{}, fmt.Errorf("store: requeue message %d: %w", messageID, err)
	}
	return m, ev, nil
}
