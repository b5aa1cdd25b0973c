package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// RetentionSettings returns the workspace's retention settings or the
// defaults.
func (s *Store) RetentionSettings(ctx context.Context, workspaceID int64) (store.RetentionSettings, error) {
	rs, err := retentionSettingsIn(ctx, s.r, workspaceID)
	if err != nil {
		return store.RetentionSettings{}, fmt.Errorf("store: retention settings: %w", err)
	}
	return rs, nil
}

func retentionSettingsIn(ctx context.Context, q queryer, workspaceID int64) (store.RetentionSettings, error) {
	var (
		rs store.RetentionSettings
		at int64
	)
	err := q.QueryRowContext(ctx, `SELECT message_days, media_days, event_days, updated_at
		FROM retention_settings WHERE workspace_id = ?`, workspaceID).Scan(&rs.MessageDays, &rs.MediaDays, &rs.EventDays, &at)
	if errors.Is(err, sql.ErrNoRows) {
		var one int
		if err := q.QueryRowContext(ctx, `SELECT 1 FROM workspaces WHERE id = ?`, workspaceID).Scan(&one); err != nil {
			return store.RetentionSettings{}, notFound(err)
		}
		return store.DefaultRetentionSettings(), nil
	}
	if err != nil {
		return store.RetentionSettings{}, err
	}
	t := fromMicros(at)
	rs.UpdatedAt = &t
	return rs, nil
}

// SetRetentionSettings validates and saves the workspace's retention
// settings and records retention.updated.
func (s *Store) SetRetentionSettings(ctx context.Context, workspaceID int64, rs store.RetentionSettings, by store.Actor) (store.RetentionSettings, error) {
	if err := rs.Validate(); err != nil {
		return store.RetentionSettings{}, fmt.Errorf("store: set retention settings: %w", err)
	}
	var out store.RetentionSettings
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO retention_settings (workspace_id, message_days, media_days, event_days, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET message_days = excluded.message_days, media_days = excluded.media_days,
				event_days = excluded.event_days, updated_at = excluded.updated_at`,
			workspaceID, rs.MessageDays, rs.MediaDays, rs.EventDays, micros(store.Now()))
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
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM workspaces ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: workspace ids: %w", err)
	}
	ids, err := collectIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: workspace ids: %w", err)
	}
	return ids, nil
}

func collectIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CountExpired counts what the cutoffs expire, in one read transaction.
func (s *Store) CountExpired(ctx context.Context, workspaceID int64, c store.RetentionCutoffs) (store.RetentionCounts, error) {
	var n store.RetentionCounts
	err := s.r.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM conversations WHERE workspace_id = ?1 AND last_activity_at < ?2),
			(SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
				WHERE m.workspace_id = ?1 AND c.last_activity_at < ?2),
			(SELECT count(*) FROM media md JOIN messages m ON m.id = md.message_id JOIN conversations c ON c.id = m.conversation_id
				WHERE md.workspace_id = ?1 AND (md.created_at < ?3 OR c.last_activity_at < ?2)),
			(SELECT count(*) FROM events WHERE workspace_id = ?1 AND seq <= (
				SELECT max(seq) FROM events WHERE workspace_id = ?1 AND created_at < ?4))`,
		workspaceID, micros(c.Conversations), micros(c.Media), micros(c.Events)).Scan(&n.Conversations, &n.Messages, &n.Media, &n.Events)
	if err != nil {
		return store.RetentionCounts{}, fmt.Errorf("store: count expired: %w", err)
	}
	return n, nil
}

