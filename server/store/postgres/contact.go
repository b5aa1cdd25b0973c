package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// contactCols reads a contact with its identities, oldest first, as a JSON
// array ('[]' when there are none).
const contactCols = `c.id, c.workspace_id, c.name, c.email, c.phone, c.attributes,
	coalesce((SELECT json_agg(json_build_object('channel', i.channel, 'external_id', i.external_id) ORDER BY i.id)
	 FROM contact_identities i WHERE i.contact_id = c.id), '[]'),
	c.opted_out_at, c.created_at, c.updated_at`

func scanContact(row pgx.Row) (store.Contact, error) {
	var c store.Contact
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Email, &c.Phone, &c.Attributes, &c.Identities, &c.OptedOutAt, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return store.Contact{}, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if c.OptedOutAt != nil {
		t := c.OptedOutAt.UTC()
		c.OptedOutAt = &t
	}
	return c, nil
}

// The row locks contactIn can take. A merge or delete takes FOR UPDATE,
// which also holds off conversations and identities being pointed at the
// contact meanwhile (their foreign key checks need KEY SHARE); an edit
// takes FOR NO KEY UPDATE, which does not.
const (
	noLock        = ""
	lockForUpdate = " FOR UPDATE OF c"
	lockForEdit   = " FOR NO KEY UPDATE OF c"
)

