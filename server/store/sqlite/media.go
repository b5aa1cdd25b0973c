package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const mediaCols = `id, workspace_id, message_id, inbox_id, provider, source, mime_type, filename, caption, state,
	blob_key, size, sha256, error, attempts, next_attempt_at, created_at, updated_at`

func scanMedia(row interface{ Scan(...any) error }) (store.Media, error) {
	var (
		md                     store.Media
		source                 string
		next, created, updated int64
	)
	err := row.Scan(&md.ID, &md.WorkspaceID, &md.MessageID, &md.InboxID, &md.Provider, &source, &md.MimeType, &md.Filename,
		&md.Caption, &md.State, &md.BlobKey, &md.Size, &md.SHA256, &md.Error, &md.Attempts, &next, &created, &updated)
	if err != nil {
		return store.Media{}, err
	}
	md.Source = json.RawMessage(source)
	md.NextAttemptAt, md.CreatedAt, md.UpdatedAt = fromMicros(next), fromMicros(created), fromMicros(updated)
	return md, nil
}

// mediaRefs decodes the JSON array messageCols aggregates a message's
// media into; SQLite gives no order, so they are sorted here.
func mediaRefs(raw string) ([]store.MediaRef, error) {
	if raw == "" || raw == "[]" {
		return nil, nil
	}
	var refs []store.MediaRef
	if err := json.Unmarshal([]byte(raw), &refs); err != nil {
		return nil, fmt.Errorf("decode media: %w", err)
	}
	slices.SortFunc(refs, func(a, b store.MediaRef) int { return cmp.Compare(a.ID, b.ID) })
	return refs, nil
}

// insertMedia stores a new message's media: inbound ones as pending
// downloads, due now, and uploads as stored.
func insertMedia(ctx context.Context, tx *sql.Tx, workspaceID, messageID, inboxID int64, media []store.NewMedia, now time.Time) error {
	for _, md := range media {
		state, blob := store.MediaPending, store.StoredBlob{}
		if md.Stored != nil {
			state, blob = store.MediaStored, *md.Stored
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO media (workspace_id, message_id, inbox_id, provider, source, mime_type, filename, caption,
				state, blob_key, size, sha256, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			workspaceID, messageID, inboxID, md.Provider, string(md.Source), md.MimeType, md.Filename, md.Caption,
			state, blob.Key, blob.Size, blob.SHA256, micros(now), micros(now), micros(now)); err != nil {
			return fmt.Errorf("insert media: %w", err)
		}
	}
	return nil
}

// Media returns a media item of the workspace.
func (s *Store) Media(ctx context.Context, workspaceID, id int64) (store.Media, error) {
	md, err := scanMedia(s.r.QueryRowContext(ctx, `SELECT `+mediaCols+` FROM media WHERE workspace_id = ? AND id = ?`, workspaceID, id))
	if err != nil {
		return store.Media{}, fmt.Errorf("store: media %d: %w", id, notFound(err))
	}
	return md, nil
}

// ClaimMedia claims up to limit due pending media for lease. SQLite has a
// single writer, so the claim (one write transaction) needs no row locks
// to keep two downloaders apart.
func (s *Store) ClaimMedia(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.MediaJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease).Truncate(time.Microsecond)
	var out []store.MediaJob
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE media SET attempts = attempts + 1, locked_until = ?2, updated_at = ?1
			WHERE id IN (
				SELECT id FROM media
				WHERE state = 'pending' AND next_attempt_at <= ?1 AND (locked_until IS NULL OR locked_until <= ?1)
				ORDER BY next_attempt_at, id LIMIT ?3)
			RETURNING `+mediaCols, micros(now), micros(until), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			md, err := scanMedia(rows)
			if err != nil {
				return err
			}
			out = append(out, store.MediaJob{Media: md, LockedUntil: until})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim media: %w", err)
	}
	slices.SortFunc(out, func(a, b store.MediaJob) int { return cmp.Compare(a.Media.ID, b.Media.ID) })
	return out, nil
}

// settleMedia applies set (an assignment list whose arguments are args)
// to a claimed item, provided the caller still holds its lease.
func settleMedia(ctx context.Context, tx *sql.Tx, j store.MediaJob, set string, args ...any) error {
	args = append(args, j.Media.WorkspaceID, j.Media.ID, micros(j.LockedUntil))
	res, err := tx.ExecContext(ctx, `UPDATE media SET `+set+`, locked_until = NULL
		WHERE workspace_id = ? AND id = ? AND state = 'pending' AND locked_until = ?`, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrMediaLeaseLost
	}
	return nil
}

// mediaUpdated touches the item's message and appends message.updated,
// whose message carries the item's new state.
func mediaUpdated(ctx context.Context, tx *sql.Tx, j store.MediaJob, now time.Time) (store.Message, store.Event, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET updated_at = ? WHERE workspace_id = ? AND id = ?`,
		micros(now), j.Media.WorkspaceID, j.Media.MessageID); err != nil {
		return store.Message{}, store.Event{}, err
	}
	m, err := messageIn(ctx, tx, j.Media.WorkspaceID, j.Media.MessageID)
	if err != nil {
		return store.Message{}, store.Event{}, err
	}
	c, err := conversationIn(ctx, tx, j.Media.WorkspaceID, m.ConversationID)
	if err != nil {
		return store.Message{}, store.Event{}, err
	}
	ev, err := appendEvent(ctx, tx, j.Media.WorkspaceID, store.EventMessageUpdated, c.ID, store.MessagePayload{Message: m, Conversation: c}, now)
	return m, ev, err
}

// MarkMediaStored records a claimed item's blob and appends
// message.updated.
func (s *Store) MarkMediaStored(ctx context.Context, j store.MediaJob, b store.StoredBlob) (store.Message, store.Event, error) {
	var (
		m  store.Message
		ev store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		err := settleMedia(ctx, tx, j, `state = 'stored', blob_key = ?, size = ?, sha256 = ?, mime_type = coalesce(nullif(?, ''), mime_type),
			error = '', updated_at = ?`, b.Key, b.Size, b.SHA256, b.MimeType, micros(now))
		if err != nil {
			return err
		}
		m, ev, err = mediaUpdated(ctx, tx, j, now)
		return err
	})
	if err != nil {
		return store.Message{}, store.Event{}, fmt.Errorf("store: media %d stored: %w", j.Media.ID, err)
	}
	return m, ev, nil
}

// RetryMedia releases a claimed item to be attempted again at next.
func (s *Store) RetryMedia(ctx context.Context, j store.MediaJob, next time.Time, errText string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return settleMedia(ctx, tx, j, `next_attempt_at = ?, error = ?, updated_at = ?`,
			micros(next.UTC().Truncate(time.Microsecond)), errText, micros(store.Now()))
	})
	if err != nil {
		return fmt.Errorf("store: media %d retry: %w", j.Media.ID, err)
	}
	return nil
}

// FailMedia gives up a claimed item and appends message.updated.
func (s *Store) FailMedia(ctx context.Context, j store.MediaJob, errText string) (store.Message, store.Event, error) {
	var (
		m  store.Message
		ev store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		if err := settleMedia(ctx, tx, j, `state = 'failed', error = ?, updated_at = ?`, errText, micros(now)); err != nil {
			return err
		}
		var err error
		m, ev, err = mediaUpdated(ctx, tx, j, now)
		return err
	})
	if err != nil {
		return store.Message{}, store.Event{}, fmt.Errorf("store: media %d failed: %w", j.Media.ID, err)
	}
	return m, ev, nil
}
