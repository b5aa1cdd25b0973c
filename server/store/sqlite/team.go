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

// CreateTeam creates a team.
func (s *Store) CreateTeam(ctx context.Context, workspaceID int64, nt store.NewTeam) (store.Team, error) {
	if err := nt.Validate(); err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	t := store.Team{WorkspaceID: workspaceID, Name: strings.TrimSpace(nt.Name), Description: strings.TrimSpace(nt.Description), CreatedAt: store.Now()}
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO teams (workspace_id, name, description, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			workspaceID, t.Name, t.Description, micros(t.CreatedAt)).Scan(&t.ID)
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	return t, nil
}

// AddTeamMember adds a workspace member to a team.
func (s *Store) AddTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkTeam(ctx, tx, workspaceID, teamID); err != nil {
			return store.ErrNotFound
		}
		if err := checkMember(ctx, tx, workspaceID, agentID, "agent_id"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO team_members (workspace_id, team_id, agent_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, workspaceID, teamID, agentID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: add team member: %w", err)
	}
	return nil
}

// ListTeams returns the workspace's teams by name, with their members.
func (s *Store) ListTeams(ctx context.Context, workspaceID int64) ([]store.Team, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.id, t.name, t.description, t.created_at,
			(SELECT group_concat(agent_id) FROM team_members WHERE team_id = t.id)
		FROM teams t WHERE t.workspace_id = ? ORDER BY t.name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	defer rows.Close()
	out := []store.Team{}
	for rows.Next() {
		t := store.Team{WorkspaceID: workspaceID}
		var (
			created int64
			members sql.NullString
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Description, &created, &members); err != nil {
			return nil, fmt.Errorf("store: list teams: %w", err)
		}
		t.CreatedAt = fromMicros(created)
		for _, s := range strings.Split(members.String, ",") {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				t.AgentIDs = append(t.AgentIDs, id)
			}
		}
		slices.Sort(t.AgentIDs)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	return out, nil
}

// CreateCannedResponse saves a reply.
func (s *Store) CreateCannedResponse(ctx context.Context, workspaceID int64, c store.CannedResponse) (store.CannedResponse, error) {
	if err := c.Validate(); err != nil {
		return store.CannedResponse{}, fmt.Errorf("store: create canned response: %w", err)
	}
	c.WorkspaceID, c.ShortCode, c.CreatedAt = workspaceID, strings.TrimSpace(c.ShortCode), store.Now()
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO canned_responses (workspace_id, short_code, content, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, workspaceID, c.ShortCode, c.Content, micros(c.CreatedAt), micros(c.CreatedAt)).Scan(&c.ID)
		switch {
		case isUnique(err):
			return store.ErrConflict
		case isForeignKey(err):
			return store.ErrNotFound
		}
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
	rows, err := s.r.QueryContext(ctx, `SELECT id, short_code, content, created_at FROM canned_responses
		WHERE workspace_id = ? AND substr(short_code, 1, length(?2)) = ?2 ORDER BY short_code`, workspaceID, prefix)
	if err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	defer rows.Close()
	out := []store.CannedResponse{}
	for rows.Next() {
		c := store.CannedResponse{WorkspaceID: workspaceID}
		var created int64
		if err := rows.Scan(&c.ID, &c.ShortCode, &c.Content, &created); err != nil {
			return nil, fmt.Errorf("store: list canned responses: %w", err)
		}
		c.CreatedAt = fromMicros(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	return out, nil
}
