package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// labelSep separates label names in the group_concat below; names cannot
// contain it (control characters are refused).
const labelSep = "\x1f"

const conversationCols = `c.id, c.workspace_id, c.inbox_id, c.contact_id, c.status, c.snoozed_until,
	c.assignee_id, c.team_id, c.priority, c.subject, c.last_message_id, c.last_activity_at, c.last_inbound_at, c.created_at, c.updated_at,
	(SELECT group_concat(l.name, char(31)) FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
	 WHERE cl.conversation_id = c.id)`

func scanConversation(row interface{ Scan(...any) error }) (store.Conversation, error) {
	var (
		c                         store.Conversation
		snoozed, inbound          sql.NullInt64
		assignee, team, lastMsg   sql.NullInt64
		labels                    sql.NullString
		activity, created, update int64
	)
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.InboxID, &c.ContactID, &c.Status, &snoozed,
		&assignee, &team, &c.Priority, &c.Subject, &lastMsg, &activity, &inbound, &created, &update, &labels)
	c.SnoozedUntil = fromNullMicros(snoozed)
	c.LastInboundAt = fromNullMicros(inbound)
	c.AssigneeID, c.TeamID, c.LastMessageID = assignee.Int64, team.Int64, lastMsg.Int64
	c.LastActivityAt, c.CreatedAt, c.UpdatedAt = fromMicros(activity), fromMicros(created), fromMicros(update)
	c.Labels = []string{}
	if labels.String != "" {
		c.Labels = strings.Split(labels.String, labelSep)
		slices.Sort(c.Labels)
	}
	return c, err
}

func conversationIn(ctx context.Context, q queryer, workspaceID, id int64) (store.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations c
		WHERE c.workspace_id = ? AND c.id = ?`, workspaceID, id))
	return c, notFound(err)
}

// checkMember reports store.ErrInvalid unless agentID (if set) is a member.
// SQLite's assignee foreign key only reaches agents, so membership is
// checked here.
func checkMember(ctx context.Context, q queryer, workspaceID, agentID int64, field string) error {
	if agentID == 0 {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE workspace_id = ? AND agent_id = ?`, workspaceID, agentID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.Invalid(field, "agent %d is not a member of this workspace", agentID)
	}
	return nil
}

func checkTeam(ctx context.Context, q queryer, workspaceID, teamID int64) error {
	if teamID == 0 {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, teamID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return store.Invalid("team_id", "no team %d in this workspace", teamID)
	}
	return nil
}

// insertConversation creates a conversation in tx and appends
// conversation.created.
func insertConversation(ctx context.Context, tx *sql.Tx, workspaceID int64, nc store.NewConversation) (store.Conversation, store.Event, error) {
	if err := checkMember(ctx, tx, workspaceID, nc.AssigneeID, "assignee_id"); err != nil {
		return store.Conversation{}, store.Event{}, err
	}
	if err := checkTeam(ctx, tx, workspaceID, nc.TeamID); err != nil {
		return store.Conversation{}, store.Event{}, err
	}
	now := store.Now()
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO conversations
		(workspace_id, inbox_id, contact_id, status, assignee_id, team_id, priority, subject, last_activity_at, created_at, updated_at)
		SELECT ?1, i.id, k.id, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?9
		FROM inboxes i, contacts k
		WHERE i.workspace_id = ?1 AND i.id = ?2 AND k.workspace_id = ?1 AND k.id = ?3
		RETURNING id`,
		workspaceID, nc.InboxID, nc.ContactID, nc.Status, nullID(nc.AssigneeID), nullID(nc.TeamID),
		nc.Priority, strings.TrimSpace(nc.Subject), micros(now)).Scan(&id)
	if err != nil {
		// No row: the inbox or the contact is not in this workspace.
		return store.Conversation{}, store.Event{}, notFound(err)
	}
	c, err := conversationIn(ctx, tx, workspaceID, id)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
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
// inbox unless it is resolved, or creates one. With one writer, finding
// and creating cannot race: two first messages of a new contact arriving
// at once open one conversation, not two.
func (s *Store) OpenConversation(ctx context.Context, workspaceID int64, nc store.NewConversation) (store.Conversation, bool, error) {
	if err := nc.Normalize(); err != nil {
		return store.Conversation{}, false, fmt.Errorf("store: open conversation: %w", err)
	}
	var (
		c       store.Conversation
		created bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := contactIn(ctx, tx, workspaceID, nc.ContactID); err != nil {
			return err
		}
		latest, err := scanConversation(tx.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations c
			WHERE c.workspace_id = ? AND c.inbox_id = ? AND c.contact_id = ?
			ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 1`, workspaceID, nc.InboxID, nc.ContactID))
		if err == nil && latest.Status != store.StatusResolved {
			c = latest
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
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
	c, err := conversationIn(ctx, s.r, workspaceID, id)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("store: conversation %d: %w", id, err)
	}
	return c, nil
}

