package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// PusherUserAuthPath is the user-authentication endpoint pusher-js is
// pointed at (userAuthentication.endpoint) to sign its connection in with
// pusher:signin.
const PusherUserAuthPath = "/pusher/user-auth"

// NewPusherUserAuth returns POST /pusher/user-auth: for a token holder or
// a signed-in browser it signs the connection socket_id in as its agent,
// in the workspace's app, answering what pusher-js expects:
// {"auth": "<key>:<hex HMAC-SHA256 of socket_id::user::user_data>",
// "user_data": "{\"id\":\"<agent id>\",\"user_info\":{...}}"}. The
// connection then receives what is sent to #server-to-user-{agent id}.
func NewPusherUserAuth(st store.Store, opts Options) http.Handler {
	h := newHandler(st, opts)
	return h.authenticate(http.HandlerFunc(h.pusherUserAuth))
}

func (h *handler) pusherUserAuth(w http.ResponseWriter, r *http.Request) {
	socketID, ok := h.pusherForm(w, r, "socket_id")
	if !ok {
		return
	}
	p := principal(r)
	info, err := h.userInfo(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := json.Marshal(map[string]any{"id": strconv.FormatInt(p.Agent.ID, 10), "user_info": info})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	userData := string(data)
	writeJSON(w, http.StatusOK, map[string]string{
		"auth":      p.Workspace.AppKey + ":" + hub.Sign(p.Workspace.AppSecret, socketID+"::user::"+userData),
		"user_data": userData,
	})
}

// userInfo is how an agent appears to other members in presence channels
// and after pusher:signin: their name and their avatar URL ("" when they
// have none).
func (h *handler) userInfo(ctx context.Context, p store.Principal) (map[string]string, error) {
	acct, err := h.store.Account(ctx, p.Agent.ID)
	if err != nil {
		return nil, err
	}
	return map[string]string{"name": p.Agent.Name, "avatar_url": acct.AvatarURL}, nil
}
