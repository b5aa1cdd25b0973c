package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// PublishedSeq returns the last event of the workspace published to the hub.
func (s *Store) PublishedSeq(ctx context.Context, workspaceID int64) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT published_seq FROM workspaces WHERE id = ?`, workspaceID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: published seq: %w", notFound(err))
	}
	return seq, nil
}

// MarkPublished records that the workspace's events up to seq were
// published. It never moves the mark backwards, nor past the log's end.
func (s *Store) MarkPublished(ctx context.Context, workspaceID, seq int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE workspaces SET published_seq = max(published_seq, min(?, event_seq))
		WHERE id = ?`, seq, workspaceID)
	if err != nil {
		return fmt.Errorf("store: mark published: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("store: mark published: %w", notFound(sql.ErrNoRows))
	}
	return nil
}

// UnpublishedWorkspaces lists the workspaces whose log has events not yet
// published.
func (s *Store) UnpublishedWorkspaces(ctx context.Context) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM workspaces WHERE event_seq > published_seq ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unpublished workspaces: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: unpublished workspaces: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unpublished workspaces: %w", err)
	}
	return ids, nil
}
