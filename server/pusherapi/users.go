package pusherapi

import (
	"context"
	"fmt"
	"net/http"
)

// maxUserIDLen bounds a user id in the path, matching what Pusher's server
// libraries accept.
const maxUserIDLen = 200

// terminateConnections serves
// POST /apps/{app_id}/users/{user_id}/terminate_connections: the hub
// closes the connections signed in as the user. Unknown users are not an
// error, as on Pusher: there is simply nothing to close.
func (s *handler) terminateConnections(ctx context.Context, c *call) (any, error) {
	userID := c.r.PathValue("user_id")
	if userID == "" || len(userID) > maxUserIDLen {
		return nil, errorf(http.StatusBadRequest, "user id must be 1-%d bytes", maxUserIDLen)
	}
	if err := s.hub.TerminateUserConnections(ctx, c.app, userID); err != nil {
		return nil, fmt.Errorf("pusherapi: terminate connections of user %s: %w", userID, err)
	}
	return struct{}{}, nil
}
