package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/store"
)

const workspaceCols = `id, name, app_id, app_key, app_secret, enabled, settings, auto_join_domain, created_at`

func scanWorkspace(row interface{ Scan(...any) error }) (store.Workspace, error) {
	var (
		w        store.Workspace
		settings string
		created  int64
	)
	err := row.Scan(&w.ID, &w.Name, &w.AppID, &w.AppKey, &w.AppSecret, &w.Enabled, &settings, &w.AutoJoinDomain, &created)
	w.Settings = json.RawMessage(settings)
	w.CreatedAt = fromMicros(created)
	return w, err
}

// CreateWorkspace creates a workspace, its Pusher credentials and its
// owner in one transaction.
func (s *Store) CreateWorkspace(ctx context.Context, nw store.NewWorkspace) (store.Workspace, store.Agent, error) {
	if err := nw.Validate(); err != nil {
		return store.Workspace{}, store.Agent{}, fmt.Errorf("store: create workspace: %w", err)
	}
	appID, key, secret, err := store.NewAppCredentials()
	if err != nil {
		return store.Workspace{}, store.Agent{}, err
	}
	var (
		w     store.Workspace
		owner store.Agent
	)
	err = s.write(ctx, func(tx *sql.Tx) error {
		now := store.Now()
		w, err = scanWorkspace(tx.QueryRowContext(ctx,
			`INSERT INTO workspaces (name, app_id, app_key, app_secret, created_at)
			 VALUES (?, ?, ?, ?, ?) RETURNING `+workspaceCols,
			strings.TrimSpace(nw.Name), appID, key, secret, micros(now)))
		if err != nil {
			return err
		}
		owner, err = addAgent(ctx, tx, w.ID, store.NewAgent{Email: nw.OwnerEmail, Name: nw.OwnerName, Role: store.RoleOwner}, now)
		return err
	})
	if err != nil {
		return store.Workspace{}, store.Agent{}, fmt.Errorf("store: create workspace: %w", err)
	}
	return w, owner, nil
}

// Workspace returns the workspace with id.
func (s *Store) Workspace(ctx context.Context, id int64) (store.Workspace, error) {
	w, err := scanWorkspace(s.r.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, id))
	if err != nil {
		return store.Workspace{}, fmt.Errorf("store: workspace %d: %w", id, notFound(err))
	}
	return w, nil
}

// WorkspaceByAppKey returns the workspace whose Pusher app key is key.
func (s *Store) WorkspaceByAppKey(ctx context.Context, key string) (store.Workspace, error) {
	w, err := scanWorkspace(s.r.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE app_key = ?`, key))
	if err != nil {
		return store.Workspace{}, fmt.Errorf("store: workspace by app key: %w", notFound(err))
	}
	return w, nil
}

// WorkspaceByAppID returns the workspace whose Pusher app id is appID.
func (s *Store) WorkspaceByAppID(ctx context.Context, appID string) (store.Workspace, error) {
	w, err := scanWorkspace(s.r.QueryRowContext(ctx, `SELECT `+workspaceCols+` FROM workspaces WHERE app_id = ?`, appID))
	if err != nil {
		return store.Workspace{}, fmt.Errorf("store: workspace by app id: %w", notFound(err))
	}
	return w, nil
}
