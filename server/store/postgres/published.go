package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PublishedSeq returns the last event of the workspace published to the hub.
func (s *Store) PublishedSeq(ctx context.Context, workspaceID int64) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT published_seq FROM workspaces WHERE id = $1`, workspaceID).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: published seq: %w", notFound(err))
	}
	return seq, nil
}

// MarkPublished records that the workspace's events up to seq were
// published. It never moves the mark backwards, nor past the log's end.
func (s *Store) MarkPublished(ctx context.Context, workspaceID, seq int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE workspaces SET published_seq = greatest(published_seq, least($2, event_seq))
		WHERE id = $1`, workspaceID, seq)
	if err != nil {
		return fmt.Errorf("store: mark published: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: mark published: %w", notFound(pgx.ErrNoRows))
	}
	return nil
}

// UnpublishedWorkspaces lists the workspaces whose log has events not yet
// published.
func (s *Store) UnpublishedWorkspaces(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM workspaces WHERE event_seq > published_seq ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unpublished workspaces: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: unpublished workspaces: %w", err)
	}
	return ids, nil
}
