package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const teamCols = `t.id, t.workspace_id, t.name, t.description, t.created_at,
	coalesce((SELECT array_agg(agent_id ORDER BY agent_id) FROM team_members WHERE team_id = t.id), '{}')`

func scanTeam(row pgx.Row) (store.Team, error) {
	var t store.Team
	err := row.Scan(&t.ID, &t.WorkspaceID, &t.Name, &t.Description, &t.CreatedAt, &t.AgentIDs)
	t.CreatedAt = t.CreatedAt.UTC()
	if t.AgentIDs == nil {
		t.AgentIDs = []int64{}
	}
	return t, err
}

// teamIn reads a team of the workspace. lock is "" or a row-lock clause
// for the team row: FOR NO KEY UPDATE serialises changes to the team,
// FOR UPDATE also holds off new references to it (see DeleteTeam).
func teamIn(ctx context.Context, q querier, workspaceID, id int64, lock string) (store.Team, error) {
	t, err := scanTeam(q.QueryRow(ctx, `SELECT `+teamCols+` FROM teams t WHERE t.workspace_id = $1 AND t.id = $2 `+lock, workspaceID, id))
	return t, notFound(err)
}

// CreateTeam creates a team and appends team.created.
func (s *Store) CreateTeam(ctx context.Context, workspaceID int64, nt store.NewTeam) (store.Team, error) {
	if err := nt.Validate(); err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	var t store.Team
	err := s.tx(ctx, func(tx pgx.Tx) error {
		now := store.Now()
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO teams (workspace_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			workspaceID, strings.TrimSpace(nt.Name), strings.TrimSpace(nt.Description), now).Scan(&id)
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		case err != nil:
			return err
		}
		if t, err = teamIn(ctx, tx, workspaceID, id, ""); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventTeamCreated, 0, store.TeamPayload{Team: t}, now)
		return err
	})
	if err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	return t, nil
}

// Team returns a team of the workspace with its members.
func (s *Store) Team(ctx context.Context, workspaceID, id int64) (store.Team, error) {
	t, err := teamIn(ctx, s.pool, workspaceID, id, "")
	if err != nil {
		return store.Team{}, fmt.Errorf("store: team %d: %w", id, err)
	}
	return t, nil
}

// UpdateTeam applies u under the team's row lock and appends team.updated.
func (s *Store) UpdateTeam(ctx context.Context, workspaceID, id int64, u store.TeamUpdate) (store.Team, error) {
	var t store.Team
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = teamIn(ctx, tx, workspaceID, id, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		if err := u.Apply(&t); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE teams SET name = $1, description = $2 WHERE workspace_id = $3 AND id = $4`,
			t.Name, t.Description, workspaceID, id)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventTeamUpdated, 0, store.TeamPayload{Team: t}, store.Now())
		return err
	})
	if err != nil {
		return store.Team{}, fmt.Errorf("store: update team %d: %w", id, err)
	}
	return t, nil
}

// DeleteTeam unroutes the team's conversations and deletes it.
//
// The team row is locked FOR UPDATE first, which holds off any
// transaction about to route a conversation to it (its foreign-key check
// needs a KEY SHARE lock): such a transaction either committed before, and
// its conversation is found below, or fails its check after this commit.
// Without the lock, ON DELETE SET NULL would unroute a conversation with
// no event.
func (s *Store) DeleteTeam(ctx context.Context, workspaceID, id int64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		t, err := teamIn(ctx, tx, workspaceID, id, "FOR UPDATE OF t")
		if err != nil {
			return err
		}
		convIDs, err := lockConversations(ctx, tx, `SELECT id FROM conversations
			WHERE workspace_id = $1 AND team_id = $2 ORDER BY id FOR NO KEY UPDATE`, workspaceID, id)
		if err != nil {
			return err
		}
		now := store.Now()
		for _, convID := range convIDs {
			before, err := conversationIn(ctx, tx, workspaceID, convID, false)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE conversations SET team_id = NULL, updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
				now, workspaceID, convID); err != nil {
				return err
			}
			after := before
			after.TeamID, after.UpdatedAt = 0, now
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, convID,
				store.ConversationPayload{Conversation: after, Changed: store.ChangedFields(before, after)}, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM teams WHERE workspace_id = $1 AND id = $2`, workspaceID, id); err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventTeamDeleted, 0, store.TeamPayload{Team: t}, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete team %d: %w", id, err)
	}
	return nil
}

// lockConversations runs query, which selects conversation ids in
// ascending order FOR NO KEY UPDATE, and returns them. Locking in id order
// is what keeps two transactions that each lock several conversations
// from deadlocking (see the package comment).
func lockConversations(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]int64, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// AddTeamMember adds a workspace member to a team.
func (s *Store) AddTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error {
	err := s.changeTeamMembers(ctx, workspaceID, teamID, agentID, func(tx pgx.Tx) (int64, error) {
		if err := checkMember(ctx, tx, workspaceID, agentID, "agent_id"); err != nil {
			return 0, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO team_members (workspace_id, team_id, agent_id) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, workspaceID, teamID, agentID)
		return tag.RowsAffected(), err
	})
	if err != nil {
		return fmt.Errorf("store: add team member: %w", err)
	}
	return nil
}

