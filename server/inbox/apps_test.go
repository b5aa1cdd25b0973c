package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
)

func newApps(t *testing.T) (*Apps, store.Workspace) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.New(ctx, filepath.Join(t.TempDir(), "inbox.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ws, _, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@acme.test", OwnerName: "Owner"})
	if err != nil {
		t.Fatal(err)
	}
	static, err := hub.NewStaticApps(hub.App{ID: "static", Key: "static-key", Secret: "static-secret", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return &Apps{Static: static, Workspaces: st}, ws
}

func TestWorkspacesAreApps(t *testing.T) {
	apps, ws := newApps(t)
	ctx := context.Background()
	if ws.AppKey == "" || ws.AppSecret == "" || ws.AppID == "" {
		t.Fatalf("workspace without Pusher credentials: %+v", ws)
	}
	byKey, err := apps.AppByKey(ctx, ws.AppKey)
	if err != nil {
		t.Fatal(err)
	}
	byID, err := apps.AppByID(ctx, ws.AppID)
	if err != nil {
		t.Fatal(err)
	}
	for _, app := range []*hub.App{byKey, byID} {
		if app.ID != ws.AppID || app.Key != ws.AppKey || app.Secret != ws.AppSecret || !app.Enabled {
			t.Errorf("app %+v does not carry workspace %+v's credentials", app, ws)
		}
		if !app.ClientEvents || app.MaxEventBytes != hub.DefaultMaxEventBytes {
			t.Errorf("app %+v: want client events on and default limits", app)
		}
	}
	if app, err := apps.AppByKey(ctx, "static-key"); err != nil || app.ID != "static" {
		t.Errorf("static app: %+v, %v", app, err)
	}
	for _, lookup := range []func() (*hub.App, error){
		func() (*hub.App, error) { return apps.AppByKey(ctx, "nobody") },
		func() (*hub.App, error) { return apps.AppByID(ctx, "nobody") },
	} {
		if _, err := lookup(); !errors.Is(err, hub.ErrAppNotFound) {
			t.Errorf("unknown app: %v, want hub.ErrAppNotFound", err)
		}
	}
}

func TestWorkspaceAppSettings(t *testing.T) {
	ws := store.Workspace{ID: 7, AppID: "a", AppKey: "k", AppSecret: "s-long-secret", Enabled: true,
		Settings: json.RawMessage(`{"client_events":false,"max_connections":3,"key":"ignored"}`)}
	app, err := workspaceApp(ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	if app.ClientEvents || app.MaxConnections != 3 || app.Key != "k" {
		t.Errorf("app %+v: settings not applied, or credentials overridden by them", app)
	}
	ws.Settings = json.RawMessage(`{"max_connections":"many"}`)
	if _, err := workspaceApp(ws, nil); err == nil {
		t.Error("bad settings accepted")
	}
}

// TestHubServesWorkspaceApps connects a Pusher client with a workspace's key.
func TestHubServesWorkspaceApps(t *testing.T) {
	apps, ws := newApps(t)
	h, err := hub.New(hub.Options{Apps: apps})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Shutdown(context.Background())
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for key, want := range map[string]string{ws.AppKey: "pusher:connection_established", "nobody": `"code":4001`} {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/app/"+key+"?protocol=7", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, msg, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(msg), want) {
			t.Errorf("key %s: got %s, want %s", key, msg, want)
		}
		c.CloseNow()
	}
}
