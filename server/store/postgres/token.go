package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// CreateAPIToken stores the hash of a new token for a member.
func (s *Store) CreateAPIToken(ctx context.Context, workspaceID int64, nt store.NewAPIToken) (store.APIToken, string, error) {
	if err := nt.Validate(); err != nil {
		return store.APIToken{}, "", fmt.Errorf("store: create api token: %w", err)
	}
	plaintext, hash, err := store.GenerateToken()
	if err != nil {
		return store.APIToken{}, "", err
	}
	t := store.APIToken{WorkspaceID: workspaceID, AgentID: nt.AgentID, Name: strings.TrimSpace(nt.Name), CreatedAt: store.Now()}
	err = s.tx(ctx, func(tx pgx.Tx) error {
		member, err := agentIn(ctx, tx, workspaceID, nt.AgentID)
		if err != nil {
			return err
		}
		t.Role = member.Role
		if nt.Role != "" {
			// A token never grants more than its agent has.
			t.Role = store.Weaker(nt.Role, member.Role)
		}
		return tx.QueryRow(ctx, `INSERT INTO api_tokens (workspace_id, agent_id, name, token_hash, role, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			workspaceID, nt.AgentID, t.Name, hash, t.Role, t.CreatedAt).Scan(&t.ID)
	})
	if err != nil {
		return store.APIToken{}, "", fmt.Errorf("store: create api token: %w", err)
	}
	return t, plaintext, nil
}

// AuthenticateToken resolves a plaintext token to who it acts as.
func (s *Store) AuthenticateToken(ctx context.Context, plaintext string) (store.Principal, error) {
	if !strings.HasPrefix(strings.TrimSpace(plaintext), store.TokenPrefix) {
		return store.Principal{}, fmt.Errorf("store: authenticate: %w", store.ErrUnauthenticated)
	}
	var (
		p         store.Principal
		tokenRole store.Role
	)
	err := s.pool.QueryRow(ctx, `SELECT t.id, t.role,
			w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.created_at,
			a.id, a.email, a.name, m.role, a.created_at
		FROM api_tokens t
		JOIN workspaces w ON w.id = t.workspace_id
		JOIN memberships m ON m.workspace_id = t.workspace_id AND m.agent_id = t.agent_id
		JOIN agents a ON a.id = t.agent_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL`, store.HashToken(plaintext)).Scan(
		&p.TokenID, &tokenRole,
		&p.Workspace.ID, &p.Workspace.Name, &p.Workspace.AppID, &p.Workspace.AppKey, &p.Workspace.AppSecret, &p.Workspace.Enabled, &p.Workspace.Settings, &p.Workspace.CreatedAt,
		&p.Agent.ID, &p.Agent.Email, &p.Agent.Name, &p.Agent.Role, &p.Agent.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Principal{}, fmt.Errorf("store: authenticate: %w", store.ErrUnauthenticated)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("store: authenticate: %w", err)
	}
	p.Workspace.CreatedAt, p.Agent.CreatedAt = p.Workspace.CreatedAt.UTC(), p.Agent.CreatedAt.UTC()
	p.Role = store.Weaker(tokenRole, p.Agent.Role)
	return p, nil
}

// RevokeAPIToken revokes a token of the workspace; revoking twice is fine.
func (s *Store) RevokeAPIToken(ctx context.Context, workspaceID, tokenID int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $1)
		WHERE workspace_id = $2 AND id = $3`, store.Now(), workspaceID, tokenID)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: revoke api token %d: %w", tokenID, err)
	}
	return nil
}
