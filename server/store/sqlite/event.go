package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// appendEvent appends an event to the workspace's log inside tx. The
// UPDATE ... RETURNING hands out the next seq; as part of the transaction
// it is undone by a rollback, so seqs have no gaps.
func appendEvent(ctx context.Context, tx *sql.Tx, workspaceID int64, kind string, conversationID int64, payload any, now time.Time) (store.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return store.Event{}, fmt.Errorf("encode %s event: %w", kind, err)
	}
	ev := store.Event{WorkspaceID: workspaceID, Kind: kind, ConversationID: conversationID, Payload: data, CreatedAt: now}
	err = tx.QueryRowContext(ctx, `UPDATE workspaces SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq`, workspaceID).Scan(&ev.Seq)
	if err != nil {
		return store.Event{}, fmt.Errorf("next event seq: %w", notFound(err))
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events (workspace_id, seq, kind, conversation_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		workspaceID, ev.Seq, kind, nullID(conversationID), string(data), micros(now))
	if err != nil {
		return store.Event{}, fmt.Errorf("append %s event: %w", kind, err)
	}
	return ev, nil
}

// EventsAfter returns events with seq > after. The bounds and the page are
// read in one read transaction, so they agree with each other.
func (s *Store) EventsAfter(ctx context.Context, workspaceID, after int64, limit int) (store.EventPage, error) {
	limit = min(max(limit, 1), store.MaxEventPage)
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: events after %d: %w", after, err)
	}
	defer rollback(tx)
	var (
		page   store.EventPage
		oldest sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, `SELECT w.event_seq, (SELECT min(seq) FROM events WHERE workspace_id = w.id)
		FROM workspaces w WHERE w.id = ?`, workspaceID).Scan(&page.LatestSeq, &oldest)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: events after %d: %w", after, notFound(err))
	}
	page.OldestSeq = page.LatestSeq + 1
	if oldest.Valid {
		page.OldestSeq = oldest.Int64
	}
	if after < page.OldestSeq-1 {
		return page, fmt.Errorf("store: events after %d: oldest retained is %d: %w", after, page.OldestSeq, store.ErrEventsGone)
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, kind, conversation_id, payload, created_at FROM events
		WHERE workspace_id = ? AND seq > ? ORDER BY seq LIMIT ?`, workspaceID, after, limit+1)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: events after %d: %w", after, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ev      = store.Event{WorkspaceID: workspaceID}
			conv    sql.NullInt64
			payload string
			created int64
		)
		if err := rows.Scan(&ev.Seq, &ev.Kind, &conv, &payload, &created); err != nil {
			return store.EventPage{}, fmt.Errorf("store: events after %d: %w", after, err)
		}
		ev.ConversationID, ev.Payload, ev.CreatedAt = conv.Int64, json.RawMessage(payload), fromMicros(created)
		page.Events = append(page.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return store.EventPage{}, fmt.Errorf("store: events after %d: %w", after, err)
	}
	if len(page.Events) > limit {
		page.Events, page.HasMore = page.Events[:limit], true
	}
	return page, nil
}

// PruneEvents deletes the workspace's events created before olderThan.
func (s *Store) PruneEvents(ctx context.Context, workspaceID int64, olderThan time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Delete a prefix by seq, so that what remains stays gap-free even
		// if clocks made created_at disagree with seq order.
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE workspace_id = ?1 AND seq <= (
			SELECT max(seq) FROM events WHERE workspace_id = ?1 AND created_at < ?2)`, workspaceID, micros(olderThan))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", err)
	}
	return n, nil
}
