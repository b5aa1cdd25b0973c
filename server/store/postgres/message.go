package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const messageCols = `m.id, m.workspace_id, m.conversation_id, m.inbox_id, m.direction, m.author_kind, coalesce(m.author_agent_id, 0),
	m.type, m.body, m.content, coalesce(m.provider_message_id, ''), coalesce(m.idempotency_key, ''), m.status, m.error, m.ai_assisted,
	m.created_at, m.updated_at,
	(SELECT array_agg(agent_id ORDER BY agent_id) FROM mentions WHERE message_id = m.id),
	(SELECT json_agg(json_build_object('id', id, 'state', state, 'mime_type', mime_type, 'filename', filename, 'size', size) ORDER BY id)
		FROM media WHERE message_id = m.id)`

func scanMessage(row pgx.Row) (store.Message, error) {
	var (
		m     store.Message
		media []byte
	)
	err := row.Scan(&m.ID, &m.WorkspaceID, &m.ConversationID, &m.InboxID, &m.Direction, &m.AuthorKind, &m.AuthorAgentID,
		&m.Type, &m.Body, &m.Content, &m.ProviderMessageID, &m.IdempotencyKey, &m.Status, &m.Error, &m.AIAssisted,
		&m.CreatedAt, &m.UpdatedAt, &m.Mentions, &media)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	if err == nil && len(media) > 0 {
		if err = json.Unmarshal(media, &m.Media); err != nil {
			err = fmt.Errorf("decode media: %w", err)
		}
	}
	return m, err
}

func collectMessages(rows pgx.Rows) ([]store.Message, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Message, error) { return scanMessage(r) })
}

