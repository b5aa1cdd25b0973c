package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const erasureCols = `id, workspace_id, source, contact_ids, coalesce(requested_by, 0), coalesce(token_id, 0), status, code,
	counts, attempts, error, requested_at, completed_at`

func scanErasure(row interface{ Scan(...any) error }) (store.ErasureRequest, error) {
	var (
		r           store.ErasureRequest
		ids, counts string
		at          int64
		done        sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.WorkspaceID, &r.Source, &ids, &r.RequestedBy, &r.TokenID, &r.Status, &r.Code,
		&counts, &r.Attempts, &r.Error, &at, &done); err != nil {
		return store.ErasureRequest{}, err
	}
	if err := json.Unmarshal([]byte(ids), &r.ContactIDs); err != nil {
		return store.ErasureRequest{}, fmt.Errorf("erasure request %d contact_ids: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return store.ErasureRequest{}, fmt.Errorf("erasure request %d counts: %w", r.ID, err)
	}
	if r.ContactIDs == nil {
		r.ContactIDs = []int64{}
	}
	r.RequestedAt = fromMicros(at)
	r.CompletedAt = fromNullMicros(done)
	return r, nil
}

// CreateErasureRequest records a pending erasure request.
func (s *Store) CreateErasureRequest(ctx context.Context, workspaceID int64, nr store.NewErasureRequest) (store.ErasureRequest, error) {
	if err := nr.Validate(); err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: create erasure request: %w", err)
	}
	ids := nr.ContactIDs
	if ids == nil {
		ids = []int64{}
	}
	idsJSON, err := json.Marshal(ids)
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: create erasure request: %w", err)
	}
	var out store.ErasureRequest
	err = s.write(ctx, func(tx *sql.Tx) error {
		if nr.Source == store.ErasureByAgent {
			if _, err := contactIn(ctx, tx, workspaceID, ids[0]); err != nil {
				return err
			}
		}
		var err error
		out, err = scanErasure(tx.QueryRowContext(ctx, `INSERT INTO erasure_requests
			(workspace_id, source, contact_ids, requested_by, token_id, code, requested_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+erasureCols,
			workspaceID, nr.Source, string(idsJSON), nullID(nr.By.AgentID), nullID(nr.By.TokenID), store.NewErasureCode(), micros(store.Now())))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: create erasure request: %w", err)
	}
	return out, nil
}

// ErasureRequest returns one request of the workspace.
func (s *Store) ErasureRequest(ctx context.Context, workspaceID, id int64) (store.ErasureRequest, error) {
	r, err := scanErasure(s.r.QueryRowContext(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE workspace_id = ? AND id = ?`, workspaceID, id))
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: erasure request: %w", notFound(err))
	}
	return r, nil
}

// ErasureRequestByCode finds a request by its confirmation code.
func (s *Store) ErasureRequestByCode(ctx context.Context, code string) (store.ErasureRequest, error) {
	r, err := scanErasure(s.r.QueryRowContext(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE code = ?`, code))
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: erasure request by code: %w", notFound(err))
	}
	return r, nil
}

// ListErasureRequests returns the workspace's requests, newest first.
func (s *Store) ListErasureRequests(ctx context.Context, workspaceID int64, limit int) ([]store.ErasureRequest, error) {
	return s.erasures(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE workspace_id = ? ORDER BY id DESC LIMIT ?`,
		workspaceID, store.PageSize(limit))
}

// PendingErasureRequests returns pending requests, oldest first.
func (s *Store) PendingErasureRequests(ctx context.Context, limit int) ([]store.ErasureRequest, error) {
	return s.erasures(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE status = 'pending' ORDER BY requested_at, id LIMIT ?`,
		max(limit, 1))
}

func (s *Store) erasures(ctx context.Context, q string, args ...any) ([]store.ErasureRequest, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: erasure requests: %w", err)
	}
	defer rows.Close()
	out := []store.ErasureRequest{}
	for rows.Next() {
		r, err := scanErasure(rows)
		if err != nil {
			return nil, fmt.Errorf("store: erasure requests: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: erasure requests: %w", err)
	}
	return out, nil
}

// UpdateErasureRequest records progress on a pending request and, once it
// completes, its audit entry.
func (s *Store) UpdateErasureRequest(ctx context.Context, workspaceID, id int64, u store.ErasureUpdate) (store.ErasureRequest, error) {
	if err := u.Validate(); err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: update erasure request: %w", err)
	}
	counts, err := json.Marshal(u.Counts)
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: update erasure request: %w", err)
	}
	var out store.ErasureRequest
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanErasure(tx.QueryRowContext(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE workspace_id = ? AND id = ?`,
			workspaceID, id))
		if err != nil {
			return notFound(err)
		}
		if cur.Status != store.ErasurePending {
			return fmt.Errorf("erasure request %d is %s: %w", id, cur.Status, store.ErrConflict)
		}
		var done any
		if u.Status != store.ErasurePending {
			done = micros(store.Now())
		}
		out, err = scanErasure(tx.QueryRowContext(ctx, `UPDATE erasure_requests SET status = ?, counts = ?, attempts = ?, error = ?, completed_at = ?
			WHERE workspace_id = ? AND id = ? RETURNING `+erasureCols,
			u.Status, string(counts), u.Attempts, u.Error, done, workspaceID, id))
		if err != nil {
			return err
		}
		if out.Status == store.ErasureCompleted {
			return recordAudit(ctx, tx, workspaceID, store.ErasureAudit(out))
		}
		return nil
	})
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: update erasure request: %w", err)
	}
	return out, nil
}

