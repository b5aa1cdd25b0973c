package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const invitationCols = `id, workspace_id, email, role, coalesce(invited_by, 0), created_at, expires_at,
	accepted_at, coalesce(accepted_by, 0), revoked_at`

func scanInvitation(row interface{ Scan(...any) error }) (store.Invitation, error) {
	var (
		i                 store.Invitation
		created, expires  int64
		accepted, revoked sql.NullInt64
	)
	err := row.Scan(&i.ID, &i.WorkspaceID, &i.Email, &i.Role, &i.InvitedBy, &created, &expires, &accepted, &i.AcceptedBy, &revoked)
	i.CreatedAt, i.ExpiresAt = fromMicros(created), fromMicros(expires)
	i.AcceptedAt, i.RevokedAt = fromNullMicros(accepted), fromNullMicros(revoked)
	return i, err
}

func queryInvitations(ctx context.Context, q queryer, query string, args ...any) ([]store.Invitation, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Invitation
	for rows.Next() {
		i, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// CreateInvitation invites an email, replacing its outstanding invitation.
func (s *Store) CreateInvitation(ctx context.Context, workspaceID int64, ni store.NewInvitation, by store.Actor) (store.Invitation, error) {
	if err := ni.Normalize(); err != nil {
		return store.Invitation{}, fmt.Errorf("store: create invitation: %w", err)
	}
	if !by.Permits(ni.Role) {
		return store.Invitation{}, fmt.Errorf("store: create invitation: %w", store.ErrForbidden)
	}
	var inv store.Invitation
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		var member bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM memberships m JOIN agents a ON a.id = m.agent_id
			WHERE m.workspace_id = ? AND lower(a.email) = lower(?))`, workspaceID, ni.Email).Scan(&member); err != nil {
			return err
		}
		if member {
			return store.ErrAlreadyMember
		}
		replaced, err := queryInvitations(ctx, tx, `UPDATE invitations SET revoked_at = ?
			WHERE workspace_id = ? AND lower(email) = lower(?) AND accepted_at IS NULL AND revoked_at IS NULL
			RETURNING `+invitationCols, micros(now), workspaceID, ni.Email)
		if err != nil {
			return err
		}
		inv, err = scanInvitation(tx.QueryRowContext(ctx, `INSERT INTO invitations (workspace_id, email, role, invited_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING `+invitationCols,
			workspaceID, ni.Email, ni.Role, nullID(by.AgentID), micros(now), micros(now.Add(ni.ExpiresIn))))
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		case err != nil:
			return err
		}
		ids := make([]int64, len(replaced))
		for i, r := range replaced {
			ids[i] = r.ID
		}
		if err := recordAudit(ctx, tx, workspaceID, store.InvitationAudit(by, store.AuditInvitationCreated, inv,
			map[string]any{"expires_at": inv.ExpiresAt, "replaced": ids})); err != nil {
			return err
		}
		for _, r := range replaced {
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventInvitationRevoked, 0, store.InvitationPayload{Invitation: r}, now); err != nil {
				return err
			}
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventInvitationCreated, 0, store.InvitationPayload{Invitation: inv}, now)
		return err
	})
	if err != nil {
		return store.Invitation{}, fmt.Errorf("store: create invitation: %w", err)
	}
	return inv, nil
}

// ListInvitations returns the outstanding invitations, newest first.
func (s *Store) ListInvitations(ctx context.Context, workspaceID int64) ([]store.Invitation, error) {
	out, err := queryInvitations(ctx, s.r, `SELECT `+invitationCols+` FROM invitations
		WHERE workspace_id = ? AND accepted_at IS NULL AND revoked_at IS NULL ORDER BY id DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation revokes an outstanding invitation.
func (s *Store) RevokeInvitation(ctx context.Context, workspaceID, id int64, by store.Actor) (store.Invitation, error) {
	var inv store.Invitation
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationCols+` FROM invitations
			WHERE workspace_id = ? AND id = ?`, workspaceID, id))
		switch {
		case err != nil:
			return notFound(err)
		case inv.AcceptedAt != nil:
			return store.ErrConflict
		case inv.RevokedAt != nil:
			return nil
		case !by.Permits(inv.Role):
			return store.ErrForbidden
		}
		now := store.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ?`, micros(now), id); err != nil {
			return err
		}
		inv.RevokedAt = &now
		if err := recordAudit(ctx, tx, workspaceID, store.InvitationAudit(by, store.AuditInvitationRevoked, inv, nil)); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventInvitationRevoked, 0, store.InvitationPayload{Invitation: inv}, now)
		return err
	})
	if err != nil {
		return store.Invitation{}, fmt.Errorf("store: revoke invitation %d: %w", id, err)
	}
	return inv, nil
}
