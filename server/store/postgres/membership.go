package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// lockOwners row-locks the workspace's owner memberships in agent id order
// and returns their agent ids. Every change that could take away the last
// owner locks them first, so two such changes run one after the other and
// the second, re-reading the rows after its wait, counts the owners the
// first left.
func lockOwners(ctx context.Context, tx pgx.Tx, workspaceID int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT agent_id FROM memberships WHERE workspace_id = $1 AND role = 'owner'
		ORDER BY agent_id FOR NO KEY UPDATE`, workspaceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// memberLocked reads a member of the workspace under lock, a row-lock
// clause for its membership row.
func memberLocked(ctx context.Context, tx pgx.Tx, workspaceID, agentID int64, lock string) (store.Agent, error) {
	a, err := scanAgent(tx.QueryRow(ctx, `SELECT `+agentCols+`
		FROM agents a JOIN memberships m ON m.agent_id = a.id
		WHERE m.workspace_id = $1 AND a.id = $2 `+lock, workspaceID, agentID))
	return a, notFound(err)
}

// SetRole changes a member's role under the owners' row locks.
func (s *Store) SetRole(ctx context.Context, workspaceID, agentID int64, role store.Role, by store.Actor) (store.Agent, error) {
	if !role.Valid() {
		return store.Agent{}, fmt.Errorf("store: set role: %w", store.Invalid("role", "must be owner, admin or agent, not %q", role))
	}
	var a store.Agent
	err := s.tx(ctx, func(tx pgx.Tx) error {
		owners, err := lockOwners(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		before, err := memberLocked(ctx, tx, workspaceID, agentID, "FOR NO KEY UPDATE OF m")
		if err != nil {
			return err
		}
		if !by.Permits(before.Role) || !by.Permits(role) {
			return store.ErrForbidden
		}
		a = before
		if before.Role == role {
			return nil
		}
		if before.Role == store.RoleOwner && len(owners) <= 1 {
			return store.ErrLastOwner
		}
		if _, err := tx.Exec(ctx, `UPDATE memberships SET role = $3 WHERE workspace_id = $1 AND agent_id = $2`,
			workspaceID, agentID, role); err != nil {
			return err
		}
		a.Role = role
		if err := recordAudit(ctx, tx, workspaceID, store.MemberAudit(by, store.AuditMemberRoleChanged, agentID,
			map[string]any{"from": before.Role, "to": role})); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventMemberUpdated, 0,
			store.MemberPayload{Member: a, PreviousRole: before.Role}, store.Now())
		return err
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("store: set role of agent %d: %w", agentID, err)
	}
	return a, nil
}

// RemoveMember ends a membership.
//
// Locks, in the package's order: every team of the workspace (so no team
// gains the member meanwhile, and each team.updated shows its members as
// of this change), the owners, the membership FOR UPDATE (which holds off
// anything about to point a new row at it, as DeleteTeam's team lock
// does), then the member's conversations. Every row is changed before the
// first event takes the workspace row, so nothing here waits on a row
// while holding it.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, agentID int64, by store.Actor) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT id FROM teams WHERE workspace_id = $1 ORDER BY id FOR NO KEY UPDATE`, workspaceID); err != nil {
			return err
		}
		owners, err := lockOwners(ctx, tx, workspaceID)
		if err != nil {
			return err
		}
		member, err := memberLocked(ctx, tx, workspaceID, agentID, "FOR UPDATE OF m")
		if err != nil {
			return err
		}
		if !by.Permits(member.Role) {
			return store.ErrForbidden
		}
		if member.Role == store.RoleOwner && len(owners) <= 1 {
			return store.ErrLastOwner
		}
		convIDs, err := lockConversations(ctx, tx, `SELECT id FROM conversations
			WHERE workspace_id = $1 AND assignee_id = $2 ORDER BY id FOR NO KEY UPDATE`, workspaceID, agentID)
		if err != nil {
			return err
		}
		now := store.Now()
		type unassigned struct{ before, after store.Conversation }
		convs := make([]unassigned, 0, len(convIDs))
		for _, id := range convIDs {
			before, err := conversationIn(ctx, tx, workspaceID, id, false)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE conversations SET assignee_id = NULL, updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
				now, workspaceID, id); err != nil {
				return err
			}
			after := before
			after.AssigneeID, after.UpdatedAt = 0, now
			convs = append(convs, unassigned{before, after})
		}
		rows, err := tx.Query(ctx, `DELETE FROM team_members WHERE workspace_id = $1 AND agent_id = $2 RETURNING team_id`, workspaceID, agentID)
		if err != nil {
			return err
		}
		teamIDs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		slices.Sort(teamIDs)
		var tokens int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE workspace_id = $1 AND agent_id = $2 AND revoked_at IS NULL`,
			workspaceID, agentID).Scan(&tokens); err != nil {
			return err
		}
		// The cascade deletes the member's tokens, read marks and
		// mentions of this workspace with the membership.
		if _, err := tx.Exec(ctx, `DELETE FROM memberships WHERE workspace_id = $1 AND agent_id = $2`, workspaceID, agentID); err != nil {
			return err
		}
		if err := recordAudit(ctx, tx, workspaceID, store.MemberAudit(by, store.AuditMemberRemoved, agentID,
			map[string]any{"role": member.Role, "tokens": tokens})); err != nil {
			return err
		}
		for _, c := range convs {
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, c.after.ID,
				store.ConversationPayload{Conversation: c.after, Changed: store.ChangedFields(c.before, c.after)}, now); err != nil {
				return err
			}
		}
		for _, id := range teamIDs {
			t, err := teamIn(ctx, tx, workspaceID, id, "")
			if err != nil {
				return err
			}
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventTeamUpdated, 0, store.TeamPayload{Team: t}, now); err != nil {
				return err
			}
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventMemberRemoved, 0, store.MemberPayload{Member: member}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: remove member %d: %w", agentID, err)
	}
	return nil
}

// joining is one workspace a JoinByEmail joins or accepts an invitation
// of.
type joining struct {
	workspaceID int64
	invitation  *store.Invitation // nil for a join by domain
	role        store.Role
	added       bool // a new membership, not one the agent had
}

// JoinByEmail accepts the email's pending invitations and joins the
// auto-join workspaces of hostedDomain.
//
// The pending invitations are row-locked first (FOR UPDATE), so of two
// sign-ins racing, the second waits and then finds them accepted. Every
// row is written before the first event, and events are appended in
// workspace id order, the one place a transaction takes several workspace
// rows: two JoinByEmails take them in the same order.
func (s *Store) JoinByEmail(ctx context.Context, email string, emailVerified bool, hostedDomain string) ([]store.Membership, error) {
	email, err := store.NormalizeJoinEmail(email)
	if err != nil {
		return nil, fmt.Errorf("store: join by email: %w", err)
	}
	if !emailVerified {
		return nil, nil
	}
	domain, err := store.NormalizeDomain("hosted_domain", hostedDomain)
	if err != nil {
		domain = "" // not a domain: nothing can match it
	}
	var agentID int64
	err = s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		rows, err := tx.Query(ctx, `SELECT `+invitationCols+` FROM invitations
			WHERE lower(email) = lower($1) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
			ORDER BY workspace_id, id FOR UPDATE`, email, now)
		if err != nil {
			return err
		}
		invs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Invitation, error) { return scanInvitation(r) })
		if err != nil {
			return err
		}
		var domainWS []int64
		if domain != "" {
			rows, err := tx.Query(ctx, `SELECT id FROM workspaces WHERE auto_join_domain = $1 ORDER BY id`, domain)
			if err != nil {
				return err
			}
			if domainWS, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
				return err
			}
		}
		if len(invs) == 0 && len(domainWS) == 0 {
			return tx.QueryRow(ctx, `SELECT coalesce((SELECT id FROM agents WHERE lower(email) = lower($1)), 0)`, email).Scan(&agentID)
		}
		if err := tx.QueryRow(ctx, `WITH ins AS (
				INSERT INTO agents (email, created_at) VALUES ($1, $2)
				ON CONFLICT ((lower(email))) DO NOTHING RETURNING id)
			SELECT id FROM ins UNION ALL SELECT id FROM agents WHERE lower(email) = lower($1) LIMIT 1`,
			email, now).Scan(&agentID); err != nil {
			return err
		}
		var joins []joining
		for i := range invs {
			joins = append(joins, joining{workspaceID: invs[i].WorkspaceID, invitation: &invs[i], role: invs[i].Role})
		}
		for _, id := range domainWS {
			if !slices.ContainsFunc(joins, func(j joining) bool { return j.workspaceID == id }) {
				joins = append(joins, joining{workspaceID: id, role: store.RoleAgent})
			}
		}
		slices.SortFunc(joins, func(a, b joining) int { return cmp.Compare(a.workspaceID, b.workspaceID) })
		for i := range joins {
			j := &joins[i]
			tag, err := tx.Exec(ctx, `INSERT INTO memberships (workspace_id, agent_id, role, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, j.workspaceID, agentID, j.role, now)
			if err != nil {
				return err
			}
			j.added = tag.RowsAffected() == 1
			if j.invitation != nil {
				if _, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = $2, accepted_by = $3 WHERE id = $1`,
					j.invitation.ID, now, agentID); err != nil {
					return err
				}
				j.invitation.AcceptedAt, j.invitation.AcceptedBy = &now, agentID
			}
		}
		by := store.Actor{AgentID: agentID}
		for _, j := range joins {
			if j.invitation != nil {
				if err := recordAudit(ctx, tx, j.workspaceID, store.InvitationAudit(by, store.AuditInvitationAccepted, *j.invitation, nil)); err != nil {
					return err
				}
			} else if j.added {
				if err := recordAudit(ctx, tx, j.workspaceID, store.MemberAudit(by, store.AuditMemberJoined, agentID,
					map[string]any{"domain": domain, "role": j.role})); err != nil {
					return err
				}
			}
			if j.added {
				member, err := agentIn(ctx, tx, j.workspaceID, agentID)
				if err != nil {
					return err
				}
				via := store.JoinedByDomain
				if j.invitation != nil {
					via = store.JoinedByInvitation
				}
				if _, err := appendEvent(ctx, tx, j.workspaceID, store.EventMemberAdded, 0, store.MemberPayload{Member: member, Via: via}, now); err != nil {
					return err
				}
			}
			if j.invitation != nil {
				if _, err := appendEvent(ctx, tx, j.workspaceID, store.EventInvitationAccepted, 0, store.InvitationPayload{Invitation: *j.invitation}, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: join by email: %w", err)
	}
	if agentID == 0 {
		return nil, nil
	}
	return s.memberships(ctx, agentID)
}

// memberships returns every membership of the agent by workspace id.
func (s *Store) memberships(ctx context.Context, agentID int64) ([]store.Membership, error) {
	rows, err := s.pool.Query(ctx, `SELECT w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.auto_join_domain, w.created_at,
			`+agentCols+`
		FROM memberships m JOIN workspaces w ON w.id = m.workspace_id JOIN agents a ON a.id = m.agent_id
		WHERE m.agent_id = $1 ORDER BY w.id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: memberships: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Membership, error) {
		var m store.Membership
		w, a := &m.Workspace, &m.Agent
		err := r.Scan(&w.ID, &w.Name, &w.AppID, &w.AppKey, &w.AppSecret, &w.Enabled, &w.Settings, &w.AutoJoinDomain, &w.CreatedAt,
			&a.ID, &a.Email, &a.Name, &a.Role, &a.CreatedAt)
		w.CreatedAt, a.CreatedAt, m.Role = w.CreatedAt.UTC(), a.CreatedAt.UTC(), a.Role
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: memberships: %w", err)
	}
	return out, nil
}

// UpdateWorkspace applies u under the workspace's row lock.
func (s *Store) UpdateWorkspace(ctx context.Context, workspaceID int64, u store.WorkspaceUpdate, by store.Actor) (store.Workspace, error) {
	var w store.Workspace
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		w, err = scanWorkspace(tx.QueryRow(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = $1 FOR NO KEY UPDATE`, workspaceID))
		if err != nil {
			return notFound(err)
		}
		changed, err := u.Apply(&w)
		if err != nil || len(changed) == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE workspaces SET name = $2, auto_join_domain = $3 WHERE id = $1`,
			workspaceID, w.Name, w.AutoJoinDomain); err != nil {
			return err
		}
		if err := recordAudit(ctx, tx, workspaceID, store.WorkspaceAudit(by, w, changed)); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventWorkspaceUpdated, 0,
			store.WorkspacePayload{ID: w.ID, Name: w.Name, AutoJoinDomain: w.AutoJoinDomain, Changed: changed}, store.Now())
		return err
	})
	if err != nil {
		return store.Workspace{}, fmt.Errorf("store: update workspace %d: %w", workspaceID, err)
	}
	return w, nil
}
