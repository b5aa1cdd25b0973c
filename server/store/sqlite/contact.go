package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const contactCols = `c.id, c.workspace_id, c.name, c.email, c.phone, c.attributes, c.created_at, c.updated_at`

// contactReturning is contactCols unqualified, for RETURNING clauses.
var contactReturning = strings.ReplaceAll(contactCols, "c.", "")

func scanContact(row interface{ Scan(...any) error }) (store.Contact, error) {
	var (
		c                store.Contact
		attrs            string
		created, updated int64
	)
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Email, &c.Phone, &attrs, &created, &updated)
	c.Attributes = json.RawMessage(attrs)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, err
}

// UpsertContact returns the contact known by the identity, creating it if
// there is none. The writer being single, look-up then insert cannot race.
func (s *Store) UpsertContact(ctx context.Context, workspaceID int64, id store.Identity, nc store.NewContact) (store.Contact, bool, error) {
	if err := errors.Join(id.Validate(), nc.Validate()); err != nil {
		return store.Contact{}, false, fmt.Errorf("store: upsert contact: %w", err)
	}
	var (
		c       store.Contact
		created bool
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanContact(tx.QueryRowContext(ctx, `SELECT `+contactCols+`
			FROM contacts c JOIN contact_identities i ON i.contact_id = c.id
			WHERE i.workspace_id = ? AND i.channel = ? AND i.external_id = ?`,
			workspaceID, id.Channel, id.ExternalID))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := micros(store.Now())
		c, err = scanContact(tx.QueryRowContext(ctx, `INSERT INTO contacts (workspace_id, name, email, phone, attributes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+contactReturning,
			workspaceID, strings.TrimSpace(nc.Name), strings.TrimSpace(nc.Email), strings.TrimSpace(nc.Phone),
			string(store.ObjectOrEmpty(nc.Attributes)), now, now))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO contact_identities (workspace_id, contact_id, channel, external_id, created_at)
			VALUES (?, ?, ?, ?, ?)`, workspaceID, c.ID, id.Channel, id.ExternalID, now)
		created = true
		return err
	})
	if err != nil {
		return store.Contact{}, false, fmt.Errorf("store: upsert contact: %w", err)
	}
	return c, created, nil
}

// Contact returns a contact of the workspace.
func (s *Store) Contact(ctx context.Context, workspaceID, contactID int64) (store.Contact, error) {
	c, err := scanContact(s.r.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.workspace_id = ? AND c.id = ?`, workspaceID, contactID))
	if err != nil {
		return store.Contact{}, fmt.Errorf("store: contact %d: %w", contactID, notFound(err))
	}
	return c, nil
}