// ListConversations pages conversations newest activity first with a
// keyset cursor.
func (s *Store) ListConversations(ctx context.Context, workspaceID int64, f store.ConversationFilter) (store.ConversationPage, error) {
	if err := f.Normalize(); err != nil {
		return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
	}
	where := []string{"c.workspace_id = ?"}
	args := []any{workspaceID}
	if f.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, f.Status)
	}
	if f.InboxID != 0 {
		where, args = append(where, "c.inbox_id = ?"), append(args, f.InboxID)
	}
	if f.TeamID != 0 {
		where, args = append(where, "c.team_id = ?"), append(args, f.TeamID)
	}
	if f.ContactID != 0 {
		where, args = append(where, "c.contact_id = ?"), append(args, f.ContactID)
	}
	switch f.Assignee {
	case store.AssigneeMe:
		where, args = append(where, "c.assignee_id = ?"), append(args, f.AgentID)
	case store.AssigneeUnassigned:
		where = append(where, "c.assignee_id IS NULL")
	}
	if f.Label != "" {
		where = append(where, `EXISTS (SELECT 1 FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
			WHERE cl.conversation_id = c.id AND l.workspace_id = c.workspace_id AND l.name = ?)`)
		args = append(args, f.Label)
	}
	if f.Unread {
		where = append(where, `c.last_message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversation_reads r
			WHERE r.conversation_id = c.id AND r.agent_id = ? AND r.last_read_message_id >= c.last_message_id)`)
		args = append(args, f.AgentID)
	}
	if f.Cursor != "" {
		cur, _ := store.DecodeCursor(f.Cursor) // validated by Normalize
		where = append(where, "(c.last_activity_at < ? OR (c.last_activity_at = ? AND c.id < ?))")
		args = append(args, micros(cur.LastActivityAt), micros(cur.LastActivityAt), cur.ID)
	}
	args = append(args, f.Limit+1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+conversationCols+` FROM conversations c
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?`, args...)
	if err != nil {
		return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
	}
	defer rows.Close()
	var page store.ConversationPage
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
		}
		page.Conversations = append(page.Conversations, c)
	}
	if err := rows.Err(); err != nil {
		return store.ConversationPage{}, fmt.Errorf("store: list conversations: %w", err)
	}
	if len(page.Conversations) > f.Limit {
		page.Conversations = page.Conversations[:f.Limit]
		last := page.Conversations[f.Limit-1]
		page.Next = store.Cursor{LastActivityAt: last.LastActivityAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// UpdateConversation applies u and appends conversation.updated.
func (s *Store) UpdateConversation(ctx context.Context, workspaceID, id int64, u store.ConversationUpdate) (store.Conversation, store.Event, error) {
	var (
		c  store.Conversation
		ev store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = conversationIn(ctx, tx, workspaceID, id); err != nil {
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
		_, err = tx.ExecContext(ctx, `UPDATE conversations SET status = ?, snoozed_until = ?, assignee_id = ?, team_id = ?,
			priority = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			c.Status, nullMicros(c.SnoozedUntil), nullID(c.AssigneeID), nullID(c.TeamID), c.Priority, micros(now), workspaceID, id)
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
	return s.changeLabel(ctx, workspaceID, id, func(tx *sql.Tx, now time.Time) (sql.Result, error) {
		created, err := scanLabel(tx.QueryRowContext(ctx, `INSERT INTO labels (workspace_id, name, created_at) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id, name) DO NOTHING RETURNING `+labelCols, workspaceID, label, micros(now)))
		switch {
		case err == nil:
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventLabelCreated, 0, store.LabelPayload{Label: created}, now); err != nil {
				return nil, err
			}
		case !errors.Is(err, sql.ErrNoRows): // no row: the label exists
			return nil, err
		}
		return tx.ExecContext(ctx, `INSERT INTO conversation_labels (workspace_id, conversation_id, label_id, created_at)
			SELECT ?1, ?2, id, ?4 FROM labels WHERE workspace_id = ?1 AND name = ?3
			ON CONFLICT DO NOTHING`, workspaceID, id, label, micros(now))
	})
}

// RemoveLabel takes a label off a conversation.
func (s *Store) RemoveLabel(ctx context.Context, workspaceID, id int64, label string) (store.Conversation, store.Event, error) {
	label, err := store.NormalizeLabel(label)
	if err != nil {
		return store.Conversation{}, store.Event{}, fmt.Errorf("store: remove label: %w", err)
	}
	return s.changeLabel(ctx, workspaceID, id, func(tx *sql.Tx, _ time.Time) (sql.Result, error) {
		return tx.ExecContext(ctx, `DELETE FROM conversation_labels WHERE workspace_id = ?1 AND conversation_id = ?2
			AND label_id = (SELECT id FROM labels WHERE workspace_id = ?1 AND name = ?3)`, workspaceID, id, label)
	})
}

func (s *Store) changeLabel(ctx context.Context, workspaceID, id int64, change func(*sql.Tx, time.Time) (sql.Result, error)) (store.Conversation, store.Event, error) {
	var (
		c  store.Conversation
		ev store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := conversationIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		now := store.Now()
		res, err := change(tx, now)
		if err != nil {
			return err
		}
		if c, err = conversationIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // unchanged: no event
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, c.ID,
			store.ConversationPayload{Conversation: c, Changed: []string{"labels"}}, now)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := conversationIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		if err := checkMember(ctx, tx, workspaceID, agentID, "agent_id"); err != nil {
			return err
		}
		now := store.Now()
		_, err = tx.ExecContext(ctx, `INSERT INTO conversation_reads (workspace_id, conversation_id, agent_id, last_read_at, last_read_message_id)
			VALUES (?1, ?2, ?3, ?4, (SELECT max(id) FROM messages WHERE workspace_id = ?1 AND conversation_id = ?2))
			ON CONFLICT (conversation_id, agent_id) DO UPDATE SET last_read_at = excluded.last_read_at,
				last_read_message_id = excluded.last_read_message_id`,
			workspaceID, id, agentID, micros(now))
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
