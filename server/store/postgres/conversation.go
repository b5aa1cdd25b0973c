package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const conversationCols = `c.id, c.workspace_id, c.inbox_id, c.contact_id, c.status, c.snoozed_until,
	coalesce(c.assignee_id, 0), coalesce(c.team_id, 0), c.priority, c.subject, coalesce(c.last_message_id, 0), c.last_activity_at, c.last_inbound_at, c.created_at, c.updated_at,
	coalesce((SELECT array_agg(l.name ORDER BY l.name) FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
	 WHERE cl.conversation_id = c.id), '{}')`

func scanConversation(row pgx.Row) (store.Conversation, error) {
	var c store.Conversation
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.InboxID, &c.ContactID, &c.Status, &c.SnoozedUntil,
		&c.AssigneeID, &c.TeamID, &c.Priority, &c.Subject, &c.LastMessageID, &c.LastActivityAt, &c.LastInboundAt, &c.CreatedAt, &c.UpdatedAt, &c.Labels)
	if c.SnoozedUntil != nil {
		t := c.SnoozedUntil.UTC()
		c.SnoozedUntil = &t
	}
	if c.LastInboundAt != nil {
		t := c.LastInboundAt.UTC()
		c.LastInboundAt = &t
	}
	c.LastActivityAt, c.CreatedAt, c.UpdatedAt = c.LastActivityAt.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if c.Labels == nil {
		c.Labels = []string{}
	}
	return c, err
}

func conversationIn(ctx context.Context, q querier, workspaceID, id int64, forUpdate bool) (store.Conversation, error) {
	query := `SELECT ` + conversationCols + ` FROM conversations c WHERE c.workspace_id = $1 AND c.id = $2`
	if forUpdate {
		query += ` FOR NO KEY UPDATE OF c`
	}
	c, err := scanConversation(q.QueryRow(ctx, query, workspaceID, id))
	return c, notFound(err)
}

