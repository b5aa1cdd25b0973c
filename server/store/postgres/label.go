package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const labelCols = `id, workspace_id, name, color, description, created_at`

func scanLabel(row pgx.Row) (store.Label, error) {
	var l store.Label
	err := row.Scan(&l.ID, &l.WorkspaceID, &l.Name, &l.Color, &l.Description, &l.CreatedAt)
	l.CreatedAt = l.CreatedAt.UTC()
	return l, err
}

// ListLabels returns the workspace's labels by name.
func (s *Store) ListLabels(ctx context.Context, workspaceID int64) ([]store.Label, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+labelCols+` FROM labels WHERE workspace_id = $1 ORDER BY name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list labels: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Label, error) { return scanLabel(r) })
	if err != nil {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		var err error
		l, err = scanLabel(tx.QueryRow(ctx, `INSERT INTO labels (workspace_id, name, color, description, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+labelCols, workspaceID, nl.Name, nl.Color, nl.Description, now))
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

// lockLabel reads a label FOR UPDATE. Renaming and deleting both need the
// strong lock (a rename changes a unique key): it holds off a concurrent
// AddLabel about to link the label to another conversation, whose
// foreign-key check needs a KEY SHARE lock, so the conversations found
// carrying the label afterwards are all of them.
func lockLabel(ctx context.Context, tx pgx.Tx, workspaceID, id int64) (store.Label, error) {
	l, err := scanLabel(tx.QueryRow(ctx, `SELECT `+labelCols+` FROM labels WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, workspaceID, id))
	return l, notFound(err)
}

// labelledConversations locks the conversations carrying the label, in
// id order.
func labelledConversations(ctx context.Context, tx pgx.Tx, workspaceID, labelID int64) ([]int64, error) {
	return lockConversations(ctx, tx, `SELECT c.id FROM conversations c
		JOIN conversation_labels cl ON cl.conversation_id = c.id
		WHERE c.workspace_id = $1 AND cl.workspace_id = $1 AND cl.label_id = $2
		ORDER BY c.id FOR NO KEY UPDATE OF c`, workspaceID, labelID)
}

// UpdateLabel applies u and appends label.updated, after a
// conversation.updated for each labelled conversation when it renames.
func (s *Store) UpdateLabel(ctx context.Context, workspaceID, id int64, u store.LabelUpdate) (store.Label, error) {
	var l store.Label
	err := s.tx(ctx, func(tx pgx.Tx) error {
		before, err := lockLabel(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		l = before
		renamed, err := u.Apply(&l)
		if err != nil {
			return err
		}
		var convIDs []int64
		if renamed {
			if convIDs, err = labelledConversations(ctx, tx, workspaceID, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE labels SET name = $1, color = $2, description = $3 WHERE workspace_id = $4 AND id = $5`,
			l.Name, l.Color, l.Description, workspaceID, id)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		now := store.Now()
		if err := appendLabelChanges(ctx, tx, workspaceID, convIDs, now); err != nil {
			return err
		}
		payload := store.LabelPayload{Label: l}
		if renamed {
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
	err := s.tx(ctx, func(tx pgx.Tx) error {
		l, err := lockLabel(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		convIDs, err := labelledConversations(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		// ON DELETE CASCADE takes the label off the conversations.
		if _, err := tx.Exec(ctx, `DELETE FROM labels WHERE workspace_id = $1 AND id = $2`, workspaceID, id); err != nil {
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
func appendLabelChanges(ctx context.Context, tx pgx.Tx, workspaceID int64, convIDs []int64, now time.Time) error {
	for _, convID := range convIDs {
		c, err := conversationIn(ctx, tx, workspaceID, convID, false)
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
