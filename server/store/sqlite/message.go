package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const messageCols = `m.id, m.workspace_id, m.conversation_id, m.inbox_id, m.direction, m.author_kind, m.author_agent_id,
	m.type, m.body, m.content, m.provider_message_id, m.idempotency_key, m.status, m.error, m.ai_assisted,
	m.created_at, m.updated_at,
	(SELECT group_concat(agent_id) FROM mentions WHERE message_id = m.id),
	(SELECT json_group_array(json_object('id', id, 'state', state, 'mime_type', mime_type, 'filename', filename, 'size', size))
		FROM media WHERE message_id = m.id)`

func scanMessage(row interface{ Scan(...any) error }) (store.Message, error) {
	var (
		m                  store.Message
		author             sql.NullInt64
		content, pmid, key sql.NullString
		mentions, media    sql.NullString
		created, updated   int64
	)
	err := row.Scan(&m.ID, &m.WorkspaceID, &m.ConversationID, &m.InboxID, &m.Direction, &m.AuthorKind, &author,
		&m.Type, &m.Body, &content, &pmid, &key, &m.Status, &m.Error, &m.AIAssisted,
		&created, &updated, &mentions, &media)
	if err != nil {
		return store.Message{}, err
	}
	m.AuthorAgentID = author.Int64
	if content.Valid {
		m.Content = json.RawMessage(content.String)
	}
	m.ProviderMessageID, m.IdempotencyKey = pmid.String, key.String
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	for _, s := range strings.Split(mentions.String, ",") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			m.Mentions = append(m.Mentions, id)
		}
	}
	slices.Sort(m.Mentions)
	if m.Media, err = mediaRefs(media.String); err != nil {
		return store.Message{}, err
	}
	return m, nil
}

