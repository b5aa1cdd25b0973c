package api

// accessRevoked tells Options.OnAccessRevoked that agentID's access to
// the workspace was cut, after the change committed. It runs before the
// answer is written, so a client that sees the 204 knows the agent's
// connections are already being closed.
//
// Only connections that signed in (pusher:signin) as the agent are found:
// a Pusher user id is the agent id as a decimal string, and the hub finds
// connections by it. A connection that only subscribed to channels,
// without signing in, is not found and stays open, though every new
// subscription it asks /pusher/auth for is refused from now on. The inbox
// and the extension sign in for this reason.
func (h *handler) accessRevoked(workspaceID, agentID int64) {
	if h.onAccessRevoked != nil {
		h.onAccessRevoked(workspaceID, agentID)
	}
}
