package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

var _ store.BulkLoader = (*Store)(nil)

// bulkRowsPerInsert is how many rows one INSERT statement of a bulk load
// carries. Past a few hundred the per-statement cost is already noise; the
// bound keeps the parameter count (rows × columns) far below SQLite's
// limit.
const bulkRowsPerInsert = 200

// BulkLoad writes a generated data set with multi-row INSERTs through
// prepared statements, in one write transaction that ends by appending the
// workspace.imported event (see store.BulkLoader). The FTS5 tables are
// filled by the same triggers as for ordinary inserts.
//
// The single writer (see the package comment) is held for the whole load,
// so other writes wait for it; reads go on. Holding it is also what makes
// explicit ids safe: each table's next ids are max(id)+1 onwards, as
// INTEGER PRIMARY KEY would have chosen, and nobody else can insert in
// between.
//
// Unlike the Postgres store it runs no ANALYZE: this store never keeps
// planner statistics, its queries being planned from the schema alone,
// and one load's statistics would go stale unnoticed.
func (s *Store) BulkLoad(ctx context.Context, workspaceID int64, spec store.BulkSpec, progress func(done, total int)) (store.BulkResult, error) {
	if err := spec.Normalize(); err != nil {
		return store.BulkResult{}, fmt.Errorf("store: bulk load: %w", err)
	}
	var res store.BulkResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		res = store.BulkResult{}
		err := tx.QueryRowContext(ctx, `INSERT INTO inboxes (workspace_id, kind, name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			workspaceID, string(store.InboxAPI), spec.InboxName, micros(spec.Now)).Scan(&res.InboxID)
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		res.Rows++
		agents, err := ids(ctx, tx, `SELECT agent_id FROM memberships WHERE workspace_id = ? ORDER BY agent_id`, workspaceID)
		if err != nil {
			return err
		}
		teams, err := ids(ctx, tx, `SELECT id FROM teams WHERE workspace_id = ? ORDER BY id`, workspaceID)
		if err != nil {
			return err
		}
		b, err := newBulkWriter(ctx, tx, workspaceID, res.InboxID)
		if err != nil {
			return err
		}
		defer b.close()
		gen := store.NewBulkGenerator(spec, agents, teams)
		for {
			batch := gen.Next(spec.BatchConversations())
			if len(batch) == 0 {
				break
			}
			n, err := b.write(ctx, batch)
			if err != nil {
				return err
			}
			res.Rows += n
			res.Conversations += len(batch)
			res.Messages += len(batch) * spec.MessagesPerConversation
			if progress != nil {
				progress(res.Conversations, spec.Conversations)
			}
		}
		res.Event, err = appendEvent(ctx, tx, workspaceID, store.EventWorkspaceImported, 0,
			store.ImportPayload{InboxID: res.InboxID, Conversations: res.Conversations, Messages: res.Messages}, store.Now())
		res.Rows++
		return err
	})
	if err != nil {
		return store.BulkResult{}, fmt.Errorf("store: bulk load: %w", err)
	}
	return res, nil
}

// ids runs a query of one id column.
func ids(ctx context.Context, q queryer, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// bulkWriter writes batches of generated conversations inside one write
// transaction, assigning ids itself.
type bulkWriter struct {
	workspaceID, inboxID               int64
	channel                            string
	nextContact, nextConv, nextMessage int64
	contacts, identities, convs, msgs  *multiInsert
	outbox                             *multiInsert
}

func newBulkWriter(ctx context.Context, tx *sql.Tx, workspaceID, inboxID int64) (*bulkWriter, error) {
	b := &bulkWriter{workspaceID: workspaceID, inboxID: inboxID, channel: store.IdentityChannelForInbox(inboxID)}
	for _, next := range []struct {
		table string
		id    *int64
	}{{"contacts", &b.nextContact}, {"conversations", &b.nextConv}, {"messages", &b.nextMessage}} {
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM `+next.table).Scan(next.id); err != nil {
			return nil, err
		}
	}
	var err error
	prepare := func(table string, cols ...string) *multiInsert {
		if err != nil {
			return nil
		}
		var m *multiInsert
		m, err = newMultiInsert(ctx, tx, table, cols)
		return m
	}
	b.contacts = prepare("contacts", "id", "workspace_id", "name", "email", "phone", "created_at", "updated_at")
	b.identities = prepare("contact_identities", "workspace_id", "contact_id", "channel", "external_id", "created_at")
	b.convs = prepare("conversations", "id", "workspace_id", "inbox_id", "contact_id", "status", "assignee_id", "team_id", "priority",
		"last_message_id", "last_activity_at", "created_at", "updated_at")
	b.msgs = prepare("messages", "id", "workspace_id", "conversation_id", "inbox_id", "direction", "author_kind", "author_agent_id",
		"type", "body", "provider_message_id", "status", "created_at", "updated_at")
	b.outbox = prepare("outbox", "workspace_id", "message_id", "state", "attempts", "next_attempt_at", "created_at", "updated_at")
	if err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

