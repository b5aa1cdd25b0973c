package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ClaimOutbox claims up to limit due outbox entries of inboxes of the
// given kinds for lease. SQLite has a single writer, so the claim (one
// write transaction) needs no row locks to keep two drainers apart.
func (s *Store) ClaimOutbox(ctx context.Context, kinds []store.InboxKind, now time.Time, lease time.Duration, limit int) ([]store.OutboxEntry, error) {
	if len(kinds) == 0 || limit <= 0 {
		return nil, nil
	}
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease).Truncate(time.Microsecond)
	args := []any{micros(now), micros(until), limit}
	marks := make([]string, len(kinds))
	for i, k := range kinds {
		marks[i] = "?" + strconv.Itoa(len(args)+1)
		args = append(args, string(k))
	}
	var out []store.OutboxEntry
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbox SET state = 'sending', attempts = attempts + 1, locked_until = ?2, updated_at = ?1
			WHERE id IN (
				SELECT o.id FROM outbox o
				JOIN messages m ON m.workspace_id = o.workspace_id AND m.id = o.message_id
				JOIN inboxes i ON i.id = m.inbox_id
				WHERE o.state IN ('pending', 'sending') AND o.next_attempt_at <= ?1
					AND (o.locked_until IS NULL OR o.locked_until <= ?1) AND i.kind IN (`+strings.Join(marks, ", ")+`)
				ORDER BY o.next_attempt_at, o.id LIMIT ?3)
			RETURNING id, workspace_id, message_id, attempts`, args...)
		if err != nil {
			return err
		}
		type claimed struct {
			id, workspaceID, messageID int64
			attempts                   int
		}
		var got []claimed
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.id, &c.workspaceID, &c.messageID, &c.attempts); err != nil {
				rows.Close()
				return err
			}
			got = append(got, c)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range got {
			m, err := messageIn(ctx, tx, c.workspaceID, c.messageID)
			if err != nil {
				return err
			}
			e := store.OutboxEntry{ID: c.id, WorkspaceID: c.workspaceID, Attempts: c.attempts, LockedUntil: until, Message: m}
			if err := tx.QueryRowContext(ctx, `SELECT kind FROM inboxes WHERE id = ?`, m.InboxID).Scan(&e.InboxKind); err != nil {
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
func settleOutbox(ctx context.Context, tx *sql.Tx, e store.OutboxEntry, state string, next time.Time, errText string, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, next_attempt_at = ?, locked_until = NULL, last_error = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ? AND state = 'sending' AND locked_until = ?`,
		state, micros(next), errText, micros(now), e.WorkspaceID, e.ID, micros(e.LockedUntil))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrLeaseLost
	}
	return nil
}

// outboxMessage sets the claimed message's delivery status and appends
// message.updated.
func outboxMessage(ctx context.Context, tx *sql.Tx, e store.OutboxEntry, status store.DeliveryStatus, errText, providerID string, now time.Time) (store.Message, store.Event, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, error = ?, provider_message_id = coalesce(?, provider_message_id), updated_at = ?
		WHERE workspace_id = ? AND id = ?`, status, errText, nullString(providerID), micros(now), e.WorkspaceID, e.Message.ID); err != nil {
		return store.Message{}, store.Event{}, err
	}
	m, err := messageIn(ctx, tx, e.WorkspaceID, e.Message.ID)
	if err != nil {
		return store.Message{}, store.Event{}, err
	}
	c, err := conversationIn(ctx, tx, e.WorkspaceID, m.ConversationID)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?1, locked_until = NULL, last_error = '', updated_at = ?1
			WHERE workspace_id = ?2 AND message_id = ?3 AND state IN ('failed', 'done')
				AND EXISTS (SELECT 1 FROM messages m WHERE m.workspace_id = ?2 AND m.id = ?3 AND m.status = 'failed')`,
			micros(now), workspaceID, messageID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			if _, err := messageIn(ctx, tx, workspaceID, messageID); err != nil {
				return err
			}
			return store.ErrNotRetryable
		}
		failed, err := messageIn(ctx, tx, workspaceID, messageID)
		if err != nil {
			return err
		}
		fc, err := conversationIn(ctx, tx, workspaceID, failed.ConversationID)
		if err != nil {
			return err
		}
		if err := checkOutbound(ctx, tx, workspaceID, fc, failed.Type, len(failed.Media), now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET status = 'queued', error = '', provider_message_id = NULL, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, micros(now), workspaceID, messageID); err != nil {
			return err
		}
		if m, err = messageIn(ctx, tx, workspaceID, messageID); err != nil {
			return err
		}
		c, err := conversationIn(ctx, tx, workspaceID, m.ConversationID)
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
