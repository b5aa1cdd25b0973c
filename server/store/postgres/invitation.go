package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const invitationCols = `id, workspace_id, email, role, coalesce(invited_by, 0), created_at, expires_at,
	accepted_at, coalesce(accepted_by, 0), revoked_at`

func scanInvitation(row pgx.Row) (store.Invitation, error) {
	var i store.Invitation
	err := row.Scan(&i.ID, &i.WorkspaceID, &i.Email, &i.Role, &i.InvitedBy, &i.CreatedAt, &i.ExpiresAt,
		&i.AcceptedAt, &i.AcceptedBy, &i.RevokedAt)
	i.CreatedAt, i.ExpiresAt = i.CreatedAt.UTC(), i.ExpiresAt.UTC()
	for _, t := range []**time.Time{&i.AcceptedAt, &i.RevokedAt} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	return i, err
}

// CreateInvitation invites an email, replacing its outstanding invitation.
// Locking the outstanding invitation first makes two invitations of one
// email queue; two first invitations racing meet the unique index instead,
// and the loser gets ErrConflict.
func (s *Store) CreateInvitation(ctx context.Context, workspaceID int64, ni store.NewInvitation, by store.Actor) (store.Invitation, error) {
	if err := ni.Normalize(); err != nil {
		return store.Invitation{}, fmt.Errorf("store: create invitation: %w", err)
	}
	if !by.Permits(ni.Role) {
		return store.Invitation{}, fmt.Errorf("store: create invitation: %w", store.ErrForbidden)
	}
	var inv store.Invitation
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		var member bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships m JOIN agents a ON a.id = m.agent_id
			WHERE m.workspace_id = $1 AND lower(a.email) = lower($2))`, workspaceID, ni.Email).Scan(&member); err != nil {
			return err
		}
		if member {
			return store.ErrAlreadyMember
		}
		rows, err := tx.Query(ctx, `UPDATE invitations SET revoked_at = $3
			WHERE workspace_id = $1 AND lower(email) = lower($2) AND accepted_at IS NULL AND revoked_at IS NULL
			RETURNING `+invitationCols, workspaceID, ni.Email, now)
		if err != nil {
			return err
		}
		replaced, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Invitation, error) { return scanInvitation(r) })
		if err != nil {
			return err
		}
		inv, err = scanInvitation(tx.QueryRow(ctx, `INSERT INTO invitations (workspace_id, email, role, invited_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+invitationCols,
			workspaceID, ni.Email, ni.Role, nullID(by.AgentID), now, now.Add(ni.ExpiresIn)))
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
	rows, err := s.pool.Query(ctx, `SELECT `+invitationCols+` FROM invitations
		WHERE workspace_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL ORDER BY id DESC`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list invitations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Invitation, error) { return scanInvitation(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation revokes an outstanding invitation under its row lock,
// which JoinByEmail takes too: an invitation is either accepted or
// revoked, never both.
func (s *Store) RevokeInvitation(ctx context.Context, workspaceID, id int64, by store.Actor) (store.Invitation, error) {
	var inv store.Invitation
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		inv, err = scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations
			WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, workspaceID, id))
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
		if _, err := tx.Exec(ctx, `UPDATE invitations SET revoked_at = $2 WHERE id = $1`, id, now); err != nil {
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
