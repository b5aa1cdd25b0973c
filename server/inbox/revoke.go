package inbox

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// revokeTimeout bounds one AccessRevoked: a workspace lookup and a
// publication to the broker.
const revokeTimeout = 5 * time.Second

// UserTerminator closes every connection signed in as a user of an app,
// on every replica; hub.Hub is one.
type UserTerminator interface {
	TerminateUserConnections(ctx context.Context, app *hub.App, userID string) error
}

// WorkspaceGetter reads a workspace by id.
type WorkspaceGetter interface {
	Workspace(ctx context.Context, id int64) (store.Workspace, error)
}

// AccessRevoker closes an agent's open websocket connections to its
// workspace's Pusher app when its access is cut (api.Options's
// OnAccessRevoked): they are closed with 4009, which tells pusher-js not
// to reconnect on its own.
//
// It finds connections by Pusher user id, the agent id as a decimal
// string, so only connections that signed in (pusher:signin) as the agent
// are closed. A connection that subscribed to channels without signing in
// is not found.
type AccessRevoker struct {
	Workspaces WorkspaceGetter
	Hub        UserTerminator
	Logger     *slog.Logger
}

// AccessRevoked closes agentID's connections to workspaceID's app. It
// reports failures to the log: the change it follows is committed and
// stands either way.
func (r *AccessRevoker) AccessRevoked(workspaceID, agentID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	err := r.terminate(ctx, workspaceID, agentID)
	if err != nil && r.Logger != nil {
		r.Logger.Error("inbox: closing a revoked agent's connections failed",
			slog.Int64("workspace", workspaceID), slog.Int64("agent", agentID), slog.Any("err", err))
	}
}

func (r *AccessRevoker) terminate(ctx context.Context, workspaceID, agentID int64) error {
	app, err := workspaceApp(r.Workspaces.Workspace(ctx, workspaceID))
	if err != nil {
		return err
	}
	return r.Hub.TerminateUserConnections(ctx, app, strconv.FormatInt(agentID, 10))
}
