package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const teamCols = `t.id, t.workspace_id, t.name, t.description, t.created_at,
	(SELECT group_concat(agent_id) FROM team_members WHERE team_id = t.id)`

func scanTeam(row interface{ Scan(...any) error }) (store.Team, error) {
	var (
		t       store.Team
		created int64
		members sql.NullString
	)
	err := row.Scan(&t.ID, &t.WorkspaceID, &t.Name, &t.Description, &created, &members)
	t.CreatedAt = fromMicros(created)
	t.AgentIDs = []int64{}
	for _, s := range strings.Split(members.String, ",") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			t.AgentIDs = append(t.AgentIDs, id)
		}
	}
	slices.Sort(t.AgentIDs)
	return t, err
}

func teamIn(ctx context.Context, q queryer, workspaceID, id int64) (store.Team, error) {
	t, err := scanTeam(q.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams t WHERE t.workspace_id = ? AND t.id = ?`, workspaceID, id))
	return t, notFound(err)
}

// CreateTeam creates a team and appends team.created.
func (s *Store) CreateTeam(ctx context.Context, workspaceID int64, nt store.NewTeam) (store.Team, error) {
	if err := nt.Validate(); err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	var t store.Team
	err := s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO teams (workspace_id, name, description, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			workspaceID, strings.TrimSpace(nt.Name), strings.TrimSpace(nt.Description), micros(now)).Scan(&id)
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		case err != nil:
			return err
		}
		if t, err = teamIn(ctx, tx, workspaceID, id); err != nil {
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
	t, err := teamIn(ctx, s.r, workspaceID, id)
	if err != nil {
		return store.Team{}, fmt.Errorf("store: team %d: %w", id, err)
	}
	return t, nil
}

// UpdateTeam applies u and appends team.updated.
func (s *Store) UpdateTeam(ctx context.Context, workspaceID, id int64, u store.TeamUpdate) (store.Team, error) {
	var t store.Team
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = teamIn(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if err := u.Apply(&t); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE teams SET name = ?, description = ? WHERE workspace_id = ? AND id = ?`,
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

// DeleteTeam unroutes the team's conversations and deletes it. The single
// writer means no conversation can be routed to it meanwhile.
func (s *Store) DeleteTeam(ctx context.Context, workspaceID, id int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		t, err := teamIn(ctx, tx, workspaceID, id)
		if err != nil {
			return err
		}
		convIDs, err := queryIDs(ctx, tx, `SELECT id FROM conversations WHERE workspace_id = ? AND team_id = ? ORDER BY id`, workspaceID, id)
		if err != nil {
			return err
		}
		now := store.Now()
		for _, convID := range convIDs {
			before, err := conversationIn(ctx, tx, workspaceID, convID)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET team_id = NULL, updated_at = ? WHERE workspace_id = ? AND id = ?`,
				micros(now), workspaceID, convID); err != nil {
				return err
			}
			after := before
			after.TeamID, after.UpdatedAt = 0, now
			if _, err := appendEvent(ctx, tx, workspaceID, store.EventConversationUpdated, convID,
				store.ConversationPayload{Conversation: after, Changed: store.ChangedFields(before, after)}, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
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

// queryIDs returns the ids query selects.
func queryIDs(ctx context.Context, q queryer, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// AddTeamMember adds a workspace member to a team.
func (s *Store) AddTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error {
	err := s.changeTeamMembers(ctx, workspaceID, teamID, func(tx *sql.Tx) (sql.Result, error) {
		if err := checkMember(ctx, tx, workspaceID, agentID, "agent_id"); err != nil {
			return nil, err
		}
		return tx.ExecContext(ctx, `INSERT INTO team_members (workspace_id, team_id, agent_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, workspaceID, teamID, agentID)
	})
	if err != nil {
		return fmt.Errorf("store: add team member: %w", err)
	}
	return nil
}

// RemoveTeamMember takes an agent off a team.
func (s *Store) RemoveTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error {
	err := s.changeTeamMembers(ctx, workspaceID, teamID, func(tx *sql.Tx) (sql.Result, error) {
		return tx.ExecContext(ctx, `DELETE FROM team_members WHERE workspace_id = ? AND team_id = ? AND agent_id = ?`,
			workspaceID, teamID, agentID)
	})
	if err != nil {
		return fmt.Errorf("store: remove team member: %w", err)
	}
	return nil
}

// changeTeamMembers runs change and appends team.updated when it affected
// a row.
func (s *Store) changeTeamMembers(ctx context.Context, workspaceID, teamID int64, change func(*sql.Tx) (sql.Result, error)) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := teamIn(ctx, tx, workspaceID, teamID); err != nil {
			return err
		}
		res, err := change(tx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // unchanged: no event
		}
		t, err := teamIn(ctx, tx, workspaceID, teamID)
		if err != nil {
			return err
		}
		_, err = appendEvent(ctx, tx, workspaceID, store.EventTeamUpdated, 0, store.TeamPayload{Team: t}, store.Now())
		return err
	})
}

