package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ConversationPreviews returns the list rows' contacts and newest messages
// in one query, by the conversations' last_message_id.
func (s *Store) ConversationPreviews(ctx context.Context, workspaceID int64, ids []int64) ([]store.ConversationPreview, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("store: conversation previews: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, ct.id, ct.name, ct.email, ct.phone,
			m.id, m.direction, m.author_kind, m.type, substr(m.body, 1, ?), m.created_at
		FROM conversations c
		JOIN contacts ct ON ct.workspace_id = c.workspace_id AND ct.id = c.contact_id
		LEFT JOIN messages m ON m.workspace_id = c.workspace_id AND m.id = c.last_message_id
		WHERE c.workspace_id = ? AND c.id IN (SELECT value FROM json_each(?))
		ORDER BY c.id`, store.PreviewRunes, workspaceID, string(list))
	if err != nil {
		return nil, fmt.Errorf("store: conversation previews: %w", err)
	}
	defer rows.Close()
	var out []store.ConversationPreview
	for rows.Next() {
		var (
			p                store.ConversationPreview
			msgID, created   sql.NullInt64
			dir, author, typ sql.NullString
			body             sql.NullString
		)
		if err := rows.Scan(&p.ConversationID, &p.Contact.ID, &p.Contact.Name, &p.Contact.Email, &p.Contact.Phone,
			&msgID, &dir, &author, &typ, &body, &created); err != nil {
			return nil, fmt.Errorf("store: conversation previews: %w", err)
		}
		if msgID.Valid {
			p.LastMessage = &store.MessagePreview{ID: msgID.Int64, Direction: store.Direction(dir.String), AuthorKind: store.AuthorKind(author.String),
				Type: store.MessageType(typ.String), Body: body.String, CreatedAt: fromMicros(created.Int64)}
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: conversation previews: %w", err)
	}
	return out, nil
}