// ContactsByIdentity returns the contacts known by externalID on channels.
func (s *Store) ContactsByIdentity(ctx context.Context, workspaceID int64, channels []string, externalID string) ([]int64, error) {
	chans, err := json.Marshal(channels)
	if err != nil {
		return nil, fmt.Errorf("store: contacts by identity: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT contact_id FROM contact_identities
		WHERE workspace_id = ? AND channel IN (SELECT value FROM json_each(?)) AND external_id = ? ORDER BY contact_id`,
		workspaceID, string(chans), externalID)
	if err != nil {
		return nil, fmt.Errorf("store: contacts by identity: %w", err)
	}
	ids, err := collectIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("store: contacts by identity: %w", err)
	}
	return ids, nil
}

// ContactBlobKeys returns the blob keys of the contact's stored media.
func (s *Store) ContactBlobKeys(ctx context.Context, workspaceID, contactID int64) ([]string, error) {
	keys, err := blobKeys(ctx, s.r, `SELECT md.blob_key FROM media md
		JOIN messages m ON m.id = md.message_id JOIN conversations c ON c.id = m.conversation_id
		WHERE md.workspace_id = ? AND c.contact_id = ? AND md.blob_key <> '' ORDER BY md.id`, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: contact blob keys: %w", err)
	}
	return keys, nil
}

func blobKeys(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// EraseContactStep erases up to limit of the contact's conversations, or
// the rest of it, in one write transaction (the single writer holds off
// new conversations meanwhile). The step that deletes the contact also
// optimizes the full-text indexes: an external-content FTS5 table keeps a
// deleted row's terms in its older segments until they are merged.
func (s *Store) EraseContactStep(ctx context.Context, workspaceID, contactID int64, limit int) (store.ErasureStep, error) {
	limit = max(limit, 1)
	var out store.ErasureStep
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = store.ErasureStep{}
		c, err := contactIn(ctx, tx, workspaceID, contactID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM conversations WHERE workspace_id = ? AND contact_id = ? ORDER BY id LIMIT ?`,
			workspaceID, contactID, limit+1)
		if err != nil {
			return err
		}
		ids, err := collectIDs(rows)
		if err != nil {
			return err
		}
		last := len(ids) <= limit
		if !last {
			ids = ids[:limit]
		}
		if err := eraseConversations(ctx, tx, workspaceID, ids, &out); err != nil {
			return err
		}
		if !last {
			return nil
		}
		return eraseContact(ctx, tx, c, &out)
	})
	if err != nil {
		return store.ErasureStep{}, fmt.Errorf("store: erase contact %d: %w", contactID, err)
	}
	return out, nil
}

