package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const tokenCols = `id, workspace_id, agent_id, name, role, created_at, revoked_at`

func scanToken(row pgx.Row) (store.APIToken, error) {
	var t store.APIToken
	err := row.Scan(&t.ID, &t.WorkspaceID, &t.AgentID, &t.Name, &t.Role, &t.CreatedAt, &t.RevokedAt)
	t.CreatedAt = t.CreatedAt.UTC()
	if t.RevokedAt != nil {
		r := t.RevokedAt.UTC()
		t.RevokedAt = &r
	}
	return t, err
}

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
		// A token never grants more than its agent has, nor more than
		// its creator has.
		if t.Role, err = nt.TokenRole(member.Role); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO api_tokens (workspace_id, agent_id, name, token_hash, role, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			workspaceID, nt.AgentID, t.Name, hash, t.Role, t.CreatedAt).Scan(&t.ID)
		if isForeignKey(err) {
			return store.ErrNotFound // the member was removed meanwhile
		}
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, workspaceID, store.TokenAudit(nt.By, store.AuditTokenCreated, t))
	})
	if err != nil {
		return store.APIToken{}, "", fmt.Errorf("store: create api token: %w", err)
	}
	return t, plaintext, nil
}

// APIToken returns a token of the workspace.
func (s *Store) APIToken(ctx context.Context, workspaceID, tokenID int64) (store.APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE workspace_id = $1 AND id = $2`, workspaceID, tokenID))
	if err != nil {
		return store.APIToken{}, fmt.Errorf("store: api token %d: %w", tokenID, notFound(err))
	}
	return t, nil
}

// ListAPITokens returns the workspace's unrevoked tokens, newest first.
func (s *Store) ListAPITokens(ctx context.Context, workspaceID, agentID int64) ([]store.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE workspace_id = $1 AND revoked_at IS NULL AND ($2::bigint = 0 OR agent_id = $2::bigint) ORDER BY id DESC`, workspaceID, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIToken, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	return out, nil
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
			w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.auto_join_domain, w.created_at,
			a.id, a.email, a.name, m.role, a.created_at
		FROM api_tokens t
		JOIN workspaces w ON w.id = t.workspace_id
		JOIN memberships m ON m.workspace_id = t.workspace_id AND m.agent_id = t.agent_id
		JOIN agents a ON a.id = t.agent_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL`, store.HashToken(plaintext)).Scan(
		&p.TokenID, &tokenRole,
		&p.Workspace.ID, &p.Workspace.Name, &p.Workspace.AppID, &p.Workspace.AppKey, &p.Workspace.AppSecret, &p.Workspace.Enabled, &p.Workspace.Settings, &p.Workspace.AutoJoinDomain, &p.Workspace.CreatedAt,
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

// RevokeAPIToken revokes a token of the workspace under its row lock;
// revoking twice is fine.
func (s *Store) RevokeAPIToken(ctx context.Context, workspaceID, tokenID int64, by store.Actor) (store.APIToken, error) {
	var t store.APIToken
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE workspace_id = $1 AND id = $2 FOR UPDATE`, workspaceID, tokenID))
		if err != nil {
			return notFound(err)
		}
		if t.RevokedAt != nil {
			return nil
		}
		if by.AgentID != t.AgentID {
			var owner store.Role
			if err := tx.QueryRow(ctx, `SELECT role FROM memberships WHERE workspace_id = $1 AND agent_id = $2`,
				workspaceID, t.AgentID).Scan(&owner); err != nil {
				return err
			}
			if !by.Permits(owner) {
				return store.ErrForbidden
			}
		}
		now := store.Now()
		if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $2 WHERE id = $1`, tokenID, now); err != nil {
			return err
		}
		t.RevokedAt = &now
		return recordAudit(ctx, tx, workspaceID, store.TokenAudit(by, store.AuditTokenRevoked, t))
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("store: revoke api token %d: %w", tokenID, err)
	}
	return t, nil
}
