package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

var _ store.BulkLoader = (*Store)(nil)

// BulkLoad writes a generated data set with COPY, in batches, all in one
// transaction that ends by appending the workspace.imported event (see
// store.BulkLoader).
//
// COPY cannot ask an identity column for its value row by row, so each
// batch first reserves the ids it needs with nextval on the column's own
// sequence. The sequence is therefore past every id the load writes, and
// concurrent ordinary inserts, which draw from the same sequence, cannot
// collide with them. Ids a rolled-back load reserved are skipped, as a
// rolled-back INSERT's are.
//
// Before appending the event it runs ANALYZE on the tables it filled
// (inside the transaction, ANALYZE counts the transaction's own rows):
// after a million new rows the planner's statistics would otherwise
// describe an empty workspace until autovacuum next passes.
func (s *Store) BulkLoad(ctx context.Context, workspaceID int64, spec store.BulkSpec, progress func(done, total int)) (store.BulkResult, error) {
	if err := spec.Normalize(); err != nil {
		return store.BulkResult{}, fmt.Errorf("store: bulk load: %w", err)
	}
	var res store.BulkResult
	err := s.tx(ctx, func(tx pgx.Tx) error {
		res = store.BulkResult{}
		err := tx.QueryRow(ctx, `INSERT INTO inboxes (workspace_id, kind, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			workspaceID, string(store.InboxAPI), spec.InboxName, spec.Now).Scan(&res.InboxID)
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		res.Rows++
		agents, err := ids(ctx, tx, `SELECT agent_id FROM memberships WHERE workspace_id = $1 ORDER BY agent_id`, workspaceID)
		if err != nil {
			return err
		}
		teams, err := ids(ctx, tx, `SELECT id FROM teams WHERE workspace_id = $1 ORDER BY id`, workspaceID)
		if err != nil {
			return err
		}
		seqs, err := identitySequences(ctx, tx, "contacts", "conversations", "messages")
		if err != nil {
			return err
		}
		gen := store.NewBulkGenerator(spec, agents, teams)
		for {
			batch := gen.Next(spec.BatchConversations())
			if len(batch) == 0 {
				break
			}
			n, err := copyBatch(ctx, tx, seqs, workspaceID, res.InboxID, batch)
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
		if _, err := tx.Exec(ctx, `ANALYZE contacts, contact_identities, conversations, messages, outbox`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		// Last, as appendEvent takes the workspace's row lock.
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

// copyBatch writes one batch of conversations, parents before children
// for the foreign keys, and returns how many rows it wrote.
func copyBatch(ctx context.Context, tx pgx.Tx, seqs map[string]uint32, workspaceID, inboxID int64, batch []store.BulkConversation) (int, error) {
	nMsgs, nOut := 0, 0
	for _, c := range batch {
		nMsgs += len(c.Messages)
		for _, m := range c.Messages {
			if m.Direction == store.DirectionOut {
				nOut++
			}
		}
	}
	contactIDs, err := reserveIDs(ctx, tx, seqs["contacts"], len(batch))
	if err != nil {
		return 0, err
	}
	convIDs, err := reserveIDs(ctx, tx, seqs["conversations"], len(batch))
	if err != nil {
		return 0, err
	}
	msgIDs, err := reserveIDs(ctx, tx, seqs["messages"], nMsgs)
	if err != nil {
		return 0, err
	}

	contacts := make([][]any, 0, len(batch))
	identities := make([][]any, 0, len(batch))
	convs := make([][]any, 0, len(batch))
	msgs := make([][]any, 0, nMsgs)
	outbox := make([][]any, 0, nOut)
	channel := store.IdentityChannelForInbox(inboxID)
	next := 0
	for k, c := range batch {
		contacts = append(contacts, []any{contactIDs[k], workspaceID, c.Contact.Name, c.Contact.Email, c.Contact.Phone, c.CreatedAt, c.CreatedAt})
		identities = append(identities, []any{workspaceID, contactIDs[k], channel, c.Contact.ExternalID, c.CreatedAt})
		for _, m := range c.Messages {
			id := msgIDs[next]
			next++
			msgs = append(msgs, []any{id, workspaceID, convIDs[k], inboxID, string(m.Direction), string(m.AuthorKind), nullID(m.AuthorAgentID),
				string(store.TypeText), m.Body, nullString(m.ProviderMessageID), string(m.Status), m.CreatedAt, m.CreatedAt})
			if m.Direction == store.DirectionOut {
				outbox = append(outbox, []any{workspaceID, id, "done", 1, m.CreatedAt, m.CreatedAt, m.CreatedAt})
			}
		}
		// Ids were reserved in ascending order, so the last is the newest.
		convs = append(convs, []any{convIDs[k], workspaceID, inboxID, contactIDs[k], string(c.Status), nullID(c.AssigneeID), nullID(c.TeamID),
			string(c.Priority), msgIDs[next-1], c.LastActivityAt, c.CreatedAt, c.LastActivityAt})
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"contacts", []string{"id", "workspace_id", "name", "email", "phone", "created_at", "updated_at"}, contacts},
		{"contact_identities", []string{"workspace_id", "contact_id", "channel", "external_id", "created_at"}, identities},
		{"conversations", []string{"id", "workspace_id", "inbox_id", "contact_id", "status", "assignee_id", "team_id", "priority",
			"last_message_id", "last_activity_at", "created_at", "updated_at"}, convs},
		{"messages", []string{"id", "workspace_id", "conversation_id", "inbox_id", "direction", "author_kind", "author_agent_id",
			"type", "body", "provider_message_id", "status", "created_at", "updated_at"}, msgs},
		{"outbox", []string{"workspace_id", "message_id", "state", "attempts", "next_attempt_at", "created_at", "updated_at"}, outbox},
	}
	total := 0
	for _, c := range copies {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows))
		if err != nil {
			return 0, fmt.Errorf("copy %s: %w", c.table, err)
		}
		total += int(n)
	}
	return total, nil
}

// ids runs a query of one id column.
func ids(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// identitySequences returns the oid of the sequence behind each table's
// identity column, looked up once: resolving it per nextval call costs
// more than the call.
func identitySequences(ctx context.Context, tx pgx.Tx, tables ...string) (map[string]uint32, error) {
	seqs := make(map[string]uint32, len(tables))
	for _, table := range tables {
		var oid uint32
		if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id')::regclass::oid`, table).Scan(&oid); err != nil {
			return nil, fmt.Errorf("sequence of %s: %w", table, err)
		}
		seqs[table] = oid
	}
	return seqs, nil
}

// reserveIDs draws n ids, ascending, from the sequence seq.
func reserveIDs(ctx context.Context, tx pgx.Tx, seq uint32, n int) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT nextval($1::oid::regclass) FROM generate_series(1, $2) ORDER BY 1`, seq, n)
	if err != nil {
		return nil, fmt.Errorf("reserve ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reserve ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("reserve ids: got %d, want %d", len(ids), n)
	}
	return ids, nil
}
