package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// SetContactOptOut opts a contact out of outbound messages or back in.
func (s *Store) SetContactOptOut(ctx context.Context, workspaceID, contactID int64, cc store.ConsentChange) (store.Contact, bool, error) {
	var (
		c       store.Contact
		changed bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = contactIn(ctx, tx, workspaceID, contactID, lockForEdit); err != nil {
			return err
		}
		if (c.OptedOutAt != nil) == cc.OptedOut {
			return nil
		}
		now := store.Now()
		kind, optedOut := store.ConsentOptIn, (*time.Time)(nil)
		if cc.OptedOut {
			kind, optedOut = store.ConsentOptOut, &now
		}
		if _, err := tx.Exec(ctx, `UPDATE contacts SET opted_out_at = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4`,
			optedOut, now, workspaceID, contactID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO consent_records (workspace_id, contact_id, kind, channel, source, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, workspaceID, contactID, kind, cc.Channel, cc.Source, now); err != nil {
			return err
		}
		if c, err = contactIn(ctx, tx, workspaceID, contactID, noLock); err != nil {
			return err
		}
		changed = true
		_, err = appendEvent(ctx, tx, workspaceID, store.EventContactUpdated, 0, store.ContactPayload{Contact: c}, now)
		return err
	})
	if err != nil {
		return store.Contact{}, false, fmt.Errorf("store: set contact %d opt-out: %w", contactID, err)
	}
	return c, changed, nil
}

// ConsentRecords lists a contact's opt-outs and opt-ins, oldest first.
func (s *Store) ConsentRecords(ctx context.Context, workspaceID, contactID int64) ([]store.ConsentRecord, error) {
	if _, err := contactIn(ctx, s.pool, workspaceID, contactID, noLock); err != nil {
		return nil, fmt.Errorf("store: consent records: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, contact_id, kind, channel, source, created_at FROM consent_records
		WHERE workspace_id = $1 AND contact_id = $2 ORDER BY id`, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: consent records: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ConsentRecord, error) {
		var cr store.ConsentRecord
		err := r.Scan(&cr.ID, &cr.ContactID, &cr.Kind, &cr.Channel, &cr.Source, &cr.CreatedAt)
		cr.CreatedAt = cr.CreatedAt.UTC()
		return cr, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: consent records: %w", err)
	}
	if out == nil {
		out = []store.ConsentRecord{}
	}
	return out, nil
}
