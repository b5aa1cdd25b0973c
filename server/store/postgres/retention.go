package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// RetentionSettings returns the workspace's retention settings or the
// defaults.
func (s *Store) RetentionSettings(ctx context.Context, workspaceID int64) (store.RetentionSettings, error) {
	rs, err := retentionSettingsIn(ctx, s.pool, workspaceID)
	if err != nil {
		return store.RetentionSettings{}, fmt.Errorf("store: retention settings: %w", err)
	}
	return rs, nil
}

func retentionSettingsIn(ctx context.Context, q querier, workspaceID int64) (store.RetentionSettings, error) {
	var (
		rs store.RetentionSettings
		at time.Time
	)
	err := q.QueryRow(ctx, `SELECT message_days, media_days, event_days, updated_at
		FROM retention_settings WHERE workspace_id = $1`, workspaceID).Scan(&rs.MessageDays, &rs.MediaDays, &rs.EventDays, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		var one int
		if err := q.QueryRow(ctx, `SELECT 1 FROM workspaces WHERE id = $1`, workspaceID).Scan(&one); err != nil {
			return store.RetentionSettings{}, notFound(err)
		}
		return store.DefaultRetentionSettings(), nil
	}
	if err != nil {
		return store.RetentionSettings{}, err
	}
	at = at.UTC()
	rs.UpdatedAt = &at
	return rs, nil
}

// SetRetentionSettings validates and saves the workspace's retention
// settings and records retention.updated.
func (s *Store) SetRetentionSettings(ctx context.Context, workspaceID int64, rs store.RetentionSettings, by store.Actor) (store.RetentionSettings, error) {
	if err := rs.Validate(); err != nil {
		return store.RetentionSettings{}, fmt.Errorf("store: set retention settings: %w", err)
	}
	var out store.RetentionSettings
	err := s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO retention_settings (workspace_id, message_days, media_days, event_days, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (workspace_id) DO UPDATE SET message_days = excluded.message_days, media_days = excluded.media_days,
				event_days = excluded.event_days, updated_at = excluded.updated_at`,
			workspaceID, rs.MessageDays, rs.MediaDays, rs.EventDays, store.Now())
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if out, err = retentionSettingsIn(ctx, tx, workspaceID); err != nil {
			return err
		}
		return recordAudit(ctx, tx, workspaceID, store.RetentionAudit(by, workspaceID, out))
	})
	if err != nil {
		return store.RetentionSettings{}, fmt.Errorf("store: set retention settings: %w", err)
	}
	return out, nil
}

// RetentionWorkspaceIDs returns every workspace's id.
func (s *Store) RetentionWorkspaceIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: workspace ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: workspace ids: %w", err)
	}
	return ids, nil
}

// CountExpired counts what the cutoffs expire, in one statement (one
// snapshot).
func (s *Store) CountExpired(ctx context.Context, workspaceID int64, c store.RetentionCutoffs) (store.RetentionCounts, error) {
	var n store.RetentionCounts
	err := s.pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM conversations WHERE workspace_id = $1 AND last_activity_at < $2),
			(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
				WHERE m.workspace_id = $1 AND c.last_activity_at < $2),
			(SELECT count(*) FROM media md JOIN messages m ON m.id = md.message_id JOIN conversations c ON c.id = m.conversation_id
				WHERE md.workspace_id = $1 AND (md.created_at < $3 OR c.last_activity_at < $2)),
			(SELECT count(*) FROM events WHERE workspace_id = $1 AND seq <= (
				SELECT max(seq) FROM events WHERE workspace_id = $1 AND created_at < $4))`,
		workspaceID, c.Conversations, c.Media, c.Events).Scan(&n.Conversations, &n.Messages, &n.Media, &n.Events)
	if err != nil {
		return store.RetentionCounts{}, fmt.Errorf("store: count expired: %w", err)
	}
	return n, nil
}

// DeleteExpiredConversations deletes up to limit expired conversations;
// the foreign keys cascade to their messages (whose generated search
// vectors go with the rows) and what hangs off those.
//
// The conversations are locked FOR UPDATE, which a concurrent new message
// (CreateMessage locks its conversation) waits for or makes us skip: a
// conversation that just came back to life is not deleted. Their media
// rows are locked too, so a download completing meanwhile either
// committed its blob key before we read it or finds its row gone.
func (s *Store) DeleteExpiredConversations(ctx context.Context, workspaceID int64, before time.Time, limit int) (store.DeletedConversations, error) {
	var out store.DeletedConversations
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = store.DeletedConversations{}
		rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE workspace_id = $1 AND last_activity_at < $2
			ORDER BY last_activity_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`, workspaceID, before, max(limit, 1))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT md.blob_key FROM media md JOIN messages m ON m.id = md.message_id
			WHERE m.workspace_id = $1 AND m.conversation_id = ANY($2) ORDER BY md.id FOR UPDATE OF md`, workspaceID, ids)
		if err != nil {
			return err
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		out.Media = int64(len(keys))
		for _, k := range keys {
			if k != "" {
				out.BlobKeys = append(out.BlobKeys, k)
			}
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1 AND conversation_id = ANY($2)`,
			workspaceID, ids).Scan(&out.Messages); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM conversations WHERE workspace_id = $1 AND id = ANY($2)`, workspaceID, ids)
		if err != nil {
			return err
		}
		out.Conversations = tag.RowsAffected()
		now := store.Now()
		for _, id := range ids {
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationDeleted, id,
				store.ConversationDeletedPayload{ConversationID: id, Reason: store.DeletedByRetention}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.DeletedConversations{}, fmt.Errorf("store: delete expired conversations: %w", err)
	}
	return out, nil
}

// ExpiredMedia returns up to limit media items created before before.
func (s *Store) ExpiredMedia(ctx context.Context, workspaceID int64, before time.Time, limit int) ([]store.Media, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+mediaCols+` FROM media WHERE workspace_id = $1 AND created_at < $2
		ORDER BY created_at, id LIMIT $3`, workspaceID, before, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("store: expired media: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Media, error) { return scanMedia(r) })
	if err != nil {
		return nil, fmt.Errorf("store: expired media: %w", err)
	}
	return out, nil
}

// DeleteMedia deletes media items and appends message.updated for each
// message that lost some.
func (s *Store) DeleteMedia(ctx context.Context, workspaceID int64, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM media WHERE workspace_id = $1 AND id = ANY($2) RETURNING message_id`, workspaceID, ids)
		if err != nil {
			return err
		}
		messages, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		n = int64(len(messages))
		slices.Sort(messages)
		now := store.Now()
		for _, id := range slices.Compact(messages) {
			if _, err := tx.Exec(ctx, `UPDATE messages SET updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
				now, workspaceID, id); err != nil {
				return err
			}
			m, err := messageIn(ctx, tx, workspaceID, id)
			if err != nil {
				return err
			}
			c, err := conversationIn(ctx, tx, workspaceID, m.ConversationID, false)
			if err != nil {
				return err
			}
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventMessageUpdated, c.ID,
				store.MessagePayload{Message: m, Conversation: c}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete media: %w", err)
	}
	return n, nil
}

// DeleteExpiredEvents deletes up to limit events of the expired prefix of
// the log.
func (s *Store) DeleteExpiredEvents(ctx context.Context, workspaceID int64, before time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM events WHERE workspace_id = $1 AND seq <= (SELECT max(seq) FROM events WHERE workspace_id = $1 AND created_at < $2)
			AND seq < (SELECT min(seq) FROM events WHERE workspace_id = $1) + $3`,
		workspaceID, before, max(limit, 1))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired events: %w", err)
	}
	return tag.RowsAffected(), nil
}
