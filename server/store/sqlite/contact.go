package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// contactCols reads a contact with its identities, oldest first, as a JSON
// array ('[]' when there are none).
const contactCols = `c.id, c.workspace_id, c.name, c.email, c.phone, c.attributes,
	(SELECT json_group_array(json_object('channel', i.channel, 'external_id', i.external_id) ORDER BY i.id)
	 FROM contact_identities i WHERE i.contact_id = c.id),
	c.opted_out_at, c.created_at, c.updated_at`

func scanContact(row interface{ Scan(...any) error }) (store.Contact, error) {
	var (
		c                 store.Contact
		attrs, identities string
		created, updated  int64
		optedOut          sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Email, &c.Phone, &attrs, &identities, &optedOut, &created, &updated); err != nil {
		return store.Contact{}, err
	}
	if err := json.Unmarshal([]byte(identities), &c.Identities); err != nil {
		return store.Contact{}, fmt.Errorf("decode identities of contact %d: %w", c.ID, err)
	}
	c.Attributes = json.RawMessage(attrs)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	c.OptedOutAt = fromNullMicros(optedOut)
	return c, nil
}

func contactIn(ctx context.Context, q queryer, workspaceID, id int64) (store.Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.workspace_id = ? AND c.id = ?`, workspaceID, id))
	return c, notFound(err)
}

func collectContacts(rows *sql.Rows) ([]store.Contact, error) {
	defer rows.Close()
	out := []store.Contact{}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// insertContact inserts a contact and its identities, reporting a taken
// identity as store.ErrConflict, and returns the contact as stored.
func insertContact(ctx context.Context, tx *sql.Tx, workspaceID int64, nc store.NewContact, ids []store.Identity, now int64) (store.Contact, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO contacts (workspace_id, name, email, phone, attributes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		workspaceID, strings.TrimSpace(nc.Name), strings.TrimSpace(nc.Email), strings.TrimSpace(nc.Phone),
		string(store.ObjectOrEmpty(nc.Attributes)), now, now).Scan(&id)
	if isForeignKey(err) {
		return store.Contact{}, store.ErrNotFound
	}
	if err != nil {
		return store.Contact{}, err
	}
	for _, ident := range ids {
		_, err := tx.ExecContext(ctx, `INSERT INTO contact_identities (workspace_id, contact_id, channel, external_id, created_at)
			VALUES (?, ?, ?, ?, ?)`, workspaceID, id, ident.Channel, ident.ExternalID, now)
		if isUnique(err) {
			return store.Contact{}, fmt.Errorf("identity %s %q belongs to another contact: %w", ident.Channel, ident.ExternalID, store.ErrConflict)
		}
		if err != nil {
			return store.Contact{}, err
		}
	}
	return contactIn(ctx, tx, workspaceID, id)
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
		c, err = insertContact(ctx, tx, workspaceID, nc, []store.Identity{id}, micros(store.Now()))
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
	c, err := contactIn(ctx, s.r, workspaceID, contactID)
	if err != nil {
		return store.Contact{}, fmt.Errorf("store: contact %d: %w", contactID, err)
	}
	return c, nil
}

// CreateContact creates a contact with its identities and appends
// contact.created.
func (s *Store) CreateContact(ctx context.Context, workspaceID int64, nc store.NewContact, ids []store.Identity) (store.Contact, store.Event, error) {
	if err := errors.Join(nc.Validate(), store.ValidateIdentities(ids)); err != nil {
		return store.Contact{}, store.Event{}, fmt.Errorf("store: create contact: %w", err)
	}
	var (
		c  store.Contact
		ev store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		var err error
		if c, err = insertContact(ctx, tx, workspaceID, nc, ids, micros(now)); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, workspaceID, store.EventContactCreated, 0, store.ContactPayload{Contact: c}, now)
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
	where := []string{"c.workspace_id = ?"}
	args := []any{workspaceID}
	if f.Query != "" {
		where = append(where, "c.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?)")
		args = append(args, matchQuery(f.Query))
	}
	if f.Cursor != "" {
		last, _ := store.DecodeContactCursor(f.Cursor) // validated by Normalize
		where, args = append(where, "c.id < ?"), append(args, last)
	}
	args = append(args, f.Limit+1)
	rows, err := s.r.QueryContext(ctx, `SELECT `+contactCols+` FROM contacts c
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.id DESC LIMIT ?`, args...)
	if err != nil {
		return store.ContactPage{}, fmt.Errorf("store: list contacts: %w", err)
	}
	contacts, err := collectContacts(rows)
	if err != nil {
		return store.ContactPage{}, fmt.Errorf("store: list contacts: %w", err)
	}
	page := store.ContactPage{Contacts: contacts}
	if len(contacts) > f.Limit {
		page.Contacts = contacts[:f.Limit]
		page.Next = store.EncodeContactCursor(page.Contacts[f.Limit-1].ID)
	}
	return page, nil
}

// writeContactFields stores the editable fields of c. The FTS5 triggers
// reindex name, email and phone in the same transaction.
func writeContactFields(ctx context.Context, tx *sql.Tx, c store.Contact) error {
	_, err := tx.ExecContext(ctx, `UPDATE contacts SET name = ?, email = ?, phone = ?, attributes = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ?`,
		c.Name, c.Email, c.Phone, string(c.Attributes), micros(c.UpdatedAt), c.WorkspaceID, c.ID)
	return err
}

// UpdateContact applies u and appends contact.updated.
func (s *Store) UpdateContact(ctx context.Context, workspaceID, id int64, u store.ContactUpdate) (store.Contact, store.Event, error) {
	var (
		c  store.Contact
		ev store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = contactIn(ctx, tx, workspaceID, id); err != nil {
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := contactIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		// The conversations' foreign key cascades, so this check is what
		// keeps a delete from taking a customer's history with it.
		var busy bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE workspace_id = ? AND contact_id = ?)`,
			workspaceID, id).Scan(&busy); err != nil {
			return err
		}
		if busy {
			return fmt.Errorf("contact has conversations: %w", store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
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

// MergeContacts merges fromID into intoID in one write transaction; the
// single writer serializes racing merges, so the second finds fromID gone.
func (s *Store) MergeContacts(ctx context.Context, workspaceID, intoID, fromID int64) (store.Contact, []store.Event, error) {
	if intoID == fromID {
		return store.Contact{}, nil, fmt.Errorf("store: merge contacts: %w", store.Invalid("from_id", "cannot merge a contact into itself"))
	}
	var (
		into   store.Contact
		events []store.Event
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if into, err = contactIn(ctx, tx, workspaceID, intoID); err != nil {
			return err
		}
		from, err := contactIn(ctx, tx, workspaceID, fromID)
		if err != nil {
			return err
		}
		now := store.Now()
		if err := store.MergeContactFields(&into, from, now); err != nil {
			return err
		}
		// Everything that points at from moves before from is deleted:
		// the foreign keys cascade.
		if _, err := tx.ExecContext(ctx, `UPDATE contact_identities SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
			intoID, workspaceID, fromID); err != nil {
			return err
		}
		moved, err := moveConversations(ctx, tx, workspaceID, intoID, fromID, micros(now))
		if err != nil {
			return err
		}
		// Consent moves too, and the stricter state wins: opted out of
		// messages, or of AI processing, if either contact was.
		if _, err := tx.ExecContext(ctx, `UPDATE consent_records SET contact_id = ? WHERE workspace_id = ? AND contact_id = ?`,
			intoID, workspaceID, fromID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contacts SET opted_out_at = (SELECT opted_out_at FROM contacts WHERE workspace_id = ?1 AND id = ?3)
			WHERE workspace_id = ?1 AND id = ?2 AND opted_out_at IS NULL`, workspaceID, intoID, fromID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contact_ai_off (workspace_id, contact_id, off_at)
			SELECT workspace_id, ?2, off_at FROM contact_ai_off WHERE workspace_id = ?1 AND contact_id = ?3
			ON CONFLICT DO NOTHING`, workspaceID, intoID, fromID); err != nil {
			return err
		}
		if err := writeContactFields(ctx, tx, into); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, workspaceID, fromID); err != nil {
			return err
		}
		for _, convID := range moved {
			conv, err := conversationIn(ctx, tx, workspaceID, convID)
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
		if into, err = contactIn(ctx, tx, workspaceID, intoID); err != nil {
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

// moveConversations gives fromID's conversations to intoID and returns
// their ids, ascending.
func moveConversations(ctx context.Context, tx *sql.Tx, workspaceID, intoID, fromID, now int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE conversations SET contact_id = ?, updated_at = ?
		WHERE workspace_id = ? AND contact_id = ? RETURNING id`, intoID, now, workspaceID, fromID)
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}