// ListTeams returns the workspace's teams by name, with their members.
func (s *Store) ListTeams(ctx context.Context, workspaceID int64) ([]store.Team, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+teamCols+` FROM teams t WHERE t.workspace_id = ? ORDER BY t.name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	defer rows.Close()
	out := []store.Team{}
	for rows.Next() {
		t, err := scanTeam(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list teams: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	return out, nil
}

const cannedCols = `id, workspace_id, short_code, content, created_at, updated_at`

func scanCanned(row interface{ Scan(...any) error }) (store.CannedResponse, error) {
	var (
		c                store.CannedResponse
		created, updated int64
	)
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.ShortCode, &c.Content, &created, &updated)
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, err
}

// CreateCannedResponse saves a reply and appends canned_response.created.
func (s *Store) CreateCannedResponse(ctx context.Context, workspaceID int64, c store.CannedResponse) (store.CannedResponse, error) {
	if err := c.Validate(); err != nil {
		return store.CannedResponse{}, fmt.Errorf("store: create canned response: %w", err)
	}
	now := store.Now()
	c = store.CannedResponse{WorkspaceID: workspaceID, ShortCode: strings.TrimSpace(c.ShortCode), Content: c.Content, CreatedAt: now, UpdatedAt: now}
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO canned_responses (workspace_id, short_code, content, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id`, workspaceID, c.ShortCode, c.Content, micros(now)).Scan(&c.ID)
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
	// substr() rather than LIKE: no wildcard escaping, and case-sensitive
	// like Postgres' left().
	rows, err := s.r.QueryContext(ctx, `SELECT `+cannedCols+` FROM canned_responses
		WHERE workspace_id = ?1 AND substr(short_code, 1, length(?2)) = ?2 ORDER BY short_code`, workspaceID, prefix)
	if err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	defer rows.Close()
	out := []store.CannedResponse{}
	for rows.Next() {
		c, err := scanCanned(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list canned responses: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	return out, nil
}

// UpdateCannedResponse applies u and appends canned_response.updated.
func (s *Store) UpdateCannedResponse(ctx context.Context, workspaceID, id int64, u store.CannedResponseUpdate) (store.CannedResponse, error) {
	var c store.CannedResponse
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCanned(tx.QueryRowContext(ctx, `SELECT `+cannedCols+` FROM canned_responses WHERE workspace_id = ? AND id = ?`,
			workspaceID, id))
		if err != nil {
			return notFound(err)
		}
		now := store.Now()
		if err := u.Apply(&c, now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE canned_responses SET short_code = ?, content = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			c.ShortCode, c.Content, micros(now), workspaceID, id)
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
	err := s.write(ctx, func(tx *sql.Tx) error {
		c, err := scanCanned(tx.QueryRowContext(ctx, `DELETE FROM canned_responses WHERE workspace_id = ? AND id = ? RETURNING `+cannedCols,
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