func messageIn(ctx context.Context, q querier, workspaceID, id int64) (store.Message, error) {
	m, err := scanMessage(q.QueryRow(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.workspace_id = $1 AND m.id = $2`, workspaceID, id))
	return m, notFound(err)
}

// existingMessage finds the earlier message a conflicting insert collided
// with: same provider message id in the inbox, or same idempotency key in
// the workspace.
func existingMessage(ctx context.Context, q querier, workspaceID, inboxID int64, nm store.NewMessage) (store.Message, error) {
	m, err := scanMessage(q.QueryRow(ctx, `SELECT `+messageCols+` FROM messages m
		WHERE (m.inbox_id = $1 AND m.provider_message_id = $2) OR (m.workspace_id = $3 AND m.idempotency_key = $4)
		ORDER BY m.id LIMIT 1`, inboxID, nullString(nm.ProviderMessageID), workspaceID, nullString(nm.IdempotencyKey)))
	return m, err
}

func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// CreateMessage stores a message with its outbox entry, activity bump and
// event in one transaction.
//
// Deduplication is INSERT ... ON CONFLICT DO NOTHING: when a provider
// retries a webhook while the first delivery is still being stored, the
// second insert waits for the first transaction, then finds the row
// committed and returns it flagged Duplicate, writing nothing.
func (s *Store) CreateMessage(ctx context.Context, workspaceID int64, nm store.NewMessage) (store.CreatedMessage, error) {
	status, err := nm.Normalize()
	if err != nil {
		return store.CreatedMessage{}, fmt.Errorf("store: create message: %w", err)
	}
	var out store.CreatedMessage
	err = s.tx(ctx, func(tx pgx.Tx) error {
		c, err := conversationIn(ctx, tx, workspaceID, nm.ConversationID, false)
		if err != nil {
			return err
		}
		if err := checkMember(ctx, tx, workspaceID, nm.AuthorAgentID, "author_agent_id"); err != nil {
			return err
		}
		for _, agentID := range nm.Mentions {
			if err := checkMember(ctx, tx, workspaceID, agentID, "mentions"); err != nil {
				return err
			}
		}
		now := store.Now()
		if status == store.DeliveryQueued {
			if err := checkOutbound(ctx, tx, workspaceID, c, nm.Type, len(nm.Media), now); err != nil {
				return err
			}
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, author_kind,
				author_agent_id, type, body, content, provider_message_id, idempotency_key, status, ai_assisted, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
			ON CONFLICT DO NOTHING RETURNING id`,
			workspaceID, c.ID, c.InboxID, nm.Direction, nm.AuthorKind, nullID(nm.AuthorAgentID), nm.Type, nm.Body,
			nullJSON(nm.Content), nullString(nm.ProviderMessageID), nullString(nm.IdempotencyKey), status, nm.AIAssisted, now).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			m, err := existingMessage(ctx, tx, workspaceID, c.InboxID, nm)
			if err != nil {
				return fmt.Errorf("find duplicate: %w", err)
			}
			out = store.CreatedMessage{Message: m, Duplicate: true}
			return nil
		}
		if err != nil {
			return err
		}
		if len(nm.Mentions) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO mentions (workspace_id, message_id, agent_id, created_at)
				SELECT $1, $2, unnest($3::bigint[]), $4 ON CONFLICT DO NOTHING`, workspaceID, id, nm.Mentions, now); err != nil {
				return err
			}
		}
		if err := insertMedia(ctx, tx, workspaceID, id, c.InboxID, nm.Media, now); err != nil {
			return err
		}
		if status == store.DeliveryQueued {
			if _, err := tx.Exec(ctx, `INSERT INTO outbox (workspace_id, message_id, next_attempt_at, created_at, updated_at)
				VALUES ($1, $2, $3, $3, $3)`, workspaceID, id, now); err != nil {
				return err
			}
		}
		// greatest(): activity never moves backwards, whatever the clocks.
		// last_inbound_at, which the messaging windows run from, moves on
		// with each message of the contact.
		if _, err := tx.Exec(ctx, `UPDATE conversations SET last_activity_at = greatest(last_activity_at, $1), updated_at = $1,
			last_message_id = greatest(last_message_id, $4),
			last_inbound_at = CASE WHEN $5 THEN greatest(last_inbound_at, $1) ELSE last_inbound_at END
			WHERE workspace_id = $2 AND id = $3`, now, workspaceID, c.ID, id, nm.Direction == store.DirectionIn); err != nil {
			return err
		}
		if c, err = conversationIn(ctx, tx, workspaceID, c.ID, false); err != nil {
			return err
		}
		m, err := messageIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		ev, err := appendEvent(ctx, tx, workspaceID, m.CreatedEventKind(), c.ID, store.MessagePayload{Message: m, Conversation: c}, now)
		out = store.CreatedMessage{Message: m, Events: []store.Event{ev}}
		return err
	})
	if err != nil {
		return store.CreatedMessage{}, fmt.Errorf("store: create message: %w", err)
	}
	return out, nil
}

// checkOutbound applies store.CheckAttachments and store.CheckOutbound
// to a message with attachments media items about to be queued in
// conversation c.
func checkOutbound(ctx context.Context, q querier, workspaceID int64, c store.Conversation, typ store.MessageType, attachments int, now time.Time) error {
	var (
		kind     store.InboxKind
		optedOut *time.Time
	)
	err := q.QueryRow(ctx, `SELECT i.kind, ct.opted_out_at FROM inboxes i JOIN contacts ct ON ct.workspace_id = i.workspace_id AND ct.id = $1
		WHERE i.workspace_id = $2 AND i.id = $3`, c.ContactID, workspaceID, c.InboxID).Scan(&kind, &optedOut)
	if err != nil {
		return fmt.Errorf("read messaging policy: %w", err)
	}
	if err := store.CheckAttachments(kind, attachments); err != nil {
		return err
	}
	return store.CheckOutbound(kind, typ, optedOut, c.LastInboundAt, now)
}

// Message returns a message of the workspace.
func (s *Store) Message(ctx context.Context, workspaceID, id int64) (store.Message, error) {
	m, err := messageIn(ctx, s.pool, workspaceID, id)
	if err != nil {
		return store.Message{}, fmt.Errorf("store: message %d: %w", id, err)
	}
	return m, nil
}

// ListMessages pages a conversation's messages newest first.
func (s *Store) ListMessages(ctx context.Context, workspaceID, conversationID int64, f store.MessageFilter) ([]store.Message, error) {
	if _, err := conversationIn(ctx, s.pool, workspaceID, conversationID, false); err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	before := f.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT `+messageCols+` FROM messages m
		WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.id < $3 ORDER BY m.id DESC LIMIT $4`,
		workspaceID, conversationID, before, store.PageSize(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	out, err := collectMessages(rows)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	return out, nil
}

// UpdateMessageStatus records a delivery receipt and appends
// message.updated.
func (s *Store) UpdateMessageStatus(ctx context.Context, workspaceID, id int64, status store.DeliveryStatus, errText string) (store.Message, store.Event, error) {
	if !status.Valid() {
		return store.Message{}, store.Event{}, fmt.Errorf("store: update message status: %w", store.Invalid("status", "unknown status %q", status))
	}
	var (
		m  store.Message
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		tag, err := tx.Exec(ctx, `UPDATE messages SET status = $1, error = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5`,
			status, errText, now, workspaceID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if m, err = messageIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		c, err := conversationIn(ctx, tx, workspaceID, m.ConversationID, false)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventMessageUpdated, c.ID, store.MessagePayload{Message: m, Conversation: c}, now)
		return err
	})
	if err != nil {
		return store.Message{}, store.Event{}, fmt.Errorf("store: update message %d status: %w", id, err)
	}
	return m, ev, nil
}
