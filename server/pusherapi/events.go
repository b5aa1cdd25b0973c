package pusherapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/hub"
)

// triggerRequest is the body of POST /apps/{app_id}/events.
type triggerRequest struct {
	Name     string   `json:"name"`
	Data     *string  `json:"data"` // a pointer so a missing data is told from ""
	Channels []string `json:"channels"`
	Channel  string   `json:"channel"`
	SocketID string   `json:"socket_id"`
	Info     string   `json:"info"`
}

// triggerReply answers a trigger that asked for info.
type triggerReply struct {
	Channels map[string]channelCounts `json:"channels"`
}

// channelCounts is one channel's requested attributes. Pointers keep a
// requested zero in the reply while leaving out what was not asked for.
type channelCounts struct {
	UserCount         *int `json:"user_count,omitempty"`
	SubscriptionCount *int `json:"subscription_count,omitempty"`
}

// triggerEvent serves POST /apps/{app_id}/events.
func (s *handler) triggerEvent(ctx context.Context, c *call) (any, error) {
	var req triggerRequest
	if err := decodeBody(c.body, &req); err != nil {
		return nil, err
	}
	channels, err := eventChannels(req.Channels, req.Channel)
	if err != nil {
		return nil, err
	}
	if err := checkEvent(c.app, req.Name, req.Data, req.SocketID); err != nil {
		return nil, err
	}
	info, err := parseInfo(req.Info, infoUserCount, infoSubscriptionCount)
	if err != nil {
		return nil, err
	}
	ev := hub.Event{Name: req.Name, Channels: channels, Data: *req.Data, SocketID: req.SocketID}
	if err := s.hub.Publish(ctx, c.app, ev); err != nil {
		return nil, fmt.Errorf("pusherapi: publish: %w", err)
	}
	if len(info) == 0 {
		return struct{}{}, nil
	}
	reply := triggerReply{Channels: make(map[string]channelCounts, len(channels))}
	for _, ch := range channels {
		counts, err := s.counts(ctx, c.app, ch, info)
		if err != nil {
			return nil, err
		}
		reply.Channels[ch] = counts
	}
	return reply, nil
}

// batchRequest is the body of POST /apps/{app_id}/batch_events.
type batchRequest struct {
	Batch []batchItem `json:"batch"`
}

// batchItem is one event of a batch: a single channel each.
type batchItem struct {
	Channel  string  `json:"channel"`
	Name     string  `json:"name"`
	Data     *string `json:"data"`
	SocketID string  `json:"socket_id"`
	Info     string  `json:"info"`
}

// batchReply answers a batch in which some event asked for info: one entry
// per event, in order, empty for events that asked for nothing. This is the
// shape pusher-http-go's TriggerBatchChannelsList decodes.
type batchReply struct {
	Batch []channelCounts `json:"batch"`
}

// triggerBatch serves POST /apps/{app_id}/batch_events. Every event is
// checked before any is published, so a bad event refuses the whole batch
// rather than leaving it half delivered.
func (s *handler) triggerBatch(ctx context.Context, c *call) (any, error) {
	var req batchRequest
	if err := decodeBody(c.body, &req); err != nil {
		return nil, err
	}
	if n := len(req.Batch); n == 0 || n > hub.DefaultMaxBatchEvents {
		return nil, errorf(http.StatusBadRequest, "batch must hold 1-%d events, got %d", hub.DefaultMaxBatchEvents, n)
	}
	infos := make([]map[string]bool, len(req.Batch))
	anyInfo := false
	for i, it := range req.Batch {
		err := checkChannel(it.Channel)
		if err == nil {
			err = checkEvent(c.app, it.Name, it.Data, it.SocketID)
		}
		if err == nil {
			infos[i], err = parseInfo(it.Info, infoUserCount, infoSubscriptionCount)
		}
		if err != nil {
			return nil, prefixError(fmt.Sprintf("batch[%d]", i), err)
		}
		anyInfo = anyInfo || len(infos[i]) > 0
	}
	for i, it := range req.Batch {
		ev := hub.Event{Name: it.Name, Channels: []string{it.Channel}, Data: *it.Data, SocketID: it.SocketID}
		if err := s.hub.Publish(ctx, c.app, ev); err != nil {
			return nil, fmt.Errorf("pusherapi: publish batch[%d]: %w", i, err)
		}
	}
	if !anyInfo {
		return struct{}{}, nil
	}
	reply := batchReply{Batch: make([]channelCounts, len(req.Batch))}
	for i, it := range req.Batch {
		if len(infos[i]) == 0 {
			continue
		}
		counts, err := s.counts(ctx, c.app, it.Channel, infos[i])
		if err != nil {
			return nil, err
		}
		reply.Batch[i] = counts
	}
	return reply, nil
}

