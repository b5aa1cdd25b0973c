// Package inbox is the inbox domain between the HTTP API, the connectors
// and the store: it knows conversations and agents, and tells the hub
// about them. So far it serves each workspace as a Pusher app.
package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// WorkspaceFinder finds the workspace behind a Pusher app key or id.
type WorkspaceFinder interface {
	WorkspaceByAppKey(ctx context.Context, key string) (store.Workspace, error)
	WorkspaceByAppID(ctx context.Context, appID string) (store.Workspace, error)
}

// Apps is the hub's AppStore: the statically configured apps first, then
// every workspace of the store, each a Pusher app with its own key and
// secret.
type Apps struct {
	Static     *hub.StaticApps
	Workspaces WorkspaceFinder
}

// AppByKey implements hub.AppStore.
func (a *Apps) AppByKey(ctx context.Context, key string) (*hub.App, error) {
	app, err := a.Static.AppByKey(ctx, key)
	if !errors.Is(err, hub.ErrAppNotFound) {
		return app, err
	}
	return workspaceApp(a.Workspaces.WorkspaceByAppKey(ctx, key))
}

// AppByID implements hub.AppStore.
func (a *Apps) AppByID(ctx context.Context, id string) (*hub.App, error) {
	app, err := a.Static.AppByID(ctx, id)
	if !errors.Is(err, hub.ErrAppNotFound) {
		return app, err
	}
	return workspaceApp(a.Workspaces.WorkspaceByAppID(ctx, id))
}

// workspaceApp turns a workspace into its Pusher app. Settings hold the
// app's switches and limits in hub.App's JSON form; client events are on
// unless the settings say otherwise, since the inbox uses them for typing
// indicators.
func workspaceApp(ws store.Workspace, err error) (*hub.App, error) {
	if errors.Is(err, store.ErrNotFound) {
		return nil, hub.ErrAppNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("inbox: workspace app: %w", err)
	}
	app := hub.App{ClientEvents: true}
	if len(ws.Settings) > 0 {
		if err := json.Unmarshal(ws.Settings, &app); err != nil {
			return nil, fmt.Errorf("inbox: workspace %d: app settings: %w", ws.ID, err)
		}
	}
	app.ID, app.Key, app.Secret, app.Enabled = ws.AppID, ws.AppKey, ws.AppSecret, ws.Enabled
	app = app.WithDefaults()
	return &app, nil
}
