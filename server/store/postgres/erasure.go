package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const erasureCols = `id, workspace_id, source, contact_ids, coalesce(requested_by, 0), coalesce(token_id, 0), status, code,
	counts, attempts, error, requested_at, completed_at`

func scanErasure(row pgx.Row) (store.ErasureRequest, error) {
	var (
		r      store.ErasureRequest
		ids    []byte
		counts []byte
	)
	if err := row.Scan(&r.ID, &r.WorkspaceID, &r.Source, &ids, &r.RequestedBy, &r.TokenID, &r.Status, &r.Code,
		&counts, &r.Attempts, &r.Error, &r.RequestedAt, &r.CompletedAt); err != nil {
		return store.ErasureRequest{}, err
	}
	if err := json.Unmarshal(ids, &r.ContactIDs); err != nil {
		return store.ErasureRequest{}, fmt.Errorf("erasure request %d contact_ids: %w", r.ID, err)
	}
	if err := json.Unmarshal(counts, &r.Counts); err != nil {
		return store.ErasureRequest{}, fmt.Errorf("erasure request %d counts: %w", r.ID, err)
	}
	if r.ContactIDs == nil {
		r.ContactIDs = []int64{}
	}
	r.RequestedAt = r.RequestedAt.UTC()
	if r.CompletedAt != nil {
		t := r.CompletedAt.UTC()
		r.CompletedAt = &t
	}
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
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if nr.Source == store.ErasureByAgent {
			if _, err := contactIn(ctx, tx, workspaceID, ids[0], noLock); err != nil {
				return err
			}
		}
		var err error
		out, err = scanErasure(tx.QueryRow(ctx, `INSERT INTO erasure_requests
			(workspace_id, source, contact_ids, requested_by, token_id, code, requested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+erasureCols,
			workspaceID, nr.Source, string(idsJSON), nullID(nr.By.AgentID), nullID(nr.By.TokenID), store.NewErasureCode(), store.Now()))
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
	r, err := scanErasure(s.pool.QueryRow(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: erasure request: %w", notFound(err))
	}
	return r, nil
}

// ErasureRequestByCode finds a request by its confirmation code.
func (s *Store) ErasureRequestByCode(ctx context.Context, code string) (store.ErasureRequest, error) {
	r, err := scanErasure(s.pool.QueryRow(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE code = $1`, code))
	if err != nil {
		return store.ErasureRequest{}, fmt.Errorf("store: erasure request by code: %w", notFound(err))
	}
	return r, nil
}

// ListErasureRequests returns the workspace's requests, newest first.
func (s *Store) ListErasureRequests(ctx context.Context, workspaceID int64, limit int) ([]store.ErasureRequest, error) {
	return s.erasures(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2`,
		workspaceID, store.PageSize(limit))
}

// PendingErasureRequests returns pending requests, oldest first.
func (s *Store) PendingErasureRequests(ctx context.Context, limit int) ([]store.ErasureRequest, error) {
	return s.erasures(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE status = 'pending' ORDER BY requested_at, id LIMIT $1`,
		max(limit, 1))
}

