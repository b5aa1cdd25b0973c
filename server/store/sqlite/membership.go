package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// keepAnOwner returns ErrLastOwner when a member of role is the
// workspace's last owner, about to be demoted or removed. The single
// writer makes the count hold until commit.
func keepAnOwner(ctx context.Context, tx *sql.Tx, workspaceID int64, role store.Role) error {
	if role != store.RoleOwner {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM memberships WHERE workspace_id = ? AND role = 'owner'`, workspaceID).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return store.ErrLastOwner
	}
	return nil
}

// SetRole changes a member's role.
func (s *Store) SetRole(ctx context.Context, workspaceID, agentID int64, role store.Role, by store.Actor) (store.Agent, error) {
	if !role.Valid() {
		return store.Agent{}, fmt.Errorf("store: set role: %w", store.Invalid("role", "must be owner, admin or agent, not %q", role))
	}
	var a store.Agent
	err := s.write(ctx, func(tx *sql.Tx) error {
		before, err := agentIn(ctx, tx, workspaceID, agentID)
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
		if err := keepAnOwner(ctx, tx, workspaceID, before.Role); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET role = ? WHERE workspace_id = ? AND agent_id = ?`,
			role, workspaceID, agentID); err != nil {
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

// RemoveMember ends a membership. SQLite's assignee column references
// agents, not memberships, so the member's conversations are unassigned
// here explicitly, as they are in Postgres.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, agentID int64, by store.Actor) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		member, err := agentIn(ctx, tx, workspaceID, agentID)
		if err != nil {
			return err
		}
		if !by.Permits(member.Role) {
			return store.ErrForbidden
		}
		if err := keepAnOwner(ctx, tx, workspaceID, member.Role); err != nil {
			return err
		}
		now := store.Now()
		convIDs, err := queryIDs(ctx, tx, `SELECT id FROM conversations WHERE workspace_id = ? AND assignee_id = ? ORDER BY id`, workspaceID, agentID)
		if err != nil {
			return err
		}
		for _, id := range convIDs {
			before, err := conversationIn(ctx, tx, workspaceID, id)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET assignee_id = NULL, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				micros(now), workspaceID, id); err != nil {
				return err
			}
			after := before
			after.AssigneeID, after.UpdatedAt = 0, now
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, id,
				store.ConversationPayload{Conversation: after, Changed: store.ChangedFields(before, after)}, now); err != nil {
				return err
			}
		}
		teamIDs, err := queryIDs(ctx, tx, `SELECT team_id FROM team_members WHERE workspace_id = ? AND agent_id = ? ORDER BY team_id`, workspaceID, agentID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE workspace_id = ? AND agent_id = ?`, workspaceID, agentID); err != nil {
			return err
		}
		for _, id := range teamIDs {
			t, err := teamIn(ctx, tx, workspaceID, id)
			if err != nil {
				return err
			}
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventTeamUpdated, 0, store.TeamPayload{Team: t}, now); err != nil {
				return err
			}
		}
		var tokens int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE workspace_id = ? AND agent_id = ? AND revoked_at IS NULL`,
			workspaceID, agentID).Scan(&tokens); err != nil {
			return err
		}
		// The cascade deletes the member's tokens, read marks and
		// mentions of this workspace with the membership.
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE workspace_id = ? AND agent_id = ?`, workspaceID, agentID); err != nil {
			return err
		}
		if err := recordAudit(ctx, tx, workspaceID, store.MemberAudit(by, store.AuditMemberRemoved, agentID,
			map[string]any{"role": member.Role, "tokens": tokens})); err != nil {
			return err
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
// auto-join workspaces of hostedDomain, in one write transaction.
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
	err = s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		invs, err := queryInvitations(ctx, tx, `SELECT `+invitationCols+` FROM invitations
			WHERE lower(email) = lower(?) AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?
			ORDER BY workspace_id, id`, email, micros(now))
		if err != nil {
			return err
		}
		var domainWS []int64
		if domain != "" {
			if domainWS, err = queryIDs(ctx, tx, `SELECT id FROM workspaces WHERE auto_join_domain = ? ORDER BY id`, domain); err != nil {
				return err
			}
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM agents WHERE lower(email) = lower(?)`, email).Scan(&agentID)
		switch {
		case err == sql.ErrNoRows && len(invs) == 0 && len(domainWS) == 0:
			return nil // a stranger with nothing to join
		case err == sql.ErrNoRows:
			err = tx.QueryRowContext(ctx, `INSERT INTO agents (email, created_at) VALUES (?, ?) RETURNING id`, email, micros(now)).Scan(&agentID)
		}
		if err != nil {
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
		by := store.Actor{AgentID: agentID}
		for _, j := range joins {
			res, err := tx.ExecContext(ctx, `INSERT INTO memberships (workspace_id, agent_id, role, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, j.workspaceID, agentID, j.role, micros(now))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			j.added = n == 1
			if j.invitation != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?`,
					micros(now), agentID, j.invitation.ID); err != nil {
					return err
				}
				j.invitation.AcceptedAt, j.invitation.AcceptedBy = &now, agentID
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
	rows, err := s.r.QueryContext(ctx, `SELECT w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.auto_join_domain, w.created_at,
			`+agentCols+`
		FROM memberships m JOIN workspaces w ON w.id = m.workspace_id JOIN agents a ON a.id = m.agent_id
		WHERE m.agent_id = ? ORDER BY w.id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: memberships: %w", err)
	}
	defer rows.Close()
	var out []store.Membership
	for rows.Next() {
		var (
			m                  store.Membership
			settings           string
			wCreated, aCreated int64
		)
		w, a := &m.Workspace, &m.Agent
		if err := rows.Scan(&w.ID, &w.Name, &w.AppID, &w.AppKey, &w.AppSecret, &w.Enabled, &settings, &w.AutoJoinDomain, &wCreated,
			&a.ID, &a.Email, &a.Name, &a.Role, &aCreated); err != nil {
			return nil, fmt.Errorf("store: memberships: %w", err)
		}
		w.Settings, w.CreatedAt, a.CreatedAt, m.Role = json.RawMessage(settings), fromMicros(wCreated), fromMicros(aCreated), a.Role
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: memberships: %w", err)
	}
	return out, nil
}

// UpdateWorkspace applies u to the workspace's settings.
func (s *Store) UpdateWorkspace(ctx context.Context, workspaceID int64, u store.WorkspaceUpdate, by store.Actor) (store.Workspace, error) {
	var w store.Workspace
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		w, err = scanWorkspace(tx.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, workspaceID))
		if err != nil {
			return notFound(err)
		}
		changed, err := u.Apply(&w)
		if err != nil || len(changed) == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET name = ?, auto_join_domain = ? WHERE id = ?`,
			w.Name, w.AutoJoinDomain, workspaceID); err != nil {
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
