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

const mediaCols = `id, workspace_id, message_id, inbox_id, provider, source, mime_type, filename, caption, state,
	blob_key, size, sha256, error, attempts, next_attempt_at, created_at, updated_at`

func scanMedia(row pgx.Row) (store.Media, error) {
	var md store.Media
	err := row.Scan(&md.ID, &md.WorkspaceID, &md.MessageID, &md.InboxID, &md.Provider, &md.Source, &md.MimeType, &md.Filename,
		&md.Caption, &md.State, &md.BlobKey, &md.Size, &md.SHA256, &md.Error, &md.Attempts, &md.NextAttemptAt, &md.CreatedAt, &md.UpdatedAt)
	md.NextAttemptAt, md.CreatedAt, md.UpdatedAt = md.NextAttemptAt.UTC(), md.CreatedAt.UTC(), md.UpdatedAt.UTC()
	return md, err
}

// insertMedia stores a new message's media: inbound ones as pending
// downloads, due now, and uploads as stored.
func insertMedia(ctx context.Context, tx pgx.Tx, workspaceID, messageID, inboxID int64, media []store.NewMedia, now time.Time) error {
	for _, md := range media {
		state, blob := store.MediaPending, store.StoredBlob{}
		if md.Stored != nil {
			state, blob = store.MediaStored, *md.Stored
		}
		if _, err := tx.Exec(ctx, `INSERT INTO media (workspace_id, message_id, inbox_id, provider, source, mime_type, filename, caption,
				state, blob_key, size, sha256, next_attempt_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13)`,
			workspaceID, messageID, inboxID, md.Provider, string(md.Source), md.MimeType, md.Filename, md.Caption,
			state, blob.Key, blob.Size, blob.SHA256, now); err != nil {
			return fmt.Errorf("insert media: %w", err)
		}
	}
	return nil
}

// Media returns a media item of the workspace.
func (s *Store) Media(ctx context.Context, workspaceID, id int64) (store.Media, error) {
	md, err := scanMedia(s.pool.QueryRow(ctx, `SELECT `+mediaCols+` FROM media WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.Media{}, fmt.Errorf("store: media %d: %w", id, notFound(err))
	}
	return md, nil
}

// ClaimMedia claims up to limit due pending media for lease. FOR UPDATE
// SKIP LOCKED lets several replicas download from one database: a row
// another downloader is claiming is skipped, not waited for, and a
// committed claim hides the row until its lease ends.
func (s *Store) ClaimMedia(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.MediaJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease).Truncate(time.Microsecond)
	rows, err := s.pool.Query(ctx, `WITH due AS (
			SELECT id AS due_id FROM media
			WHERE state = 'pending' AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
			ORDER BY next_attempt_at, id LIMIT $3
			FOR UPDATE SKIP LOCKED)
		UPDATE media md SET attempts = md.attempts + 1, locked_until = $2, updated_at = $1
		FROM due WHERE md.id = due.due_id
		RETURNING `+mediaCols, now, until, limit)
	if err != nil {
		return nil, fmt.Errorf("store: claim media: %w", err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MediaJob, error) {
		md, err := scanMedia(r)
		return store.MediaJob{Media: md, LockedUntil: until}, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim media: %w", err)
	}
	slices.SortFunc(got, func(a, b store.MediaJob) int { return cmp.Compare(a.Media.ID, b.Media.ID) })
	return got, nil
}

// settleMedia applies set (an assignment list using $1.. for args) to a
// claimed item, provided the caller still holds its lease.
func settleMedia(ctx context.Context, tx pgx.Tx, j store.MediaJob, set string, args ...any) error {
	n := len(args)
	args = append(args, j.Media.WorkspaceID, j.Media.ID, j.LockedUntil)
	tag, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE media SET %s, locked_until = NULL
		WHERE workspace_id = $%d AND id = $%d AND state = 'pending' AND locked_until = $%d`, set, n+1, n+2, n+3), args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrMediaLeaseLost
	}
	return nil
}

// mediaUpdated touches the item's message and appends message.updated,
// whose message carries the item's new state.
func mediaUpdated(ctx context.Context, tx pgx.Tx, j store.MediaJob, now time.Time) (store.Message, store.Event, error) {
	if _, err := tx.Exec(ctx, `UPDATE messages SET updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
		now, j.Media.WorkspaceID, j.Media.MessageID); err != nil {
		return store.Message{}, store.Event{}, err
	}
	m, err := messageIn(ctx, tx, j.Media.WorkspaceID, j.Media.MessageID)
	if err != nil {
		return store.Message{}, store.Event{}, err
	}
	c, err := conversationIn(ctx, tx, j.Media.WorkspaceID, m.ConversationID, false)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		err := settleMedia(ctx, tx, j, `state = 'stored', blob_key = $1, size = $2, sha256 = $3,
			mime_type = coalesce(nullif($4, ''), mime_type), error = '', updated_at = $5`, b.Key, b.Size, b.SHA256, b.MimeType, now)
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		return settleMedia(ctx, tx, j, `next_attempt_at = $1, error = $2, updated_at = $3`,
			next.UTC().Truncate(time.Microsecond), errText, store.Now())
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		if err := settleMedia(ctx, tx, j, `state = 'failed', error = $1, updated_at = $2`, errText, now); err != nil {
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
