package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const labelCols = `id, workspace_id, name, color, description, created_at`

func scanLabel(row interface{ Scan(...any) error }) (store.Label, error) {
	var (
		l       store.Label
		created int64
	)
	err := row.Scan(&l.ID, &l.WorkspaceID, &l.Name, &l.Color, &l.Description, &created)
	l.CreatedAt = fromMicros(created)
	return l, err
}

// ListLabels returns the workspace's labels by name.
func (s *Store) ListLabels(ctx context.Context, workspaceID int64) ([]store.Label, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+labelCols+` FROM labels WHERE workspace_id = ? ORDER BY name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list labels: %w", err)
	}
	defer rows.Close()
	out := []store.Label{}
	for rows.Next() {
		l, err := scanLabel(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list labels: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list labels: %w", err)
	}
	return out, nil
}

// CreateLabel creates a label and appends label.created.
func (s *Store) CreateLabel(ctx context.Context, workspaceID int64, nl store.NewLabel) (store.Label, error) {
	if err := nl.Normalize(); err != nil {
		return store.Label{}, fmt.Errorf("store: create label: %w", err)
	}
	var l store.Label
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		var err error
		l, err = scanLabel(tx.QueryRowContext(ctx, `INSERT INTO labels (workspace_id, name, color, description, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING `+labelCols, workspaceID, nl.Name, nl.Color, nl.Description, micros(now)))
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		case err != nil:
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventLabelCreated, 0, store.LabelPayload{Label: l}, now)
		return err
	})
	if err != nil {
		return store.Label{}, fmt.Errorf("store: create label: %w", err)
	}
	return l, nil
}

func labelIn(ctx context.Context, q queryer, workspaceID, id int64) (store.Label, error) {
	l, err := scanLabel(q.QueryRowContext(ctx, `SELECT `+labelCols+` FROM labels WHERE workspace_id = ? AND id = ?`, workspaceID, id))
	return l, notFound(err)
}

// labelledConversations returns the conversations carrying the label, in
// id order.
func labelledConversations(ctx context.Context, tx *sql.Tx, workspaceID, labelID int64) ([]int64, error) {
	return queryIDs(ctx, tx, `SELECT conversation_id FROM conversation_labels
		WHERE workspace_id = ? AND label_id = ? ORDER BY conversation_id`, workspaceID, labelID)
}

// UpdateLabel applies u and appends label.updated, after a
// conversation.updated for each labelled conversation when it renames.
func (s *Store) UpdateLabel(ctx context.Context, workspaceID, id int64, u store.LabelUpdate) (store.Label, error) {
	var l store.Label
	err := s.write(ctx, func(tx *sql.Tx) error {
		before, err := labelIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		l = before
		renamed, err := u.Apply(&l)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE labels SET name = ?, color = ?, description = ? WHERE workspace_id = ? AND id = ?`,
			l.Name, l.Color, l.Description, workspaceID, id)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		now := store.Now()
		payload := store.LabelPayload{Label: l}
		if renamed {
			convIDs, err := labelledConversations(ctx, tx, workspaceID, id)
			if err != nil {
				return err
			}
			if err := appendLabelChanges(ctx, tx, workspaceID, convIDs, now); err != nil {
				return err
			}
			payload.PreviousName = before.Name
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventLabelUpdated, 0, payload, now)
		return err
	})
	if err != nil {
		return store.Label{}, fmt.Errorf("store: update label %d: %w", id, err)
	}
	return l, nil
}

// DeleteLabel takes the label off every conversation and deletes it.
func (s *Store) DeleteLabel(ctx context.Context, workspaceID, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		l, err := labelIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		convIDs, err := labelledConversations(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		// ON DELETE CASCADE takes the label off the conversations.
		if _, err := tx.ExecContext(ctx, `DELETE FROM labels WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
			return err
		}
		now := store.Now()
		if err := appendLabelChanges(ctx, tx, workspaceID, convIDs, now); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventLabelDeleted, 0, store.LabelPayload{Label: l}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete label %d: %w", id, err)
	}
	return nil
}

// appendLabelChanges appends conversation.updated for each conversation
// whose labels a rename or delete changed, reading each as it is now.
func appendLabelChanges(ctx context.Context, tx *sql.Tx, workspaceID int64, convIDs []int64, now time.Time) error {
	for _, convID := range convIDs {
		c, err := conversationIn(ctx, tx, workspaceID, convID)
		if err != nil {
			return err
		}
		if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, convID,
			store.ConversationPayload{Conversation: c, Changed: []string{"labels"}}, now); err != nil {
			return err
		}
	}
	return nil
}