// counts fetches the attributes info asks for about one channel.
// user_count exists only for presence channels and is left out elsewhere,
// as Pusher does for triggers.
func (s *handler) counts(ctx context.Context, app *hub.App, channel string, info map[string]bool) (channelCounts, error) {
	ci, err := s.hub.Channel(ctx, app, channel)
	if err != nil {
		return channelCounts{}, fmt.Errorf("pusherapi: channel %s: %w", channel, err)
	}
	return countsOf(channel, ci, info), nil
}

// countsOf picks the attributes info asks for out of ci, the state of the
// named channel.
func countsOf(channel string, ci hub.ChannelInfo, info map[string]bool) channelCounts {
	var out channelCounts
	if info[infoSubscriptionCount] {
		out.SubscriptionCount = &ci.SubscriptionCount
	}
	if info[infoUserCount] && hub.IsPresenceChannel(channel) {
		out.UserCount = &ci.UserCount
	}
	return out
}

// decodeBody parses a JSON request body into v. Pusher refuses bodies that
// are not UTF-8 rather than deliver mangled text, and so do we.
func decodeBody(body []byte, v any) error {
	if !utf8.Valid(body) {
		return errorf(http.StatusBadRequest, "request body is not valid UTF-8")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(http.StatusBadRequest, "malformed JSON body: %v", err)
	}
	return nil
}

// eventChannels returns the channels of a trigger, given as either a list or
// a single name but not both, deduplicated in order so no subscriber gets an
// event twice from one request.
func eventChannels(list []string, single string) ([]string, error) {
	switch {
	case list != nil && single != "":
		return nil, errorf(http.StatusBadRequest, "give channels or channel, not both")
	case single != "":
		list = []string{single}
	case len(list) == 0:
		return nil, errorf(http.StatusBadRequest, "missing channels")
	case len(list) > hub.DefaultMaxEventChannels:
		return nil, errorf(http.StatusBadRequest, "at most %d channels per event, got %d", hub.DefaultMaxEventChannels, len(list))
	}
	out := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, ch := range list {
		if err := checkChannel(ch); err != nil {
			return nil, err
		}
		if !seen[ch] {
			seen[ch] = true
			out = append(out, ch)
		}
	}
	return out, nil
}

// checkEvent validates what every triggered event carries besides its
// channels.
func checkEvent(app *hub.App, name string, data *string, socketID string) error {
	switch {
	case name == "":
		return errorf(http.StatusBadRequest, "missing event name")
	case len(name) > hub.MaxEventNameLen:
		return errorf(http.StatusBadRequest, "event name longer than %d characters", hub.MaxEventNameLen)
	case strings.HasPrefix(name, "pusher:") || strings.HasPrefix(name, "pusher_internal:"):
		// These prefixes are the protocol's own; an API event with one
		// would be taken by client libraries as a protocol message.
		return errorf(http.StatusBadRequest, "event name %q uses a reserved prefix", clip(name))
	case data == nil:
		return errorf(http.StatusBadRequest, "missing event data")
	case socketID != "" && !validSocketID(socketID):
		return errorf(http.StatusBadRequest, "invalid socket_id %q", clip(socketID))
	}
	if limit := maxEventBytes(app); len(*data) > limit {
		return errorf(http.StatusRequestEntityTooLarge, "event data is %d bytes, limit is %d", len(*data), limit)
	}
	return nil
}

// maxEventBytes is the app's data limit, defaulted for stores that hand out
// apps without WithDefaults applied.
func maxEventBytes(app *hub.App) int {
	if app.MaxEventBytes > 0 {
		return app.MaxEventBytes
	}
	return hub.DefaultMaxEventBytes
}

// checkChannel validates a channel name with the hub's rules, as a 400.
func checkChannel(name string) error {
	if err := hub.ValidateChannelName(name); err != nil {
		return errorf(http.StatusBadRequest, "channel %q: %v", clip(name), err)
	}
	return nil
}

// validSocketID reports whether s has the form \d+\.\d+.
func validSocketID(s string) bool {
	a, b, ok := strings.Cut(s, ".")
	return ok && allDigits(a) && allDigits(b)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// prefixError puts where into a refusal's message, keeping its status.
func prefixError(where string, err error) error {
	if ae, ok := err.(*apiError); ok {
		return &apiError{status: ae.status, msg: where + ": " + ae.msg}
	}
	return fmt.Errorf("%s: %w", where, err)
}

// clip shortens caller-supplied text quoted in an error message, so a
// megabyte of junk is not echoed back.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
