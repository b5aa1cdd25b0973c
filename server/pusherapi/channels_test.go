package pusherapi

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub"
)

// channelsEnv is an env whose hub holds a few channels.
func channelsEnv(t testing.TB) *testEnv {
	t.Helper()
	e := newEnv(t, Options{})
	e.hub.setChannel(hub.ChannelInfo{Name: "presence-room", Occupied: true, SubscriptionCount: 3, UserCount: 2})
	e.hub.setChannel(hub.ChannelInfo{Name: "presence-lobby", Occupied: true, SubscriptionCount: 1, UserCount: 1})
	e.hub.setChannel(hub.ChannelInfo{Name: "private-x", Occupied: true, SubscriptionCount: 1})
	e.hub.setChannel(hub.ChannelInfo{Name: "news", Occupied: true, SubscriptionCount: 4})
	e.hub.setChannel(hub.ChannelInfo{Name: "cache-quotes", Occupied: true, SubscriptionCount: 1,
		Cache: &hub.CachedEvent{Event: "quote", Data: `{"p":1}`, TTL: 1500 * time.Millisecond}})
	e.hub.setChannel(hub.ChannelInfo{Name: "cache-stale", Occupied: false,
		Cache: &hub.CachedEvent{Event: "quote", Data: "old", TTL: 30 * time.Minute}})
	e.hub.users["presence-room"] = []string{"7", "9"}
	return e
}

func TestChannelsWithPusherHTTPGo(t *testing.T) {
	e := channelsEnv(t)
	c := e.client(appOn)

	got, err := c.Channels(pusher.ChannelsParams{})
	if err != nil {
		t.Fatalf("Channels: %v", err)
	}
	want := map[string]pusher.ChannelListItem{
		"presence-room": {}, "presence-lobby": {}, "private-x": {}, "news": {}, "cache-quotes": {},
	}
	if !reflect.DeepEqual(got.Channels, want) {
		t.Errorf("Channels() = %s, want %s", dump(got.Channels), dump(want))
	}

	got, err = c.Channels(pusher.ChannelsParams{FilterByPrefix: ptr("presence-"), Info: ptr("user_count")})
	if err != nil {
		t.Fatalf("Channels(presence-, user_count): %v", err)
	}
	want = map[string]pusher.ChannelListItem{"presence-room": {UserCount: 2}, "presence-lobby": {UserCount: 1}}
	if !reflect.DeepEqual(got.Channels, want) {
		t.Errorf("Channels(presence-, user_count) = %s, want %s", dump(got.Channels), dump(want))
	}
}