func contactIn(ctx context.Context, q querier, workspaceID, id int64, lock string) (store.Contact, error) {
	c, err := scanContact(q.QueryRow(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.workspace_id = $1 AND c.id = $2`+lock, workspaceID, id))
	return c, notFound(err)
}

func contactByIdentity(ctx context.Context, q querier, workspaceID int64, id store.Identity) (store.Contact, error) {
	return scanContact(q.QueryRow(ctx, `SELECT `+contactCols+`
		FROM contacts c JOIN contact_identities i ON i.contact_id = c.id
		WHERE i.workspace_id = $1 AND i.channel = $2 AND i.external_id = $3`,
		workspaceID, id.Channel, id.ExternalID))
}

// insertContact inserts a contact and its identities, reporting a taken
// identity as store.ErrConflict, and returns the contact as stored.
func insertContact(ctx context.Context, tx pgx.Tx, workspaceID int64, nc store.NewContact, ids []store.Identity) (store.Contact, error) {
	now := store.Now()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO contacts (workspace_id, name, email, phone, attributes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		workspaceID, strings.TrimSpace(nc.Name), strings.TrimSpace(nc.Email), strings.TrimSpace(nc.Phone),
		string(store.ObjectOrEmpty(nc.Attributes)), now).Scan(&id)
	if isForeignKey(err) {
		return store.Contact{}, store.ErrNotFound
	}
	if err != nil {
		return store.Contact{}, err
	}
	for _, ident := range ids {
		_, err := tx.Exec(ctx, `INSERT INTO contact_identities (workspace_id, contact_id, channel, external_id, created_at)
			VALUES ($1, $2, $3, $4, $5)`, workspaceID, id, ident.Channel, ident.ExternalID, now)
		if isUnique(err) {
			return store.Contact{}, fmt.Errorf("identity %s %q belongs to another contact: %w", ident.Channel, ident.ExternalID, store.ErrConflict)
		}
		if err != nil {
			return store.Contact{}, err
		}
	}
	return contactIn(ctx, tx, workspaceID, id, noLock)
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
		var err error
		c, err = insertContact(ctx, tx, workspaceID, nc, []store.Identity{id})
		return err
	})
	if errors.Is(err, store.ErrConflict) {
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
	c, err := contactIn(ctx, s.pool, workspaceID, contactID, noLock)
	if err != nil {
		return store.Contact{}, fmt.Errorf("store: contact %d: %w", contactID, err)
	}
	return c, nil
}

// CreateContact creates a contact with its identities and appends
// contact.created. Two creations claiming one identity race on its unique
// index: the loser waits for the winner to commit and gets ErrConflict.
func (s *Store) CreateContact(ctx context.Context, workspaceID int64, nc store.NewContact, ids []store.Identity) (store.Contact, store.Event, error) {
	if err := errors.Join(nc.Validate(), store.ValidateIdentities(ids)); err != nil {
		return store.Contact{}, store.Event{}, fmt.Errorf("store: create contact: %w", err)
	}
	var (
		c  store.Contact
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = insertContact(ctx, tx, workspaceID, nc, ids); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventContactCreated, 0, store.ContactPayload{Contact: c}, c.CreatedAt)
		return err
	})
	if err != nil {
		return store.Contact{}, store.Event{}, fmt.Errorf("store: create contact: %w", err)
	}
	return c, ev, nil
}

// ListContacts pages contacts newest first with a keyset cursor on id.
func (s *Store) ListContacts(ctx context.Context, workspaceID int64, f store.ContactFilter) (store.ContactPage, error) {
	if err := f.Normalize(); err != nil {
		return store.ContactPage{}, fmt.Errorf("store: list contacts: %w", err)
	}
	where := []string{"c.workspace_id = $1"}
	args := []any{workspaceID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Query != "" {
		where = append(where, "c.search @@ websearch_to_tsquery('simple', "+arg(f.Query)+")")
	}
	if f.Cursor != "" {
		last, _ := store.DecodeContactCursor(f.Cursor) // validated by Normalize
		where = append(where, "c.id < "+arg(last))
	}
	rows, err := s.pool.Query(ctx, `SELECT `+contactCols+` FROM contacts c
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.id DESC LIMIT `+arg(f.Limit+1), args...)
	if err != nil {
		return store.ContactPage{}, fmt.Errorf("store: list contacts: %w", err)
	}
	contacts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Contact, error) { return scanContact(r) })
	if err != nil {
		return store.ContactPage{}, fmt.Errorf("store: list contacts: %w", err)
	}
	page := store.ContactPage{Contacts: contacts}
	if page.Contacts == nil {
		page.Contacts = []store.Contact{}
	}
	if len(contacts) > f.Limit {
		page.Contacts = contacts[:f.Limit]
		page.Next = store.EncodeContactCursor(page.Contacts[f.Limit-1].ID)
	}
	return page, nil
}

// writeContactFields stores the editable fields of c; the generated
// search column follows name, email and phone.
func writeContactFields(ctx context.Context, tx pgx.Tx, c store.Contact) error {
	_, err := tx.Exec(ctx, `UPDATE contacts SET name = $1, email = $2, phone = $3, attributes = $4, updated_at = $5
		WHERE workspace_id = $6 AND id = $7`,
		c.Name, c.Email, c.Phone, string(c.Attributes), c.UpdatedAt, c.WorkspaceID, c.ID)
	return err
}

// UpdateContact applies u under the contact's row lock and appends
// contact.updated.
func (s *Store) UpdateContact(ctx context.Context, workspaceID, id int64, u store.ContactUpdate) (store.Contact, store.Event, error) {
	var (
		c  store.Contact
		ev store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = contactIn(ctx, tx, workspaceID, id, lockForEdit); err != nil {
			return err
		}
		now := store.Now()
		if err := u.Apply(&c, now); err != nil {
			return err
		}
		if err := writeContactFields(ctx, tx, c); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventContactUpdated, 0, store.ContactPayload{Contact: c}, now)
		return err
	})
	if err != nil {
		return store.Contact{}, store.Event{}, fmt.Errorf("store: update contact %d: %w", id, err)
	}
	return c, ev, nil
}

// DeleteContact deletes a contact without conversations; its identities go
// with it (ON DELETE CASCADE).
func (s *Store) DeleteContact(ctx context.Context, workspaceID, id int64) (store.Event, error) {
	var ev store.Event
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE waits out, and then holds off, transactions creating
		// a conversation for the contact, so the check below sees every
		// conversation there will be. It matters: the conversations'
		// foreign key cascades, so this check is what keeps a delete from
		// taking a customer's history with it.
		c, err := contactIn(ctx, tx, workspaceID, id, lockForUpdate)
		if err != nil {
			return err
		}
		var busy bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE workspace_id = $1 AND contact_id = $2)`,
			workspaceID, id).Scan(&busy); err != nil {
			return err
		}
		if busy {
			return fmt.Errorf("contact has conversations: %w", store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM contacts WHERE workspace_id = $1 AND id = $2`, workspaceID, id); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventContactDeleted, 0, store.ContactPayload{Contact: c}, store.Now())
		return err
	})
	if err != nil {
		return store.Event{}, fmt.Errorf("store: delete contact %d: %w", id, err)
	}
	return ev, nil
}

// MergeContacts merges fromID into intoID in one transaction. It locks
// both contacts in ascending id order, so merges of overlapping pairs
// cannot deadlock and the second of two identical merges, once it gets the
// locks, finds fromID deleted: ErrNotFound. Then it locks from's
// conversations in ascending id order, and takes the workspace row last.
func (s *Store) MergeContacts(ctx context.Context, workspaceID, intoID, fromID int64) (store.Contact, []store.Event, error) {
	if intoID == fromID {
		return store.Contact{}, nil, fmt.Errorf("store: merge contacts: %w", store.Invalid("from_id", "cannot merge a contact into itself"))
	}
	var (
		into   store.Contact
		events []store.Event
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		locked := map[int64]store.Contact{}
		for _, id := range []int64{min(intoID, fromID), max(intoID, fromID)} {
			c, err := contactIn(ctx, tx, workspaceID, id, lockForUpdate)
			if err != nil {
				return err
			}
			locked[id] = c
		}
		into = locked[intoID]
		from := locked[fromID]
		now := store.Now()
		if err := store.MergeContactFields(&into, from, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2
			ORDER BY id FOR NO KEY UPDATE`, workspaceID, fromID)
		if err != nil {
			return err
		}
		moved, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		// Everything that points at from moves before from is deleted:
		// the foreign keys cascade.
		if _, err := tx.Exec(ctx, `UPDATE conversations SET contact_id = $1, updated_at = $2
			WHERE workspace_id = $3 AND contact_id = $4`, intoID, now, workspaceID, fromID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE contact_identities SET contact_id = $1 WHERE workspace_id = $2 AND contact_id = $3`,
			intoID, workspaceID, fromID); err != nil {
			return err
		}
		// Consent moves too, and the stricter state wins: opted out of
		// messages, or of AI processing, if either contact was.
		if _, err := tx.Exec(ctx, `UPDATE consent_records SET contact_id = $1 WHERE workspace_id = $2 AND contact_id = $3`,
			intoID, workspaceID, fromID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE contacts SET opted_out_at = (SELECT opted_out_at FROM contacts WHERE workspace_id = $1 AND id = $3)
			WHERE workspace_id = $1 AND id = $2 AND opted_out_at IS NULL`, workspaceID, intoID, fromID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contact_ai_off (workspace_id, contact_id, off_at)
			SELECT workspace_id, $2, off_at FROM contact_ai_off WHERE workspace_id = $1 AND contact_id = $3
			ON CONFLICT DO NOTHING`, workspaceID, intoID, fromID); err != nil {
			return err
		}
		if err := writeContactFields(ctx, tx, into); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM contacts WHERE workspace_id = $1 AND id = $2`, workspaceID, fromID); err != nil {
			return err
		}
		for _, convID := range moved {
			conv, err := conversationIn(ctx, tx, workspaceID, convID, false)
			if err != nil {
				return err
			}
			ev, err := appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, conv.ID,
				store.ConversationPayload{Conversation: conv, Changed: []string{"contact_id"}}, now)
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
		if into, err = contactIn(ctx, tx, workspaceID, intoID, noLock); err != nil {
			return err
		}
		ev, err := appendEvent(ctx, tx, workspaceID, store.EventContactMerged, 0, store.ContactPayload{Contact: into, MergedID: fromID}, now)
		events = append(events, ev)
		return err
	})
	if err != nil {
		return store.Contact{}, nil, fmt.Errorf("store: merge contact %d into %d: %w", fromID, intoID, err)
	}
	return into, events, nil
}
