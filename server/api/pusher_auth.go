package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// PusherAuthPath is the channel-authorization endpoint pusher-js is
// pointed at (channelAuthorization.endpoint).
const PusherAuthPath = "/pusher/auth"

// maxPusherAuthBody bounds the form pusher-js posts (socket_id and
// channel_name).
const maxPusherAuthBody = 4 << 10

var socketIDRe = regexp.MustCompile(`^\d+\.\d+$`)

// NewPusherAuth returns POST /pusher/auth for API token holders: it signs
// a subscription to one of the inbox's channels of the token's workspace,
// in the reply pusher-js expects: {"auth"} or, for presence channels,
// {"auth", "channel_data"}. It signs only
//   - private-workspace-{id}: the token's own workspace;
//   - private-agent-{id}: the token's own agent;
//   - presence-conversation-{id}: a conversation of the token's workspace,
//     as a member whose user_id is the agent's id and user_info its name
//     and avatar_url (see userInfo).
//
// Anything else is 403.
func NewPusherAuth(st store.Store, opts Options) http.Handler {
	h := newHandler(st, opts)
	return h.authenticate(http.HandlerFunc(h.pusherAuth))
}

// pusherForm reads the form pusher-js posts to an authorization endpoint
// (POST only, bounded) and its socket_id. On failure it has answered, and
// ok is false; fields names what the form must hold, for the error.
func (h *handler) pusherForm(w http.ResponseWriter, r *http.Request, fields string) (socketID string, ok bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here", "")
		return "", false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPusherAuthBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", "the form is too large", "")
			return "", false
		}
		h.fail(w, r, invalid("", "the body must be a form with "+fields))
		return "", false
	}
	socketID = r.PostForm.Get("socket_id")
	if !socketIDRe.MatchString(socketID) {
		h.fail(w, r, invalid("socket_id", "must look like 123.456"))
		return "", false
	}
	return socketID, true
}

func (h *handler) pusherAuth(w http.ResponseWriter, r *http.Request) {
	socketID, ok := h.pusherForm(w, r, "socket_id and channel_name")
	if !ok {
		return
	}
	channel := r.PostForm.Get("channel_name")
	if channel == "" {
		h.fail(w, r, invalid("channel_name", "is required"))
		return
	}
	p := principal(r)
	forbidden := func() {
		writeError(w, http.StatusForbidden, "forbidden", "this token may not subscribe to "+channel, "channel_name")
	}
	reply := map[string]string{}
	switch {
	case idSuffix(channel, "private-workspace-") == p.Workspace.ID:
	case idSuffix(channel, "private-agent-") == p.Agent.ID:
	case idSuffix(channel, "presence-conversation-") > 0:
		if _, err := h.store.Conversation(r.Context(), p.Workspace.ID, idSuffix(channel, "presence-conversation-")); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				forbidden()
				return
			}
			h.fail(w, r, err)
			return
		}
		info, err := h.userInfo(r.Context(), p)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		data, err := json.Marshal(map[string]any{"user_id": strconv.FormatInt(p.Agent.ID, 10), "user_info": info})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		reply["channel_data"] = string(data)
	default:
		forbidden()
		return
	}
	toSign := socketID + ":" + channel
	if cd, ok := reply["channel_data"]; ok {
		toSign += ":" + cd
	}
	reply["auth"] = p.Workspace.AppKey + ":" + hub.Sign(p.Workspace.AppSecret, toSign)
	writeJSON(w, http.StatusOK, reply)
}

// idSuffix returns the positive id after prefix in channel, or -1.
func idSuffix(channel, prefix string) int64 {
	rest, ok := strings.CutPrefix(channel, prefix)
	if !ok {
		return -1
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != rest {
		return -1
	}
	return id
}
