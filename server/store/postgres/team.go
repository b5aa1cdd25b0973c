package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// CreateTeam creates a team.
func (s *Store) CreateTeam(ctx context.Context, workspaceID int64, nt store.NewTeam) (store.Team, error) {
	if err := nt.Validate(); err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	t := store.Team{WorkspaceID: workspaceID, Name: strings.TrimSpace(nt.Name), Description: strings.TrimSpace(nt.Description), CreatedAt: store.Now()}
	err := s.pool.QueryRow(ctx, `INSERT INTO teams (workspace_id, name, description, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		workspaceID, t.Name, t.Description, t.CreatedAt).Scan(&t.ID)
	switch {
	case isUnique(err):
		err = store.ErrConflict
	case isForeignKey(err):
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Team{}, fmt.Errorf("store: create team: %w", err)
	}
	return t, nil
}

// AddTeamMember adds a workspace member to a team.
func (s *Store) AddTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := checkTeam(ctx, tx, workspaceID, teamID); err != nil {
			return store.ErrNotFound
		}
		if err := checkMember(ctx, tx, workspaceID, agentID, "agent_id"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO team_members (workspace_id, team_id, agent_id) VALUES ($1, $2, $3)
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
	rows, err := s.pool.Query(ctx, `SELECT t.id, t.workspace_id, t.name, t.description, t.created_at,
			(SELECT array_agg(agent_id ORDER BY agent_id) FROM team_members WHERE team_id = t.id)
		FROM teams t WHERE t.workspace_id = $1 ORDER BY t.name`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list teams: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Team, error) {
		var t store.Team
		err := r.Scan(&t.ID, &t.WorkspaceID, &t.Name, &t.Description, &t.CreatedAt, &t.AgentIDs)
		t.CreatedAt = t.CreatedAt.UTC()
		return t, err
	})
	if err != nil {
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
	err := s.pool.QueryRow(ctx, `INSERT INTO canned_responses (workspace_id, short_code, content, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4) RETURNING id`, workspaceID, c.ShortCode, c.Content, c.CreatedAt).Scan(&c.ID)
	switch {
	case isUnique(err):
		err = store.ErrConflict
	case isForeignKey(err):
		err = store.ErrNotFound
	}
	if err != nil {
		return store.CannedResponse{}, fmt.Errorf("store: create canned response: %w", err)
	}
	return c, nil
}

// ListCannedResponses returns replies whose short code starts with prefix.
func (s *Store) ListCannedResponses(ctx context.Context, workspaceID int64, prefix string) ([]store.CannedResponse, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, workspace_id, short_code, content, created_at FROM canned_responses
		WHERE workspace_id = $1 AND left(short_code, length($2)) = $2 ORDER BY short_code`, workspaceID, prefix)
	if err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CannedResponse, error) {
		var c store.CannedResponse
		err := r.Scan(&c.ID, &c.WorkspaceID, &c.ShortCode, &c.Content, &c.CreatedAt)
		c.CreatedAt = c.CreatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list canned responses: %w", err)
	}
	return out, nil
}
