package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const contactCols = `c.id, c.workspace_id, c.name, c.email, c.phone, c.attributes, c.created_at, c.updated_at`

func scanContact(row pgx.Row) (store.Contact, error) {
	var c store.Contact
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Email, &c.Phone, &c.Attributes, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

func contactByIdentity(ctx context.Context, q querier, workspaceID int64, id store.Identity) (store.Contact, error) {
	return scanContact(q.QueryRow(ctx, `SELECT `+contactCols+`
		FROM contacts c JOIN contact_identities i ON i.contact_id = c.id
		WHERE i.workspace_id = $1 AND i.channel = $2 AND i.external_id = $3`,
		workspaceID, id.Channel, id.ExternalID))
}

// UpsertContact returns the contact known by the identity, creating it if
// there is none. Two webhooks for a new contact can race: the loser's
// identity insert conflicts, its transaction rolls back (taking its contact
// row with it) and it returns the winner's contact.
func (s *Store) UpsertContact(ctx context.Context, workspaceID int64, id store.Identity, nc store.NewContact) (store.Contact, bool, error) {
	if err := errors.Join(id.Validate(), nc.Validate()); err != nil {
		return store.Contact{}, false, fmt.Errorf("store: upsert contact: %w", err)
	}
	c, err := contactByIdentity(ctx, s.pool, workspaceID, id)
	if err == nil {
		return c, false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Contact{}, false, fmt.Errorf("store: upsert contact: %w", err)
	}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		var err error
		c, err = scanContact(tx.QueryRow(ctx, `INSERT INTO contacts AS c (workspace_id, name, email, phone, attributes, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING `+contactCols,
			workspaceID, strings.TrimSpace(nc.Name), strings.TrimSpace(nc.Email), strings.TrimSpace(nc.Phone),
			string(store.ObjectOrEmpty(nc.Attributes)), now))
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO contact_identities (workspace_id, contact_id, channel, external_id, created_at)
			VALUES ($1, $2, $3, $4, $5)`, workspaceID, c.ID, id.Channel, id.ExternalID, now)
		return err
	})
	if isUnique(err) {
		c, err = contactByIdentity(ctx, s.pool, workspaceID, id)
		if err != nil {
			return store.Contact{}, false, fmt.Errorf("store: upsert contact: %w", err)
		}
		return c, false, nil
	}
	if err != nil {
		return store.Contact{}, false, fmt.Errorf("store: upsert contact: %w", err)
	}
	return c, true, nil
}

// Contact returns a contact of the workspace.
func (s *Store) Contact(ctx context.Context, workspaceID, contactID int64) (store.Contact, error) {
	c, err := scanContact(s.pool.QueryRow(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.workspace_id = $1 AND c.id = $2`, workspaceID, contactID))
	if err != nil {
		return store.Contact{}, fmt.Errorf("store: contact %d: %w", contactID, notFound(err))
	}
	return c, nil
}