// write writes one batch, table by table, parents before children for
// the foreign keys (each table flushed before the next starts), and
// returns how many rows it wrote.
func (b *bulkWriter) write(ctx context.Context, batch []store.BulkConversation) (int, error) {
	contact0, conv0 := b.nextContact, b.nextConv
	for k, c := range batch {
		at := micros(c.CreatedAt)
		if err := b.contacts.add(ctx, contact0+int64(k), b.workspaceID, c.Contact.Name, c.Contact.Email, c.Contact.Phone, at, at); err != nil {
			return 0, err
		}
	}
	if err := b.contacts.flush(ctx); err != nil {
		return 0, err
	}
	for k, c := range batch {
		if err := b.identities.add(ctx, b.workspaceID, contact0+int64(k), b.channel, c.Contact.ExternalID, micros(c.CreatedAt)); err != nil {
			return 0, err
		}
	}
	if err := b.identities.flush(ctx); err != nil {
		return 0, err
	}
	// A conversation's last message id is known before its messages are
	// written: they take the next ids in order.
	lastMsg := b.nextMessage - 1
	for k, c := range batch {
		lastMsg += int64(len(c.Messages))
		if err := b.convs.add(ctx, conv0+int64(k), b.workspaceID, b.inboxID, contact0+int64(k), string(c.Status), nullID(c.AssigneeID),
			nullID(c.TeamID), string(c.Priority), lastMsg, micros(c.LastActivityAt), micros(c.CreatedAt), micros(c.LastActivityAt)); err != nil {
			return 0, err
		}
	}
	if err := b.convs.flush(ctx); err != nil {
		return 0, err
	}
	id := b.nextMessage
	for k, c := range batch {
		for _, m := range c.Messages {
			at := micros(m.CreatedAt)
			if err := b.msgs.add(ctx, id, b.workspaceID, conv0+int64(k), b.inboxID, string(m.Direction), string(m.AuthorKind),
				nullID(m.AuthorAgentID), string(store.TypeText), m.Body, nullString(m.ProviderMessageID), string(m.Status), at, at); err != nil {
				return 0, err
			}
			id++
		}
	}
	if err := b.msgs.flush(ctx); err != nil {
		return 0, err
	}
	id = b.nextMessage
	for _, c := range batch {
		for _, m := range c.Messages {
			if m.Direction == store.DirectionOut {
				at := micros(m.CreatedAt)
				if err := b.outbox.add(ctx, b.workspaceID, id, "done", 1, at, at, at); err != nil {
					return 0, err
				}
			}
			id++
		}
	}
	if err := b.outbox.flush(ctx); err != nil {
		return 0, err
	}
	b.nextContact += int64(len(batch))
	b.nextConv += int64(len(batch))
	b.nextMessage = id
	n := 0
	for _, m := range []*multiInsert{b.contacts, b.identities, b.convs, b.msgs, b.outbox} {
		n += m.written
		m.written = 0
	}
	return n, nil
}

func (b *bulkWriter) close() {
	for _, m := range []*multiInsert{b.contacts, b.identities, b.convs, b.msgs, b.outbox} {
		if m != nil {
			m.stmt.Close()
		}
	}
}

// multiInsert buffers rows for one table and inserts them
// bulkRowsPerInsert at a time through one prepared statement.
type multiInsert struct {
	tx      *sql.Tx
	table   string
	cols    []string
	stmt    *sql.Stmt
	args    []any
	written int
}

func newMultiInsert(ctx context.Context, tx *sql.Tx, table string, cols []string) (*multiInsert, error) {
	m := &multiInsert{tx: tx, table: table, cols: cols, args: make([]any, 0, bulkRowsPerInsert*len(cols))}
	stmt, err := tx.PrepareContext(ctx, m.query(bulkRowsPerInsert))
	if err != nil {
		return nil, fmt.Errorf("prepare %s insert: %w", table, err)
	}
	m.stmt = stmt
	return m, nil
}

func (m *multiInsert) query(rows int) string {
	row := "(" + strings.Repeat("?, ", len(m.cols)-1) + "?)"
	return "INSERT INTO " + m.table + " (" + strings.Join(m.cols, ", ") + ") VALUES " +
		strings.Repeat(row+", ", rows-1) + row
}

// add buffers one row, inserting the buffer when it is full. Rows still
// buffered are not in the table until flush.
func (m *multiInsert) add(ctx context.Context, vals ...any) error {
	m.args = append(m.args, vals...)
	if len(m.args) < bulkRowsPerInsert*len(m.cols) {
		return nil
	}
	if _, err := m.stmt.ExecContext(ctx, m.args...); err != nil {
		return fmt.Errorf("insert %s: %w", m.table, err)
	}
	m.written += bulkRowsPerInsert
	m.args = m.args[:0]
	return nil
}

// flush inserts the rows still buffered.
func (m *multiInsert) flush(ctx context.Context) error {
	rows := len(m.args) / len(m.cols)
	if rows == 0 {
		return nil
	}
	if _, err := m.tx.ExecContext(ctx, m.query(rows), m.args...); err != nil {
		return fmt.Errorf("insert %s: %w", m.table, err)
	}
	m.written += rows
	m.args = m.args[:0]
	return nil
}
