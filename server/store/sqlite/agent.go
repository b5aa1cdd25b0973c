package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const agentCols = `a.id, a.email, a.name, m.role, a.created_at`

func scanAgent(row interface{ Scan(...any) error }) (store.Agent, error) {
	var a store.Agent
	var created int64
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &created)
	a.CreatedAt = fromMicros(created)
	return a, err
}

// addAgent finds or creates the agent by email and makes them a member.
func addAgent(ctx context.Context, tx *sql.Tx, workspaceID int64, na store.NewAgent, now time.Time) (store.Agent, error) {
	email := strings.TrimSpace(na.Email)
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM agents WHERE lower(email) = lower(?)`, email).Scan(&id)
	if err == sql.ErrNoRows {
		err = tx.QueryRowContext(ctx, `INSERT INTO agents (email, name, created_at) VALUES (?, ?, ?) RETURNING id`,
			email, strings.TrimSpace(na.Name), micros(now)).Scan(&id)
	}
	if err != nil {
		return store.Agent{}, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO memberships (workspace_id, agent_id, role, created_at) VALUES (?, ?, ?, ?)`,
		workspaceID, id, na.Role, micros(now))
	if isUnique(err) {
		return store.Agent{}, store.ErrConflict
	}
	if err != nil {
		return store.Agent{}, err
	}
	return agentIn(ctx, tx, workspaceID, id)
}

func agentIn(ctx context.Context, q queryer, workspaceID, agentID int64) (store.Agent, error) {
	a, err := scanAgent(q.QueryRowContext(ctx, `SELECT `+agentCols+`
		FROM agents a JOIN memberships m ON m.agent_id = a.id
		WHERE m.workspace_id = ? AND a.id = ?`, workspaceID, agentID))
	return a, notFound(err)
}

// CreateAgent adds an agent to a workspace.
func (s *Store) CreateAgent(ctx context.Context, workspaceID int64, na store.NewAgent) (store.Agent, error) {
	if err := na.Validate(); err != nil {
		return store.Agent{}, fmt.Errorf("store: create agent: %w", err)
	}
	var a store.Agent
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = addAgent(ctx, tx, workspaceID, na, store.Now())
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("store: create agent: %w", err)
	}
	return a, nil
}

// Agent returns a member of the workspace.
func (s *Store) Agent(ctx context.Context, workspaceID, agentID int64) (store.Agent, error) {
	a, err := agentIn(ctx, s.r, workspaceID, agentID)
	if err != nil {
		return store.Agent{}, fmt.Errorf("store: agent %d: %w", agentID, err)
	}
	return a, nil
}

// ListAgents returns the workspace's members by name.
func (s *Store) ListAgents(ctx context.Context, workspaceID int64) ([]store.Agent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+agentCols+`
		FROM agents a JOIN memberships m ON m.agent_id = a.id
		WHERE m.workspace_id = ? ORDER BY a.name, a.id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	defer rows.Close()
	var out []store.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list agents: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list agents: %w", err)
	}
	return out, nil
}
