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

const accountCols = `id, email, name, avatar_url, coalesce(google_sub, ''), session_epoch, created_at`

func scanAccount(row interface{ Scan(...any) error }) (store.Account, error) {
	var (
		a       store.Account
		created int64
	)
	err := row.Scan(&a.ID, &a.Email, &a.Name, &a.AvatarURL, &a.GoogleSub, &a.SessionEpoch, &created)
	a.CreatedAt = fromMicros(created)
	return a, err
}

// UpsertAccount finds or creates the agent who signed in, in one write
// transaction (writes are serialized, so the Google link check cannot
// race).
func (s *Store) UpsertAccount(ctx context.Context, na store.NewAccount) (store.Account, error) {
	if err := na.Validate(); err != nil {
		return store.Account{}, fmt.Errorf("store: upsert account: %w", err)
	}
	email, name, sub := strings.TrimSpace(na.Email), strings.TrimSpace(na.Name), strings.TrimSpace(na.GoogleSub)
	var a store.Account
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountCols+` FROM agents WHERE lower(email) = lower(?)`, email))
		if errors.Is(err, sql.ErrNoRows) {
			a, err = scanAccount(tx.QueryRowContext(ctx, `INSERT INTO agents (email, name, avatar_url, google_sub, created_at)
				VALUES (?, ?, ?, ?, ?) RETURNING `+accountCols,
				email, name, na.AvatarURL, nullString(sub), micros(store.Now())))
			return err
		}
		if err != nil {
			return err
		}
		if sub != "" && a.GoogleSub != "" && a.GoogleSub != sub {
			return store.ErrConflict
		}
		a, err = scanAccount(tx.QueryRowContext(ctx, `UPDATE agents SET
				name = CASE WHEN name = '' THEN ?1 ELSE name END,
				avatar_url = CASE WHEN ?2 <> '' THEN ?2 ELSE avatar_url END,
				google_sub = coalesce(google_sub, ?3)
			WHERE id = ?4 RETURNING `+accountCols, name, na.AvatarURL, nullString(sub), a.ID))
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
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM agents WHERE id = ?`, agentID))
	if err != nil {
		return store.Account{}, fmt.Errorf("store: account %d: %w", agentID, notFound(err))
	}
	return a, nil
}

// AccountWorkspaces lists the agent's workspaces, oldest membership first.
func (s *Store) AccountWorkspaces(ctx context.Context, agentID int64) ([]store.AccountWorkspace, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.created_at,
			m.role, w.required_domain
		FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.agent_id = ? ORDER BY m.created_at, w.id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: account workspaces: %w", err)
	}
	defer rows.Close()
	var out []store.AccountWorkspace
	for rows.Next() {
		var (
			aw       store.AccountWorkspace
			settings string
			created  int64
		)
		w := &aw.Workspace
		if err := rows.Scan(&w.ID, &w.Name, &w.AppID, &w.AppKey, &w.AppSecret, &w.Enabled, &settings, &created, &aw.Role, &aw.RequiredDomain); err != nil {
			return nil, fmt.Errorf("store: account workspaces: %w", err)
		}
		w.Settings, w.CreatedAt = json.RawMessage(settings), fromMicros(created)
		out = append(out, aw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: account workspaces: %w", err)
	}
	return out, nil
}

// SessionPrincipal resolves a session to its principal in one query.
func (s *Store) SessionPrincipal(ctx context.Context, ref store.SessionRef) (store.Principal, error) {
	var (
		p          store.Principal
		wsSettings string
		wsCreated  int64
		agCreated  int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT
			w.id, w.name, w.app_id, w.app_key, w.app_secret, w.enabled, w.settings, w.created_at,
			a.id, a.email, a.name, m.role, a.created_at
		FROM agents a
		JOIN memberships m ON m.agent_id = a.id
		JOIN workspaces w ON w.id = m.workspace_id
		WHERE a.id = ? AND m.workspace_id = ? AND a.session_epoch = ?
			AND (w.required_domain = '' OR w.required_domain = lower(?))`,
		ref.AgentID, ref.WorkspaceID, ref.Epoch, ref.HostedDomain).Scan(
		&p.Workspace.ID, &p.Workspace.Name, &p.Workspace.AppID, &p.Workspace.AppKey, &p.Workspace.AppSecret, &p.Workspace.Enabled, &wsSettings, &wsCreated,
		&p.Agent.ID, &p.Agent.Email, &p.Agent.Name, &p.Agent.Role, &agCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Principal{}, fmt.Errorf("store: session principal: %w", store.ErrUnauthenticated)
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("store: session principal: %w", err)
	}
	p.Workspace.CreatedAt = fromMicros(wsCreated)
	p.Workspace.Settings = json.RawMessage(wsSettings)
	p.Agent.CreatedAt = fromMicros(agCreated)
	p.Role = p.Agent.Role
	return p, nil
}

// RevokeSessions bumps the agent's session epoch.
func (s *Store) RevokeSessions(ctx context.Context, agentID int64) (int64, error) {
	var epoch int64
	err := s.w.QueryRowContext(ctx, `UPDATE agents SET session_epoch = session_epoch + 1 WHERE id = ? RETURNING session_epoch`, agentID).Scan(&epoch)
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
	res, err := s.w.ExecContext(ctx, `UPDATE workspaces SET required_domain = ? WHERE id = ?`, d, workspaceID)
	if err == nil {
		if n, rerr := res.RowsAffected(); rerr != nil || n == 0 {
			err = errors.Join(rerr, store.ErrNotFound)
		}
	}
	if err != nil {
		return fmt.Errorf("store: set required domain of workspace %d: %w", workspaceID, err)
	}
	return nil
}
