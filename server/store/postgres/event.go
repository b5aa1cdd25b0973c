package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// appendEvent appends an event to the workspace's log inside tx. It takes
// the workspace row lock (see the package comment), so callers do it last.
func appendEvent(ctx context.Context, tx pgx.Tx, workspaceID int64, kind string, conversationID int64, payload any, now time.Time) (store.Event, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return store.Event{}, fmt.Errorf("encode %s event: %w", kind, err)
	}
	ev := store.Event{WorkspaceID: workspaceID, Kind: kind, ConversationID: conversationID, Payload: data, CreatedAt: now}
	err = tx.QueryRow(ctx, `WITH next AS (
			UPDATE workspaces SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq)
		INSERT INTO events (workspace_id, seq, kind, conversation_id, payload, created_at)
		SELECT $1, event_seq, $2, $3, $4, $5 FROM next RETURNING seq`,
		workspaceID, kind, nullID(conversationID), string(data), now).Scan(&ev.Seq)
	if err != nil {
		return store.Event{}, fmt.Errorf("append %s event: %w", kind, notFound(err))
	}
	return ev, nil
}

// EventsAfter returns events with seq > after. The bounds and the page come
// from one repeatable-read snapshot, so they agree with each other.
func (s *Store) EventsAfter(ctx context.Context, workspaceID, after int64, limit int) (store.EventPage, error) {
	limit = min(max(limit, 1), store.MaxEventPage)
	var page store.EventPage
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var oldest *int64
		err := tx.QueryRow(ctx, `SELECT w.event_seq, (SELECT min(seq) FROM events WHERE workspace_id = w.id)
			FROM workspaces w WHERE w.id = $1`, workspaceID).Scan(&page.LatestSeq, &oldest)
		if err != nil {
			return notFound(err)
		}
		page.OldestSeq = page.LatestSeq + 1
		if oldest != nil {
			page.OldestSeq = *oldest
		}
		if after < page.OldestSeq-1 {
			return fmt.Errorf("oldest retained is %d: %w", page.OldestSeq, store.ErrEventsGone)
		}
		rows, err := tx.Query(ctx, `SELECT seq, kind, coalesce(conversation_id, 0), payload, created_at FROM events
			WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, workspaceID, after, limit+1)
		if err != nil {
			return err
		}
		page.Events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Event, error) {
			ev := store.Event{WorkspaceID: workspaceID}
			err := r.Scan(&ev.Seq, &ev.Kind, &ev.ConversationID, &ev.Payload, &ev.CreatedAt)
			ev.CreatedAt = ev.CreatedAt.UTC()
			return ev, err
		})
		return err
	})
	if err != nil {
		return page, fmt.Errorf("store: events after %d: %w", after, err)
	}
	if len(page.Events) > limit {
		page.Events, page.HasMore = page.Events[:limit], true
	}
	return page, nil
}

// PruneEvents deletes the workspace's events created before olderThan.
func (s *Store) PruneEvents(ctx context.Context, workspaceID int64, olderThan time.Time) (int64, error) {
	// Delete a prefix by seq, so that what remains stays gap-free even if
	// clocks made created_at disagree with seq order.
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE workspace_id = $1 AND seq <= (
		SELECT max(seq) FROM events WHERE workspace_id = $1 AND created_at < $2)`, workspaceID, olderThan)
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", err)
	}
	return tag.RowsAffected(), nil
}