// idList is ids as a JSON array, for json_each.
func idList(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

// eraseConversations deletes the conversations ids with what hangs off
// them (the foreign keys cascade; the messages' delete trigger takes them
// out of messages_fts), redacts their events and appends
// conversation.deleted for each.
func eraseConversations(ctx context.Context, tx *sql.Tx, workspaceID int64, ids []int64, out *store.ErasureStep) error {
	if len(ids) == 0 {
		return nil
	}
	list := idList(ids)
	var msgs, media int64
	if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM messages WHERE workspace_id = ?1 AND conversation_id IN (SELECT value FROM json_each(?2))),
			(SELECT count(*) FROM media md JOIN messages m ON m.id = md.message_id
				WHERE m.workspace_id = ?1 AND m.conversation_id IN (SELECT value FROM json_each(?2)))`,
		workspaceID, list).Scan(&msgs, &media); err != nil {
		return err
	}
	out.Messages += msgs
	out.Media += media
	keys, err := blobKeys(ctx, tx, `SELECT md.blob_key FROM media md JOIN messages m ON m.id = md.message_id
		WHERE m.workspace_id = ? AND m.conversation_id IN (SELECT value FROM json_each(?)) AND md.blob_key <> '' ORDER BY md.id`,
		workspaceID, list)
	if err != nil {
		return err
	}
	out.BlobKeys = append(out.BlobKeys, keys...)
	res, err := tx.ExecContext(ctx, `UPDATE events SET payload = json_object('redacted', ?3, 'conversation_id', conversation_id)
		WHERE workspace_id = ?1 AND conversation_id IN (SELECT value FROM json_each(?2))`, workspaceID, list, store.DeletedByErasure)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	out.Events += n
	res, err = tx.ExecContext(ctx, `DELETE FROM conversations WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))`, workspaceID, list)
	if err != nil {
		return err
	}
	n, _ = res.RowsAffected()
	out.Conversations += n
	now := store.Now()
	for _, id := range ids {
		if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationDeleted, id,
			store.ConversationDeletedPayload{ConversationID: id, Reason: store.DeletedByErasure}, now); err != nil {
			return err
		}
	}
	return nil
}

// eraseContact deletes the contact, with its identities, consent records
// and AI opt-out (the foreign keys cascade), the dead letters that name
// it, and redacts every event about it or about a contact merged into it,
// then appends contact.deleted without personal data.
func eraseContact(ctx context.Context, tx *sql.Tx, c store.Contact, out *store.ErasureStep) error {
	ws := c.WorkspaceID
	for _, needle := range store.ErasureNeedles(c) {
		res, err := tx.ExecContext(ctx, `DELETE FROM dead_letters WHERE workspace_id = ? AND instr(body, ?) > 0`, ws, []byte(needle))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		out.DeadLetters += n
	}
	// The contacts merged into this one, transitively: their events
	// carry data that is now this contact's.
	ids := []int64{c.ID}
	for seen := 0; seen < len(ids); {
		batch := idList(ids[seen:])
		seen = len(ids)
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT json_extract(payload, '$.merged_id') FROM events
			WHERE workspace_id = ? AND kind = ? AND json_extract(payload, '$.contact.id') IN (SELECT value FROM json_each(?))
			AND json_extract(payload, '$.merged_id') IS NOT NULL`, ws, store.EventContactMerged, batch)
		if err != nil {
			return err
		}
		merged, err := collectIDs(rows)
		if err != nil {
			return err
		}
		for _, m := range merged {
			if !slices.Contains(ids, m) {
				ids = append(ids, m)
			}
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE events SET payload = CASE WHEN conversation_id IS NULL
			THEN json_object('redacted', ?3, 'contact_id', ?4)
			ELSE json_object('redacted', ?3, 'conversation_id', conversation_id) END
		WHERE workspace_id = ?1 AND json_extract(payload, '$.redacted') IS NULL AND (
			json_extract(payload, '$.contact.id') IN (SELECT value FROM json_each(?2))
			OR json_extract(payload, '$.merged_id') IN (SELECT value FROM json_each(?2))
			OR json_extract(payload, '$.conversation.contact_id') IN (SELECT value FROM json_each(?2)))`,
		ws, idList(ids), store.DeletedByErasure, c.ID)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	out.Events += n
	res, err = tx.ExecContext(ctx, `DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, ws, c.ID)
	if err != nil {
		return err
	}
	n, _ = res.RowsAffected()
	out.Contacts += n
	for _, fts := range []string{"messages_fts", "contacts_fts"} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+fts+` (`+fts+`) VALUES ('optimize')`); err != nil {
			return fmt.Errorf("optimize %s: %w", fts, err)
		}
	}
	if _, err := appendEvent(ctx, tx, ws, store.EventContactDeleted, 0,
		store.ContactPayload{Contact: store.ErasedContact(ws, c.ID)}, store.Now()); err != nil {
		return err
	}
	out.Done = true
	return nil
}