// RemoveTeamMember takes an agent off a team.
func (s *Store) RemoveTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error {
	err := s.changeTeamMembers(ctx, workspaceID, teamID, agentID, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM team_members WHERE workspace_id = $1 AND team_id = $2 AND agent_id = $3`,
			workspaceID, teamID, agentID)
		return tag.RowsAffected(), err
	})
	if err != nil {
		return fmt.Errorf("store: remove team member: %w", err)
	}
	return nil
}

// changeTeamMembers runs change under the team's row lock, so that each
// team.updated shows the members as of its own change, and appends
// team.updated when change affected a row.
func (s *Store) changeTeamMembers(ctx context.Context, workspaceID, teamID, agentID int64, change func(pgx.Tx) (int64, error)) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := teamIn(ctx, tx, workspaceID, teamID, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		n, err := change(tx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // unchanged: no event
		}
		t, err := teamIn(ctx, tx, workspaceID, teamID, "")
		if err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventTeamUpdated, 0, store.TeamPayload{Team: t}, store.Now())
		return err
	})
}

// ListTeams returns the workspace's teams by name, with their members.
func (s *Store) ListTeams(ctx context.Context, workspaceID int64) ([]store.Team, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+teamCols+` FROM teams t WHERE t.workspace_id = $1 ORDER BY t.name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Team, error) { return scanTeam(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	return out, nil
}

const cannedCols = `id, workspace_id, short_code, content, created_at, updated_at`

func scanCanned(row pgx.Row) (store.CannedResponse, error) {
	var c store.CannedResponse
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.ShortCode, &c.Content, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// CreateCannedResponse saves a reply and appends canned_response.created.
func (s *Store) CreateCannedResponse(ctx context.Context, workspaceID int64, c store.CannedResponse) (store.CannedResponse, error) {
	if err := c.Validate(); err != nil {
		return store.CannedResponse{}, fmt.Errorf("store: create canned response: %w", err)
	}
	now := store.Now()
	c = store.CannedResponse{WorkspaceID: workspaceID, ShortCode: strings.TrimSpace(c.ShortCode), Content: c.Content, CreatedAt: now, UpdatedAt: now}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO canned_responses (workspace_id, short_code, content, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) RETURNING id`, workspaceID, c.ShortCode, c.Content, now).Scan(&c.ID)
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		case err != nil:
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventCannedResponseCreated, 0, store.CannedResponsePayload{CannedResponse: c}, now)
		return err
	})
	if err != nil {
		return store.CannedResponse{}, fmt.Errorf("store: create canned response: %w", err)
	}
	return c, nil
}

// ListCannedResponses returns replies whose short code starts with prefix.
func (s *Store) ListCannedResponses(ctx context.Context, workspaceID int64, prefix string) ([]store.CannedResponse, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+cannedCols+` FROM canned_responses
		WHERE workspace_id = $1 AND left(short_code, length($2)) = $2 ORDER BY short_code`, workspaceID, prefix)
	if err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CannedResponse, error) { return scanCanned(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	return out, nil
}

// UpdateCannedResponse applies u under the reply's row lock and appends
// canned_response.updated.
func (s *Store) UpdateCannedResponse(ctx context.Context, workspaceID, id int64, u store.CannedResponseUpdate) (store.CannedResponse, error) {
	var c store.CannedResponse
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCanned(tx.QueryRow(ctx, `SELECT `+cannedCols+` FROM canned_responses WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
			workspaceID, id))
		if err != nil {
			return notFound(err)
		}
		now := store.Now()
		if err := u.Apply(&c, now); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE canned_responses SET short_code = $1, content = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5`,
			c.ShortCode, c.Content, now, workspaceID, id)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventCannedResponseUpdated, 0, store.CannedResponsePayload{CannedResponse: c}, now)
		return err
	})
	if err != nil {
		return store.CannedResponse{}, fmt.Errorf("store: update canned response %d: %w", id, err)
	}
	return c, nil
}

// DeleteCannedResponse deletes a reply and appends
// canned_response.deleted.
func (s *Store) DeleteCannedResponse(ctx context.Context, workspaceID, id int64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		c, err := scanCanned(tx.QueryRow(ctx, `DELETE FROM canned_responses WHERE workspace_id = $1 AND id = $2 RETURNING `+cannedCols,
			workspaceID, id))
		if err != nil {
			return notFound(err)
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventCannedResponseDeleted, 0, store.CannedResponsePayload{CannedResponse: c}, store.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete canned response %d: %w", id, err)
	}
	return nil
}