func messageIn(ctx context.Context, q queryer, workspaceID, id int64) (store.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m WHERE m.workspace_id = ? AND m.id = ?`, workspaceID, id))
	return m, notFound(err)
}

// existingMessage finds an earlier message with the same provider message
// id (in the inbox) or idempotency key (in the workspace).
func existingMessage(ctx context.Context, q queryer, workspaceID, inboxID int64, nm store.NewMessage) (store.Message, error) {
	if nm.ProviderMessageID != "" {
		m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m
			WHERE m.inbox_id = ? AND m.provider_message_id = ?`, inboxID, nm.ProviderMessageID))
		if !errors.Is(err, sql.ErrNoRows) {
			return m, err
		}
	}
	if nm.IdempotencyKey != "" {
		m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m
			WHERE m.workspace_id = ? AND m.idempotency_key = ?`, workspaceID, nm.IdempotencyKey))
		if !errors.Is(err, sql.ErrNoRows) {
			return m, err
		}
	}
	return store.Message{}, sql.ErrNoRows
}

func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// CreateMessage stores a message with its outbox entry, activity bump and
// event in one transaction. With one writer, checking for a duplicate and
// then inserting cannot race; the unique indexes back it up regardless.
func (s *Store) CreateMessage(ctx context.Context, workspaceID int64, nm store.NewMessage) (store.CreatedMessage, error) {
	status, err := nm.Normalize()
	if err != nil {
		return store.CreatedMessage{}, fmt.Errorf("store: create message: %w", err)
	}
	var out store.CreatedMessage
	err = s.write(ctx, func(tx *sql.Tx) error {
		c, err := conversationIn(ctx, tx, workspaceID, nm.ConversationID)
		if err != nil {
			return err
		}
		if m, err := existingMessage(ctx, tx, workspaceID, c.InboxID, nm); err == nil {
			out = store.CreatedMessage{Message: m, Duplicate: true}
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := checkMember(ctx, tx, workspaceID, nm.AuthorAgentID, "author_agent_id"); err != nil {
			return err
		}
		now := store.Now()
		if status == store.DeliveryQueued {
			if err := checkOutbound(ctx, tx, workspaceID, c, nm.Type, len(nm.Media), now); err != nil {
				return err
			}
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO messages (workspace_id, conversation_id, inbox_id, direction, author_kind,
				author_agent_id, type, body, content, provider_message_id, idempotency_key, status, ai_assisted, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			workspaceID, c.ID, c.InboxID, nm.Direction, nm.AuthorKind, nullID(nm.AuthorAgentID), nm.Type, nm.Body,
			nullJSON(nm.Content), nullString(nm.ProviderMessageID), nullString(nm.IdempotencyKey), status, nm.AIAssisted,
			micros(now), micros(now)).Scan(&id)
		if err != nil {
			return err
		}
		for _, agentID := range nm.Mentions {
			if err := checkMember(ctx, tx, workspaceID, agentID, "mentions"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO mentions (workspace_id, message_id, agent_id, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, workspaceID, id, agentID, micros(now)); err != nil {
				return err
			}
		}
		if err := insertMedia(ctx, tx, workspaceID, id, c.InboxID, nm.Media, now); err != nil {
			return err
		}
		if status == store.DeliveryQueued {
			if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (workspace_id, message_id, next_attempt_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, workspaceID, id, micros(now), micros(now), micros(now)); err != nil {
				return err
			}
		}
		// max(): activity never moves backwards, whatever the clocks.
		// last_inbound_at, which the messaging windows run from, moves on
		// with each message of the contact.
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET last_activity_at = max(last_activity_at, ?1), updated_at = ?1,
			last_message_id = ?4, last_inbound_at = CASE WHEN ?5 THEN max(coalesce(last_inbound_at, 0), ?1) ELSE last_inbound_at END
			WHERE workspace_id = ?2 AND id = ?3`, micros(now), workspaceID, c.ID, id, nm.Direction == store.DirectionIn); err != nil {
			return err
		}
		if c, err = conversationIn(ctx, tx, workspaceID, c.ID); err != nil {
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
func checkOutbound(ctx context.Context, q queryer, workspaceID int64, c store.Conversation, typ store.MessageType, attachments int, now time.Time) error {
	var (
		kind     store.InboxKind
		optedOut sql.NullInt64
	)
	err := q.QueryRowContext(ctx, `SELECT i.kind, ct.opted_out_at FROM inboxes i JOIN contacts ct ON ct.workspace_id = i.workspace_id AND ct.id = ?
		WHERE i.workspace_id = ? AND i.id = ?`, c.ContactID, workspaceID, c.InboxID).Scan(&kind, &optedOut)
	if err != nil {
		return fmt.Errorf("read messaging policy: %w", err)
	}
	if err := store.CheckAttachments(kind, attachments); err != nil {
		return err
	}
	return store.CheckOutbound(kind, typ, fromNullMicros(optedOut), c.LastInboundAt, now)
}

// Message returns a message of the workspace.
func (s *Store) Message(ctx context.Context, workspaceID, id int64) (store.Message, error) {
	m, err := messageIn(ctx, s.r, workspaceID, id)
	if err != nil {
		return store.Message{}, fmt.Errorf("store: message %d: %w", id, err)
	}
	return m, nil
}

// ListMessages pages a conversation's messages newest first.
func (s *Store) ListMessages(ctx context.Context, workspaceID, conversationID int64, f store.MessageFilter) ([]store.Message, error) {
	if _, err := conversationIn(ctx, s.r, workspaceID, conversationID); err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	before := f.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+messageCols+` FROM messages m
		WHERE m.workspace_id = ? AND m.conversation_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
		workspaceID, conversationID, before, store.PageSize(f.Limit))
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	return collectMessages(rows, "list messages")
}

func collectMessages(rows *sql.Rows, op string) ([]store.Message, error) {
	defer rows.Close()
	out := []store.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		res, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, error = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			status, errText, micros(now), workspaceID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, store.ErrNotFound)
		}
		if m, err = messageIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		c, err := conversationIn(ctx, tx, workspaceID, m.ConversationID)
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
