package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const tokenCols = `id, workspace_id, agent_id, name, role, created_at, revoked_at`

func scanToken(row interface{ Scan(...any) error }) (store.APIToken, error) {
	var (
		t       store.APIToken
		created int64
		revoked sql.NullInt64
	)
	err := row.Scan(&t.ID, &t.WorkspaceID, &t.AgentID, &t.Name, &t.Role, &created, &revoked)
	t.CreatedAt, t.RevokedAt = fromMicros(created), fromNullMicros(revoked)
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
	err = s.write(ctx, func(tx *sql.Tx) error {
		member, err := agentIn(ctx, tx, workspaceID, nt.AgentID)
		if err != nil {
			return err
		}
		// A token never grants more than its agent has, nor more than
		// its creator has.
		if t.Role, err = nt.TokenRole(member.Role); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (workspace_id, agent_id, name, token_hash, role, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			workspaceID, nt.AgentID, t.Name, hash, t.Role, micros(t.CreatedAt)).Scan(&t.ID); err != nil {
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
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE workspace_id = ? AND id = ?`, workspaceID, tokenID))
	if err != nil {
		return store.APIToken{}, fmt.Errorf("store: api token %d: %w", tokenID, notFound(err))
	}
	return t, nil
}

// ListAPITokens returns the workspace's unrevoked tokens, newest first.
func (s *Store) ListAPITokens(ctx context.Context, workspaceID, agentID int64) ([]store.APIToken, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE workspace_id = ?1 AND revoked_at IS NULL AND (?2 = 0 OR agent_id = ?2) ORDER BY id DESC`, workspaceID, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	defer rows.Close()
	var out []store.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
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
		p          store.Principal
		tokenRole  store.Role
		wsSettings string
		wsCreated  int64
		agCreated  int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT t.id, t.role,
			w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.auto_join_domain, w.created_at,
			a.id, a.email, a.name, m.role, a.created_at
		FROM api_tokens t
		JOIN workspaces w ON w.id = t.workspace_id
		JOIN memberships m ON m.workspace_id = t.workspace_id AND m.agent_id = t.agent_id
		JOIN agents a ON a.id = t.agent_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`, store.HashToken(plaintext)).Scan(
		&p.TokenID, &tokenRole,
		&p.Workspace.ID, &p.Workspace.Name, &p.Workspace.AppID, &p.Workspace.AppKey, &p.Workspace.AppSecret, &p.Workspace.Enabled, &wsSettings, &p.Workspace.AutoJoinDomain, &wsCreated,
		&p.Agent.ID, &p.Agent.Email, &p.Agent.Name, &p.Agent.Role, &agCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Principal{}, fmt.Errorf("store: authenticate: %w", store.ErrUnauthenticated)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("store: authenticate: %w", err)
	}
	p.Workspace.CreatedAt = fromMicros(wsCreated)
	p.Workspace.Settings = json.RawMessage(wsSettings)
	p.Agent.CreatedAt = fromMicros(agCreated)
	p.Role = store.Weaker(tokenRole, p.Agent.Role)
	return p, nil
}

// RevokeAPIToken revokes a token of the workspace; revoking twice is
// fine.
func (s *Store) RevokeAPIToken(ctx context.Context, workspaceID, tokenID int64, by store.Actor) (store.APIToken, error) {
	var t store.APIToken
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE workspace_id = ? AND id = ?`, workspaceID, tokenID))
		if err != nil {
			return notFound(err)
		}
		if t.RevokedAt != nil {
			return nil
		}
		if by.AgentID != t.AgentID {
			var owner store.Role
			if err := tx.QueryRowContext(ctx, `SELECT role FROM memberships WHERE workspace_id = ? AND agent_id = ?`,
				workspaceID, t.AgentID).Scan(&owner); err != nil {
				return err
			}
			if !by.Permits(owner) {
				return store.ErrForbidden
			}
		}
		now := store.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, micros(now), tokenID); err != nil {
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