func (s *Store) erasures(ctx context.Context, q string, args ...any) ([]store.ErasureRequest, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: erasure requests: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ErasureRequest, error) { return scanErasure(r) })
	if err != nil {
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
	err = s.tx(ctx, func(tx pgx.Tx) error {
		cur, err := scanErasure(tx.QueryRow(ctx, `SELECT `+erasureCols+` FROM erasure_requests WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
			workspaceID, id))
		if err != nil {
			return notFound(err)
		}
		if cur.Status != store.ErasurePending {
			return fmt.Errorf("erasure request %d is %s: %w", id, cur.Status, store.ErrConflict)
		}
		var done *time.Time
		if u.Status != store.ErasurePending {
			now := store.Now()
			done = &now
		}
		out, err = scanErasure(tx.QueryRow(ctx, `UPDATE erasure_requests SET status = $3, counts = $4, attempts = $5, error = $6, completed_at = $7
			WHERE workspace_id = $1 AND id = $2 RETURNING `+erasureCols,
			workspaceID, id, u.Status, string(counts), u.Attempts, u.Error, done))
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
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT contact_id FROM contact_identities
		WHERE workspace_id = $1 AND channel = ANY($2) AND external_id = $3 ORDER BY contact_id`, workspaceID, channels, externalID)
	if err != nil {
		return nil, fmt.Errorf("store: contacts by identity: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("store: contacts by identity: %w", err)
	}
	return ids, nil
}

// ContactBlobKeys returns the blob keys of the contact's stored media.
func (s *Store) ContactBlobKeys(ctx context.Context, workspaceID, contactID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT md.blob_key FROM media md
		JOIN messages m ON m.id = md.message_id JOIN conversations c ON c.id = m.conversation_id
		WHERE md.workspace_id = $1 AND c.contact_id = $2 AND md.blob_key <> '' ORDER BY md.id`, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: contact blob keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: contact blob keys: %w", err)
	}
	return keys, nil
}

// EraseContactStep erases up to limit of the contact's conversations, or
// the rest of it. The contact row is locked first (FOR UPDATE), which
// holds off new conversations for it (their foreign key check needs a
// share lock on it) until the step commits; then its conversations, in
// ascending id order; then the workspace row, by appending events.
func (s *Store) EraseContactStep(ctx context.Context, workspaceID, contactID int64, limit int) (store.ErasureStep, error) {
	limit = max(limit, 1)
	var out store.ErasureStep
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = store.ErasureStep{}
		c, err := contactIn(ctx, tx, workspaceID, contactID, lockForUpdate)
		if err != nil {
			return err
		}
		ids, err := lockConversations(ctx, tx, `SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2
			ORDER BY id LIMIT $3 FOR UPDATE`, workspaceID, contactID, limit+1)
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

// eraseConversations deletes the locked conversations ids with what
// hangs off them (the foreign keys cascade), redacts their events and
// appends conversation.deleted for each.
func eraseConversations(ctx context.Context, tx pgx.Tx, workspaceID int64, ids []int64, out *store.ErasureStep) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT md.blob_key FROM media md JOIN messages m ON m.id = md.message_id
		WHERE m.workspace_id = $1 AND m.conversation_id = ANY($2) ORDER BY md.id FOR UPDATE OF md`, workspaceID, ids)
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	out.Media += int64(len(keys))
	for _, k := range keys {
		if k != "" {
			out.BlobKeys = append(out.BlobKeys, k)
		}
	}
	var msgs int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1 AND conversation_id = ANY($2)`,
		workspaceID, ids).Scan(&msgs); err != nil {
		return err
	}
	out.Messages += msgs
	tag, err := tx.Exec(ctx, `UPDATE events SET payload = jsonb_build_object('redacted', $3::text, 'conversation_id', conversation_id)
		WHERE workspace_id = $1 AND conversation_id = ANY($2)`, workspaceID, ids, store.DeletedByErasure)
	if err != nil {
		return err
	}
	out.Events += tag.RowsAffected()
	tag, err = tx.Exec(ctx, `DELETE FROM conversations WHERE workspace_id = $1 AND id = ANY($2)`, workspaceID, ids)
	if err != nil {
		return err
	}
	out.Conversations += tag.RowsAffected()
	now := store.Now()
	for _, id := range ids {
		if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationDeleted, id,
			store.ConversationDeletedPayload{ConversationID: id, Reason: store.DeletedByErasure}, now); err != nil {
			return err
		}
	}
	return nil
}

// eraseContact deletes the locked contact, with its identities, consent
// records and AI opt-out (the foreign keys cascade), the dead letters that
// name it, and redacts every event about it or about a contact merged
// into it, then appends contact.deleted without personal data.
func eraseContact(ctx context.Context, tx pgx.Tx, c store.Contact, out *store.ErasureStep) error {
	ws := c.WorkspaceID
	for _, needle := range store.ErasureNeedles(c) {
		tag, err := tx.Exec(ctx, `DELETE FROM dead_letters WHERE workspace_id = $1 AND position($2::bytea IN body) > 0`, ws, []byte(needle))
		if err != nil {
			return err
		}
		out.DeadLetters += tag.RowsAffected()
	}
	// The contacts merged into this one, transitively: their events
	// carry data that is now this contact's.
	ids := []string{strconv.FormatInt(c.ID, 10)}
	for seen := 0; seen < len(ids); {
		batch := ids[seen:]
		seen = len(ids)
		rows, err := tx.Query(ctx, `SELECT DISTINCT payload->>'merged_id' FROM events
			WHERE workspace_id = $1 AND kind = $2 AND payload->'contact'->>'id' = ANY($3) AND payload ? 'merged_id'`,
			ws, store.EventContactMerged, batch)
		if err != nil {
			return err
		}
		merged, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, m := range merged {
			if !slices.Contains(ids, m) {
				ids = append(ids, m)
			}
		}
	}
	tag, err := tx.Exec(ctx, `UPDATE events SET payload = CASE WHEN conversation_id IS NULL
			THEN jsonb_build_object('redacted', $3::text, 'contact_id', $4::bigint)
			ELSE jsonb_build_object('redacted', $3::text, 'conversation_id', conversation_id) END
		WHERE workspace_id = $1 AND NOT payload ? 'redacted' AND (
			payload->'contact'->>'id' = ANY($2) OR payload->>'merged_id' = ANY($2)
			OR payload->'conversation'->>'contact_id' = ANY($2))`,
		ws, ids, store.DeletedByErasure, c.ID)
	if err != nil {
		return err
	}
	out.Events += tag.RowsAffected()
	tag, err = tx.Exec(ctx, `DELETE FROM contacts WHERE workspace_id = $1 AND id = $2`, ws, c.ID)
	if err != nil {
		return err
	}
	out.Contacts += tag.RowsAffected()
	if _, err := appendEvent(ctx, tx, ws, store.EventContactDeleted, 0,
		store.ContactPayload{Contact: store.ErasedContact(ws, c.ID)}, store.Now()); err != nil {
		return err
	}
	out.Done = true
	return nil
}