func TestChannelsReplies(t *testing.T) {
	e := channelsEnv(t)
	tests := []struct {
		name  string
		query url.Values
		want  string
	}{
		{"all", nil, `{"channels":{"presence-room":{},"presence-lobby":{},"private-x":{},"news":{},"cache-quotes":{}}}`},
		{"prefix", url.Values{"filter_by_prefix": {"private-"}}, `{"channels":{"private-x":{}}}`},
		{"prefix matching nothing", url.Values{"filter_by_prefix": {"nothing-"}}, `{"channels":{}}`},
		{"subscription_count", url.Values{"filter_by_prefix": {"n"}, "info": {"subscription_count"}}, `{"channels":{"news":{"subscription_count":4}}}`},
		{"user_count and subscription_count", url.Values{"filter_by_prefix": {"presence-r"}, "info": {"user_count,subscription_count"}},
			`{"channels":{"presence-room":{"user_count":2,"subscription_count":3}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, "GET", "/apps/1001/channels", tc.query, nil, appOn)
			wantJSON(t, status, body, tc.want)
		})
	}
}

func TestChannelsRefusals(t *testing.T) {
	e := channelsEnv(t)
	tests := []struct {
		name  string
		query url.Values
		want  string
	}{
		{"user_count without prefix", url.Values{"info": {"user_count"}}, "filter_by_prefix=presence-"},
		{"user_count with another prefix", url.Values{"info": {"user_count"}, "filter_by_prefix": {"private-"}}, "filter_by_prefix=presence-"},
		{"unknown attribute", url.Values{"info": {"members"}}, "unknown info attribute"},
		{"cache is for one channel", url.Values{"info": {"cache"}}, "unknown info attribute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, "GET", "/apps/1001/channels", tc.query, nil, appOn)
			wantError(t, status, body, 400, tc.want)
		})
	}
}

func TestChannelWithPusherHTTPGo(t *testing.T) {
	e := channelsEnv(t)
	c := e.client(appOn)
	tests := []struct {
		name, channel, info string
		want                pusher.Channel
	}{
		{"presence with counts", "presence-room", "user_count,subscription_count",
			pusher.Channel{Name: "presence-room", Occupied: true, UserCount: 2, SubscriptionCount: 3}},
		{"public without info", "news", "", pusher.Channel{Name: "news", Occupied: true}},
		{"public subscription_count", "news", "subscription_count", pusher.Channel{Name: "news", Occupied: true, SubscriptionCount: 4}},
		{"unoccupied", "nobody-here", "subscription_count", pusher.Channel{Name: "nobody-here"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var params pusher.ChannelParams
			if tc.info != "" {
				params.Info = ptr(tc.info)
			}
			got, err := c.Channel(tc.channel, params)
			if err != nil {
				t.Fatalf("Channel: %v", err)
			}
			if *got != tc.want {
				t.Errorf("Channel(%s, %q) = %+v, want %+v", tc.channel, tc.info, *got, tc.want)
			}
		})
	}
}

func TestChannelReplies(t *testing.T) {
	e := channelsEnv(t)
	tests := []struct {
		name, channel, info, want string
	}{
		{"unoccupied", "nobody-here", "", `{"occupied":false}`},
		{"unoccupied counts are zero", "presence-nobody", "user_count,subscription_count", `{"occupied":false,"user_count":0,"subscription_count":0}`},
		{"occupied", "news", "", `{"occupied":true}`},
		{"counts only when asked", "presence-room", "subscription_count", `{"occupied":true,"subscription_count":3}`},
		{"cache, ttl rounded up", "cache-quotes", "cache", `{"occupied":true,"cache":{"data":"{\"p\":1}","ttl":2}}`},
		{"cache only when asked", "cache-quotes", "subscription_count", `{"occupied":true,"subscription_count":1}`},
		{"cache outlives subscribers", "cache-stale", "cache", `{"occupied":false,"cache":{"data":"old","ttl":1800}}`},
		{"cache asked, none held", "cache-empty", "cache", `{"occupied":false}`},
		{"server-to-user channel", "#server-to-user-7", "", `{"occupied":false}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q url.Values
			if tc.info != "" {
				q = url.Values{"info": {tc.info}}
			}
			status, body := e.do(t, "GET", "/apps/1001/channels/"+url.PathEscape(tc.channel), q, nil, appOn)
			wantJSON(t, status, body, tc.want)
		})
	}
}

func TestChannelRefusals(t *testing.T) {
	e := channelsEnv(t)
	tests := []struct {
		name, path, info, want string
	}{
		{"user_count on a public channel", "/apps/1001/channels/news", "user_count", "only for presence channels"},
		{"user_count on a private channel", "/apps/1001/channels/private-x", "user_count", "only for presence channels"},
		{"unknown attribute", "/apps/1001/channels/news", "members", "unknown info attribute"},
		{"invalid name", "/apps/1001/channels/bad%20name", "", "invalid channel name"},
		{"name too long", "/apps/1001/channels/" + longName(165), "", "invalid channel name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q url.Values
			if tc.info != "" {
				q = url.Values{"info": {tc.info}}
			}
			status, body := e.do(t, "GET", tc.path, q, nil, appOn)
			wantError(t, status, body, 400, tc.want)
		})
	}
}

func longName(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'c'
	}
	return string(b)
}

func TestChannelUsers(t *testing.T) {
	e := channelsEnv(t)
	got, err := e.client(appOn).GetChannelUsers("presence-room")
	if err != nil {
		t.Fatalf("GetChannelUsers: %v", err)
	}
	want := []pusher.User{{ID: "7"}, {ID: "9"}}
	if !reflect.DeepEqual(got.List, want) {
		t.Errorf("GetChannelUsers = %+v, want %+v", got.List, want)
	}

	status, body := e.do(t, "GET", "/apps/1001/channels/presence-room/users", nil, nil, appOn)
	wantJSON(t, status, body, `{"users":[{"id":"7"},{"id":"9"}]}`)

	// An empty presence channel has a list, not null.
	status, body = e.do(t, "GET", "/apps/1001/channels/presence-empty/users", nil, nil, appOn)
	wantJSON(t, status, body, `{"users":[]}`)
}

func TestChannelUsersRefusals(t *testing.T) {
	e := channelsEnv(t)
	tests := []struct{ name, channel, want string }{
		{"public channel", "news", "only listed for presence channels"},
		{"private channel", "private-x", "only listed for presence channels"},
		{"invalid name", "presence-a%20b", "invalid channel name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(t, "GET", "/apps/1001/channels/"+tc.channel+"/users", nil, nil, appOn)
			wantError(t, status, body, 400, tc.want)
		})
	}
	if _, err := e.client(appOn).GetChannelUsers("news"); err == nil {
		t.Error("GetChannelUsers on a public channel succeeded, want a 400")
	}
}
