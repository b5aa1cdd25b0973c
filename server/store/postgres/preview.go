package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ConversationPreviews returns the list rows' contacts and newest messages
// in one query, by the conversations' last_message_id.
func (s *Store) ConversationPreviews(ctx context.Context, workspaceID int64, ids []int64) ([]store.ConversationPreview, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, ct.id, ct.name, ct.email, ct.phone,
			m.id, m.direction, m.author_kind, m.type, left(m.body, $3), m.created_at
		FROM conversations c
		JOIN contacts ct ON ct.workspace_id = c.workspace_id AND ct.id = c.contact_id
		LEFT JOIN messages m ON m.workspace_id = c.workspace_id AND m.id = c.last_message_id
		WHERE c.workspace_id = $1 AND c.id = ANY($2)
		ORDER BY c.id`, workspaceID, ids, store.PreviewRunes)
	if err != nil {
		return nil, fmt.Errorf("store: conversation previews: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ConversationPreview, error) {
		var (
			p                store.ConversationPreview
			msgID            *int64
			dir, author, typ *string
			body             *string
			created          *time.Time
		)
		if err := r.Scan(&p.ConversationID, &p.Contact.ID, &p.Contact.Name, &p.Contact.Email, &p.Contact.Phone,
			&msgID, &dir, &author, &typ, &body, &created); err != nil {
			return p, err
		}
		if msgID != nil {
			p.LastMessage = &store.MessagePreview{ID: *msgID, Direction: store.Direction(deref(dir)), AuthorKind: store.AuthorKind(deref(author)),
				Type: store.MessageType(deref(typ)), Body: deref(body), CreatedAt: created.UTC()}
		}
		return p, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: conversation previews: %w", err)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