// DeleteExpiredConversations deletes up to limit expired conversations;
// the foreign keys cascade to their messages and what hangs off those,
// and the messages' delete trigger takes them out of messages_fts.
func (s *Store) DeleteExpiredConversations(ctx context.Context, workspaceID int64, before time.Time, limit int) (store.DeletedConversations, error) {
	var out store.DeletedConversations
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = store.DeletedConversations{}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM conversations WHERE workspace_id = ? AND last_activity_at < ?
			ORDER BY last_activity_at, id LIMIT ?`, workspaceID, micros(before), max(limit, 1))
		if err != nil {
			return err
		}
		ids, err := collectIDs(rows)
		if err != nil || len(ids) == 0 {
			return err
		}
		now := store.Now()
		for _, id := range ids {
			var msgs, media int64
			if err := tx.QueryRowContext(ctx, `SELECT
					(SELECT count(*) FROM messages WHERE workspace_id = ?1 AND conversation_id = ?2),
					(SELECT count(*) FROM media md JOIN messages m ON m.id = md.message_id
						WHERE m.workspace_id = ?1 AND m.conversation_id = ?2)`, workspaceID, id).Scan(&msgs, &media); err != nil {
				return err
			}
			keys, err := tx.QueryContext(ctx, `SELECT md.blob_key FROM media md JOIN messages m ON m.id = md.message_id
				WHERE m.workspace_id = ? AND m.conversation_id = ? AND md.blob_key <> '' ORDER BY md.id`, workspaceID, id)
			if err != nil {
				return err
			}
			for keys.Next() {
				var k string
				if err := keys.Scan(&k); err != nil {
					keys.Close()
					return err
				}
				out.BlobKeys = append(out.BlobKeys, k)
			}
			if err := keys.Close(); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
				return err
			}
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationDeleted, id,
				store.ConversationDeletedPayload{ConversationID: id, Reason: store.DeletedByRetention}, now); err != nil {
				return err
			}
			out.Conversations++
			out.Messages += msgs
			out.Media += media
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
	rows, err := s.r.QueryContext(ctx, `SELECT `+mediaCols+` FROM media WHERE workspace_id = ? AND created_at < ?
		ORDER BY created_at, id LIMIT ?`, workspaceID, micros(before), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("store: expired media: %w", err)
	}
	defer rows.Close()
	var out []store.Media
	for rows.Next() {
		md, err := scanMedia(rows)
		if err != nil {
			return nil, fmt.Errorf("store: expired media: %w", err)
		}
		out = append(out, md)
	}
	if err := rows.Err(); err != nil {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = 0
		in := "?" + strings.Repeat(", ?", len(ids)-1)
		args := make([]any, 0, len(ids)+1)
		args = append(args, workspaceID)
		for _, id := range ids {
			args = append(args, id)
		}
		rows, err := tx.QueryContext(ctx, `DELETE FROM media WHERE workspace_id = ? AND id IN (`+in+`) RETURNING message_id`, args...)
		if err != nil {
			return err
		}
		messages, err := collectIDs(rows)
		if err != nil {
			return err
		}
		n = int64(len(messages))
		return mediaRemoved(ctx, tx, workspaceID, messages)
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete media: %w", err)
	}
	return n, nil
}

// mediaRemoved touches each message of ids (repeats allowed) and appends
// message.updated for it, in message order.
func mediaRemoved(ctx context.Context, tx *sql.Tx, workspaceID int64, ids []int64) error {
	now := store.Now()
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE workspace_id = ? AND id = ?`,
			micros(now), workspaceID, id); err != nil {
			return err
		}
		m, err := messageIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		c, err := conversationIn(ctx, tx, workspaceID, m.ConversationID)
		if err != nil {
			return err
		}
		if _, err := appendEvent(ctx, tx, workspaceID, store.EventMessageUpdated, c.ID,
			store.MessagePayload{Message: m, Conversation: c}, now); err != nil {
			return err
		}
	}
	return nil
}

// DeleteExpiredEvents deletes up to limit events of the expired prefix of
// the log.
func (s *Store) DeleteExpiredEvents(ctx context.Context, workspaceID int64, before time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE workspace_id = ?1 AND seq <= (SELECT max(seq) FROM events WHERE workspace_id = ?1 AND created_at < ?2)
				AND seq < (SELECT min(seq) FROM events WHERE workspace_id = ?1) + ?3`,
			workspaceID, micros(before), max(limit, 1))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete expired events: %w", err)
	}
	return n, nil
}
