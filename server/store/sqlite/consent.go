package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// SetContactOptOut opts a contact out of outbound messages or back in.
func (s *Store) SetContactOptOut(ctx context.Context, workspaceID, contactID int64, cc store.ConsentChange) (store.Contact, bool, error) {
	var (
		c       store.Contact
		changed bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = contactIn(ctx, tx, workspaceID, contactID); err != nil {
			return err
		}
		if (c.OptedOutAt != nil) == cc.OptedOut {
			return nil
		}
		now := store.Now()
		kind, optedOut := store.ConsentOptIn, sql.NullInt64{}
		if cc.OptedOut {
			kind, optedOut = store.ConsentOptOut, sql.NullInt64{Int64: micros(now), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET opted_out_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			optedOut, micros(now), workspaceID, contactID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO consent_records (workspace_id, contact_id, kind, channel, source, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, workspaceID, contactID, kind, cc.Channel, cc.Source, micros(now)); err != nil {
			return err
		}
		if c, err = contactIn(ctx, tx, workspaceID, contactID); err != nil {
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
	if _, err := contactIn(ctx, s.r, workspaceID, contactID); err != nil {
		return nil, fmt.Errorf("store: consent records: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, contact_id, kind, channel, source, created_at FROM consent_records
		WHERE workspace_id = ? AND contact_id = ? ORDER BY id`, workspaceID, contactID)
	if err != nil {
		return nil, fmt.Errorf("store: consent records: %w", err)
	}
	defer rows.Close()
	out := []store.ConsentRecord{}
	for rows.Next() {
		var (
			cr store.ConsentRecord
			at int64
		)
		if err := rows.Scan(&cr.ID, &cr.ContactID, &cr.Kind, &cr.Channel, &cr.Source, &at); err != nil {
			return nil, fmt.Errorf("store: consent records: %w", err)
		}
		cr.CreatedAt = fromMicros(at)
		out = append(out, cr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: consent records: %w", err)
	}
	return out, nil
}
