package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const accountCols = `id, email, name, avatar_url, coalesce(google_sub, ''), session_epoch, created_at`

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.AvatarURL, &a.GoogleSub, &a.SessionEpoch, &a.CreatedAt)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// UpsertAccount finds or creates the agent who signed in. The agent's row
// is locked while the Google link is checked, so two sign-ins of one
// email cannot link two Google accounts.
func (s *Store) UpsertAccount(ctx context.Context, na store.NewAccount) (store.Account, error) {
	if err := na.Validate(); err != nil {
		return store.Account{}, fmt.Errorf("store: upsert account: %w", err)
	}
	email, name, sub := strings.TrimSpace(na.Email), strings.TrimSpace(na.Name), strings.TrimSpace(na.GoogleSub)
	var a store.Account
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRow(ctx, `INSERT INTO agents (email, name, avatar_url, google_sub, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT ((lower(email))) DO NOTHING RETURNING `+accountCols,
			email, name, na.AvatarURL, nullString(sub), store.Now()))
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// The email is known: a new statement sees the committed row,
		// even one a concurrent sign-in just inserted.
		a, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM agents WHERE lower(email) = lower($1) FOR UPDATE`, email))
		if err != nil {
			return err
		}
		if sub != "" && a.GoogleSub != "" && a.GoogleSub != sub {
			return store.ErrConflict
		}
		a, err = scanAccount(tx.QueryRow(ctx, `UPDATE agents SET
				name = CASE WHEN name = '' THEN $2 ELSE name END,
				avatar_url = CASE WHEN $3 <> '' THEN $3 ELSE avatar_url END,
				google_sub = coalesce(google_sub, $4)
			WHERE id = $1 RETURNING `+accountCols, a.ID, name, na.AvatarURL, nullString(sub)))
		return err
	})
	if isUnique(err) {
		// The Google account is linked to an agent of another email.
		err = store.ErrConflict
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("store: upsert account: %w", err)
	}
	return a, nil
}

// Account returns the agent with id as a person.
func (s *Store) Account(ctx context.Context, agentID int64) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM agents WHERE id = $1`, agentID))
	if err != nil {
		return store.Account{}, fmt.Errorf("store: account %d: %w", agentID, notFound(err))
	}
	return a, nil
}

// AccountWorkspaces lists the agent's workspaces, oldest membership first.
func (s *Store) AccountWorkspaces(ctx context.Context, agentID int64) ([]store.AccountWorkspace, error) {
	rows, err := s.pool.Query(ctx, `SELECT w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.created_at,
			m.role, w.required_domain
		FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.agent_id = $1 ORDER BY m.created_at, w.id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: account workspaces: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AccountWorkspace, error) {
		var aw store.AccountWorkspace
		w := &aw.Workspace
		err := r.Scan(&w.ID, &w.Name, &w.AppID, &w.AppKey, &w.AppSecret, &w.Enabled, &w.Settings, &w.CreatedAt, &aw.Role, &aw.RequiredDomain)
		w.CreatedAt = w.CreatedAt.UTC()
		return aw, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: account workspaces: %w", err)
	}
	return out, nil
}

// SessionPrincipal resolves a session to its principal in one query.
func (s *Store) SessionPrincipal(ctx context.Context, ref store.SessionRef) (store.Principal, error) {
	var p store.Principal
	err := s.pool.QueryRow(ctx, `SELECT
			w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.created_at,
			a.id, a.email, a.name, m.role, a.created_at
		FROM agents a
		JOIN memberships m ON m.agent_id = a.id
		JOIN workspaces w ON w.id = m.workspace_id
		WHERE a.id = $1 AND m.workspace_id = $2 AND a.session_epoch = $3
			AND (w.required_domain = '' OR w.required_domain = lower($4))`,
		ref.AgentID, ref.WorkspaceID, ref.Epoch, ref.HostedDomain).Scan(
		&p.Workspace.ID, &p.Workspace.Name, &p.Workspace.AppID, &p.Workspace.AppKey, &p.Workspace.AppSecret, &p.Workspace.Enabled, &p.Workspace.Settings, &p.Workspace.CreatedAt,
		&p.Agent.ID, &p.Agent.Email, &p.Agent.Name, &p.Agent.Role, &p.Agent.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Principal{}, fmt.Errorf("store: session principal: %w", store.ErrUnauthenticated)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("store: session principal: %w", err)
	}
	p.Workspace.CreatedAt, p.Agent.CreatedAt = p.Workspace.CreatedAt.UTC(), p.Agent.CreatedAt.UTC()
	p.Role = p.Agent.Role
	return p, nil
}

// RevokeSessions bumps the agent's session epoch.
func (s *Store) RevokeSessions(ctx context.Context, agentID int64) (int64, error) {
	var epoch int64
	err := s.pool.QueryRow(ctx, `UPDATE agents SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch`, agentID).Scan(&epoch)
	if err != nil {
		return 0, fmt.Errorf("store: revoke sessions of agent %d: %w", agentID, notFound(err))
	}
	return epoch, nil
}

// SetRequiredDomain sets or clears the workspace's required Google domain.
func (s *Store) SetRequiredDomain(ctx context.Context, workspaceID int64, domain string) error {
	d, err := store.NormalizeDomain("required_domain", domain)
	if err != nil {
		return fmt.Errorf("store: set required domain: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE workspaces SET required_domain = $2 WHERE id = $1`, workspaceID, d)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: set required domain of workspace %d: %w", workspaceID, err)
	}
	return nil
}