// insertConversation creates a conversation in tx and appends
// conversation.created.
func insertConversation(ctx context.Context, tx pgx.Tx, workspaceID int64, nc store.NewConversation) (store.Conversation, store.Event, error) {
	if err := checkMember(ctx, tx, workspaceID, nc.AssigneeID, "assignee_id"); err != nil {
		return store.Conversation{}, store.Event{}, err
	}
	if err := checkTeam(ctx, tx, workspaceID, nc.TeamID); err != nil {
		return store.Conversation{}, store.Event{}, err
	}
	now := store.Now()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO conversations
		(workspace_id, inbox_id, contact_id, status, assignee_id, team_id, priority, subject, last_activity_at, created_at, updated_at)
		SELECT $1, i.id, k.id, $4, $5, $6, $7, $8, $9, $9, $9
		FROM inboxes i, contacts k
		WHERE i.workspace_id = $1 AND i.id = $2 AND k.workspace_id = $1 AND k.id = $3
		RETURNING id`,
		workspaceID, nc.InboxID, nc.ContactID, nc.Status, nullID(nc.AssigneeID), nullID(nc.TeamID),
		nc.Priority, strings.TrimSpace(nc.Subject), now).Scan(&id)
	if err != nil {
		// No row: the inbox or the contact is not in this workspace.
		return store.Conversation{}, store.Event{}, notFound(err)
	}
	c, err := conversationIn(ctx, tx, workspaceID, id, false)
	if err != nil {
		return store.Conversation{}, store.Event{}, err
	}
	ev, err := appendEvent(ctx, tx, workspaceID, store.EventConversationCreated, c.ID, store.ConversationPayload{Conversation: c}, now)
	return c, ev, err
}

// CreateConversation creates a conversation and appends
// conversation.created.
func (s *Store) CreateConversation(ctx context.Context, workspaceID int64, nc store.NewConversation) (store.Conversation, store.Event, error) {
	if err := nc.Normalize(); err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: create conversation: %w", err)
	}
	var (
		c  store.Conversation
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		c, ev, err = insertConversation(ctx, tx, workspaceID, nc)
		return err
	})
	if err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: create conversation: %w", err)
	}
	return c, ev, nil
}

// OpenConversation returns the contact's latest conversation in the
// inbox unless it is resolved, or creates one. The contact's row is locked
// (FOR NO KEY UPDATE, which conflicts with itself but not with the foreign
// key checks of other writes), so two first messages of a new contact
// arriving at once open one conversation, not two.
func (s *Store) OpenConversation(ctx context.Context, workspaceID int64, nc store.NewConversation) (store.Conversation, bool, error) {
	if err := nc.Normalize(); err != nil {
		return store.Conversation{}, false, fmt.Errorf("store: open conversation: %w", err)
	}
	var (
		c       store.Conversation
		created bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := contactIn(ctx, tx, workspaceID, nc.ContactID, lockForEdit); err != nil {
			return err
		}
		latest, err := scanConversation(tx.QueryRow(ctx, `SELECT `+conversationCols+` FROM conversations c
			WHERE c.workspace_id = $1 AND c.inbox_id = $2 AND c.contact_id = $3
			ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 1`, workspaceID, nc.InboxID, nc.ContactID))
		if err == nil && latest.Status != store.StatusResolved {
			c = latest
			return nil
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		c, _, err = insertConversation(ctx, tx, workspaceID, nc)
		created = err == nil
		return err
	})
	if err != nil {
		return store.Conversation{}, false, fmt.Errorf("store: open conversation: %w", err)
	}
	return c, created, nil
}

// Conversation returns a conversation of the workspace.
func (s *Store) Conversation(ctx context.Context, workspaceID, id int64) (store.Conversation, error) {
	c, err := conversationIn(ctx, s.pool, workspaceID, id, false)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("store: conversation %d: %w", id, err)
	}
	return c, nil
}

// ListConversations pages conversations newest activity first with a
// keyset cursor on (last_activity_at, id).
func (s *Store) ListConversations(ctx context.Context, workspaceID int64, f store.ConversationFilter) (store.ConversationPage, error) {
	if err := f.Normalize(); err != nil {
		return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
	}
	where := []string{"c.workspace_id = $1"}
	args := []any{workspaceID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Status != "" {
		where = append(where, "c.status = "+arg(f.Status))
	}
	if f.InboxID != 0 {
		where = append(where, "c.inbox_id = "+arg(f.InboxID))
	}
	if f.TeamID != 0 {
		where = append(where, "c.team_id = "+arg(f.TeamID))
	}
	if f.ContactID != 0 {
		where = append(where, "c.contact_id = "+arg(f.ContactID))
	}
	switch f.Assignee {
	case store.AssigneeMe:
		where = append(where, "c.assignee_id = "+arg(f.AgentID))
	case store.AssigneeUnassigned:
		where = append(where, "c.assignee_id IS NULL")
	}
	if f.Label != "" {
		where = append(where, `EXISTS (SELECT 1 FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
			WHERE cl.conversation_id = c.id AND l.workspace_id = c.workspace_id AND l.name = `+arg(f.Label)+`)`)
	}
	if f.Unread {
		where = append(where, `c.last_message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversation_reads r
			WHERE r.conversation_id = c.id AND r.agent_id = `+arg(f.AgentID)+` AND r.last_read_message_id >= c.last_message_id)`)
	}
	if f.Cursor != "" {
		cur, _ := store.DecodeCursor(f.Cursor) // validated by Normalize
		where = append(where, "(c.last_activity_at, c.id) < ("+arg(cur.LastActivityAt)+", "+arg(cur.ID)+")")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversationCols+` FROM conversations c
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY c.last_activity_at DESC, c.id DESC LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
	}
	convs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Conversation, error) { return scanConversation(r) })
	if err != nil {
		return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
	}
	page := store.ConversationPage{Conversations: convs}
	if len(convs) > f.Limit {
		page.Conversations = convs[:f.Limit]
		last := page.Conversations[f.Limit-1]
		page.Next = store.Cursor{LastActivityAt: last.LastActivityAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// UpdateConversation applies u under the conversation's row lock and
// appends conversation.updated.
func (s *Store) UpdateConversation(ctx context.Context, workspaceID, id int64, u store.ConversationUpdate) (store.Conversation, store.Event, error) {
	var (
		c  store.Conversation
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = conversationIn(ctx, tx, workspaceID, id, true); err != nil {
			return err
		}
		before := c
		now := store.Now()
		if err := u.Apply(&c, now); err != nil {
			return err
		}
		if err := checkMember(ctx, tx, workspaceID, c.AssigneeID, "assignee_id"); err != nil {
			return err
		}
		if err := checkTeam(ctx, tx, workspaceID, c.TeamID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE conversations SET status = $1, snoozed_until = $2, assignee_id = $3, team_id = $4,
			priority = $5, updated_at = $6 WHERE workspace_id = $7 AND id = $8`,
			c.Status, c.SnoozedUntil, nullID(c.AssigneeID), nullID(c.TeamID), c.Priority, now, workspaceID, id)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, c.ID,
			store.ConversationPayload{Conversation: c, Changed: store.ChangedFields(before, c)}, now)
		return err
	})
	if err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: update conversation %d: %w", id, err)
	}
	return c, ev, nil
}

// AddLabel labels a conversation, creating the label if needed.
func (s *Store) AddLabel(ctx context.Context, workspaceID, id int64, label string) (store.Conversation, store.Event, error) {
	label, err := store.NormalizeLabel(label)
	if err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: add label: %w", err)
	}
	return s.changeLabel(ctx, workspaceID, id, func(tx pgx.Tx) (pgconn.CommandTag, error) {
		now := store.Now()
		created, err := scanLabel(tx.QueryRow(ctx, `INSERT INTO labels (workspace_id, name, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (workspace_id, name) DO NOTHING RETURNING `+labelCols, workspaceID, label, now))
		switch {
		case err == nil:
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventLabelCreated, 0, store.LabelPayload{Label: created}, now); err != nil {
				return pgconn.CommandTag{}, err
			}
		case !errors.Is(err, pgx.ErrNoRows): // no row: the label exists
			return pgconn.CommandTag{}, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO conversation_labels (workspace_id, conversation_id, label_id, created_at)
			SELECT $1, $2, id, $4 FROM labels WHERE workspace_id = $1 AND name = $3
			ON CONFLICT DO NOTHING`, workspaceID, id, label, now)
		if isForeignKey(err) {
			// DeleteLabel removed the label after this statement
			// found it.
			err = store.ErrConflict
		}
		return tag, err
	})
}

// RemoveLabel takes a label off a conversation.
func (s *Store) RemoveLabel(ctx context.Context, workspaceID, id int64, label string) (store.Conversation, store.Event, error) {
	label, err := store.NormalizeLabel(label)
	if err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: remove label: %w", err)
	}
	return s.changeLabel(ctx, workspaceID, id, func(tx pgx.Tx) (pgconn.CommandTag, error) {
		return tx.Exec(ctx, `DELETE FROM conversation_labels WHERE workspace_id = $1 AND conversation_id = $2
			AND label_id = (SELECT id FROM labels WHERE workspace_id = $1 AND name = $3)`, workspaceID, id, label)
	})
}

func (s *Store) changeLabel(ctx context.Context, workspaceID, id int64, change func(pgx.Tx) (pgconn.CommandTag, error)) (store.Conversation, store.Event, error) {
	var (
		c  store.Conversation
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The row lock serialises label changes on one conversation, so
		// each event's payload shows the labels as of its own change.
		if _, err := conversationIn(ctx, tx, workspaceID, id, true); err != nil {
			return err
		}
		tag, err := change(tx)
		if err != nil {
			return err
		}
		if c, err = conversationIn(ctx, tx, workspaceID, id, false); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil // unchanged: no event
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, c.ID,
			store.ConversationPayload{Conversation: c, Changed: []string{"labels"}}, store.Now())
		return err
	})
	if err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: label conversation %d: %w", id, err)
	}
	return c, ev, nil
}

// MarkRead records that the agent has read the conversation up to its
// newest message.
func (s *Store) MarkRead(ctx context.Context, workspaceID, id, agentID int64) (store.Event, error) {
	var ev store.Event
	err := s.tx(ctx, func(tx pgx.Tx) error {
		c, err := conversationIn(ctx, tx, workspaceID, id, false)
		if err != nil {
			return err
		}
		if err := checkMember(ctx, tx, workspaceID, agentID, "agent_id"); err != nil {
			return err
		}
		now := store.Now()
		_, err = tx.Exec(ctx, `INSERT INTO conversation_reads (workspace_id, conversation_id, agent_id, last_read_at, last_read_message_id)
			VALUES ($1, $2, $3, $4, (SELECT max(id) FROM messages WHERE workspace_id = $1 AND conversation_id = $2))
			ON CONFLICT (conversation_id, agent_id) DO UPDATE SET last_read_at = excluded.last_read_at,
				last_read_message_id = excluded.last_read_message_id`,
			workspaceID, id, agentID, now)
		if err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventConversationRead, c.ID, store.ConversationPayload{Conversation: c, AgentID: agentID}, now)
		return err
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("store: mark conversation %d read: %w", id, err)
	}
	return ev, nil
}
