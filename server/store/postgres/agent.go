package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const agentCols = `a.id, a.email, a.name, m.role, a.created_at`

func scanAgent(row pgx.Row) (store.Agent, error) {
	var a store.Agent
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// addAgent finds or creates the agent by email and makes them a member.
// The insert-or-select is one statement so two concurrent invitations of a
// new email cannot both create the agent.
func addAgent(ctx context.Context, tx pgx.Tx, workspaceID int64, na store.NewAgent, now time.Time) (store.Agent, error) {
	email := strings.TrimSpace(na.Email)
	var id int64
	err := tx.QueryRow(ctx, `WITH ins AS (
			INSERT INTO agents (email, name, created_at) VALUES ($1, $2, $3)
			ON CONFLICT ((lower(email))) DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL SELECT id FROM agents WHERE lower(email) = lower($1) LIMIT 1`,
		email, strings.TrimSpace(na.Name), now).Scan(&id)
	if err != nil {
		return store.Agent{}, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO memberships (workspace_id, agent_id, role, created_at) VALUES ($1, $2, $3, $4)`,
		workspaceID, id, na.Role, now)
	switch {
	case isUnique(err):
		return store.Agent{}, store.ErrConflict
	case isForeignKey(err):
		return store.Agent{}, store.ErrNotFound
	case err != nil:
		return store.Agent{}, err
	}
	return agentIn(ctx, tx, workspaceID, id)
}

func agentIn(ctx context.Context, q querier, workspaceID, agentID int64) (store.Agent, error) {
	a, err := scanAgent(q.QueryRow(ctx, `SELECT `+agentCols+`
		FROM agents a JOIN memberships m ON m.agent_id = a.id
		WHERE m.workspace_id = $1 AND a.id = $2`, workspaceID, agentID))
	return a, notFound(err)
}

// CreateAgent adds an agent to a workspace.
func (s *Store) CreateAgent(ctx context.Context, workspaceID int64, na store.NewAgent) (store.Agent, error) {
	if err := na.Validate(); err != nil {
		return store.Agent{}, fmt.Errorf("store: create agent: %w", err)
	}
	var a store.Agent
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = addAgent(ctx, tx, workspaceID, na, store.Now())
		return err
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("store: create agent: %w", err)
	}
	return a, nil
}

// Agent returns a member of the workspace.
func (s *Store) Agent(ctx context.Context, workspaceID, agentID int64) (store.Agent, error) {
	a, err := agentIn(ctx, s.pool, workspaceID, agentID)
	if err != nil {
		return store.Agent{}, fmt.Errorf("store: agent %d: %w", agentID, err)
	}
	return a, nil
}

// ListAgents returns the workspace's members by name.
func (s *Store) ListAgents(ctx context.Context, workspaceID int64) ([]store.Agent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+agentCols+`
		FROM agents a JOIN memberships m ON m.agent_id = a.id
		WHERE m.workspace_id = $1 ORDER BY a.name, a.id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Agent, error) { return scanAgent(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	return out, nil
}

// checkMember reports a validation error on field unless agentID (when
// set) is a member of the workspace. Checked explicitly rather than left
// to foreign keys so both stores answer alike.
func checkMember(ctx context.Context, q querier, workspaceID, agentID int64, field string) error {
	if agentID == 0 {
		return nil
	}
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM memberships WHERE workspace_id = $1 AND agent_id = $2)`,
		workspaceID, agentID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return store.Invalid(field, "agent %d is not a member of this workspace", agentID)
	}
	return nil
}

func checkTeam(ctx context.Context, q querier, workspaceID, teamID int64) error {
	if teamID == 0 {
		return nil
	}
	var ok bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE workspace_id = $1 AND id = $2)`,
		workspaceID, teamID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return store.Invalid("team_id", "no team %d in this workspace", teamID)
	}
	return nil
}
