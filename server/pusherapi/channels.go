package pusherapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/hub"
)

// channelsReply answers GET /apps/{app_id}/channels.
type channelsReply struct {
	Channels map[string]channelCounts `json:"channels"`
}

// listChannels serves GET /apps/{app_id}/channels: the occupied channels,
// optionally filtered by prefix.
func (s *handler) listChannels(ctx context.Context, c *call) (any, error) {
	prefix := c.query["filter_by_prefix"]
	info, err := parseInfo(c.query["info"], infoUserCount, infoSubscriptionCount)
	if err != nil {
		return nil, err
	}
	// Pusher only counts users when every listed channel is a presence
	// channel, which the prefix must guarantee.
	if info[infoUserCount] && !strings.HasPrefix(prefix, "presence-") {
		return nil, errorf(http.StatusBadRequest, "info=user_count needs filter_by_prefix=presence-")
	}
	list, err := s.hub.Channels(ctx, c.app, prefix)
	if err != nil {
		return nil, fmt.Errorf("pusherapi: list channels: %w", err)
	}
	reply := channelsReply{Channels: make(map[string]channelCounts, len(list))}
	for _, ci := range list {
		reply.Channels[ci.Name] = countsOf(ci.Name, ci, info)
	}
	return reply, nil
}

// channelReply answers GET /apps/{app_id}/channels/{channel_name}.
type channelReply struct {
	Occupied          bool        `json:"occupied"`
	UserCount         *int        `json:"user_count,omitempty"`
	SubscriptionCount *int        `json:"subscription_count,omitempty"`
	Cache             *cacheReply `json:"cache,omitempty"`
}

// cacheReply is a cache channel's last event as info=cache reports it.
type cacheReply struct {
	Data string `json:"data"`
	TTL  int64  `json:"ttl"` // seconds left
}

// channelInfo serves GET /apps/{app_id}/channels/{channel_name}.
func (s *handler) channelInfo(ctx context.Context, c *call) (any, error) {
	name := c.r.PathValue("channel_name")
	if err := checkChannel(name); err != nil {
		return nil, err
	}
	info, err := parseInfo(c.query["info"], infoUserCount, infoSubscriptionCount, infoCache)
	if err != nil {
		return nil, err
	}
	if info[infoUserCount] && !hub.IsPresenceChannel(name) {
		return nil, errorf(http.StatusBadRequest, "info=user_count is only for presence channels")
	}
	ci, err := s.hub.Channel(ctx, c.app, name)
	if err != nil {
		return nil, fmt.Errorf("pusherapi: channel %s: %w", name, err)
	}
	counts := countsOf(name, ci, info)
	reply := channelReply{Occupied: ci.Occupied, UserCount: counts.UserCount, SubscriptionCount: counts.SubscriptionCount}
	if info[infoCache] && ci.Cache != nil {
		// Round up so an entry with half a second left is not reported as
		// already expired.
		ttl := int64(math.Ceil(ci.Cache.TTL.Seconds()))
		reply.Cache = &cacheReply{Data: ci.Cache.Data, TTL: ttl}
	}
	return reply, nil
}

// usersReply answers GET /apps/{app_id}/channels/{channel_name}/users.
type usersReply struct {
	Users []userReply `json:"users"`
}

// userReply is one presence member.
type userReply struct {
	ID string `json:"id"`
}

// channelUsers serves GET /apps/{app_id}/channels/{channel_name}/users.
func (s *handler) channelUsers(ctx context.Context, c *call) (any, error) {
	name := c.r.PathValue("channel_name")
	if err := checkChannel(name); err != nil {
		return nil, err
	}
	if !hub.IsPresenceChannel(name) {
		return nil, errorf(http.StatusBadRequest, "users are only listed for presence channels")
	}
	ids, err := s.hub.PresenceUsers(ctx, c.app, name)
	if err != nil {
		return nil, fmt.Errorf("pusherapi: presence users of %s: %w", name, err)
	}
	// Never null: Pusher's libraries expect a list.
	reply := usersReply{Users: make([]userReply, 0, len(ids))}
	for _, id := range ids {
		reply.Users = append(reply.Users, userReply{ID: id})
	}
	return reply, nil
}
