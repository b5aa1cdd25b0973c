package pusherapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/switchboard-inbox/switchboard/hub"
)

func ptr[T any](v T) *T { return &v }

// wantPublished checks the events the hub was given, in order.
func wantPublished(t testing.TB, f *fakeHub, want ...hub.Event) {
	t.Helper()
	got := f.events()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("published %+v\nwant      %+v", got, want)
	}
}

func TestTriggerWithPusherHTTPGo(t *testing.T) {
	tests := []struct {
		name string
		call func(*pusher.Client) error
		want []hub.Event
	}{
		{
			name: "Trigger",
			call: func(c *pusher.Client) error { return c.Trigger("news", "story", map[string]string{"a": "b"}) },
			want: []hub.Event{{Name: "story", Channels: []string{"news"}, Data: `{"a":"b"}`}},
		},
		{
			name: "Trigger with string data is sent as is",
			call: func(c *pusher.Client) error { return c.Trigger("news", "story", "plain text") },
			want: []hub.Event{{Name: "story", Channels: []string{"news"}, Data: "plain text"}},
		},
		{
			name: "TriggerMulti",
			call: func(c *pusher.Client) error {
				return c.TriggerMulti([]string{"a", "private-b", "presence-c", "cache-d"}, "e", "d")
			},
			want: []hub.Event{{Name: "e", Channels: []string{"a", "private-b", "presence-c", "cache-d"}, Data: "d"}},
		},
		{
			name: "SendToUser",
			call: func(c *pusher.Client) error { return c.SendToUser("7", "e", "d") },
			want: []hub.Event{{Name: "e", Channels: []string{"#server-to-user-7"}, Data: "d"}},
		},
		{
			name: "TriggerExclusive",
			call: func(c *pusher.Client) error { return c.TriggerExclusive("a", "e", "d", "123.456") },
			want: []hub.Event{{Name: "e", Channels: []string{"a"}, Data: "d", SocketID: "123.456"}},
		},
		{
			name: "TriggerMultiExclusive",
			call: func(c *pusher.Client) error { return c.TriggerMultiExclusive([]string{"a", "b"}, "e", "d", "1.2") },
			want: []hub.Event{{Name: "e", Channels: []string{"a", "b"}, Data: "d", SocketID: "1.2"}},
		},
		{
			name: "data of exactly the limit",
			call: func(c *pusher.Client) error {
				return c.Trigger("a", "e", strings.Repeat("x", hub.DefaultMaxEventBytes))
			},
			want: []hub.Event{{Name: "e", Channels: []string{"a"}, Data: strings.Repeat("x", hub.DefaultMaxEventBytes)}},
		},
		{
			name: "event name of exactly 200 characters",
			call: func(c *pusher.Client) error { return c.Trigger("a", strings.Repeat("n", 200), "d") },
			want: []hub.Event{{Name: strings.Repeat("n", 200), Channels: []string{"a"}, Data: "d"}},
		},
		{
			name: "100 channels",
			call: func(c *pusher.Client) error { return c.TriggerMulti(numbered("c", 100), "e", "d") },
			want: []hub.Event{{Name: "e", Channels: numbered("c", 100), Data: "d"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			if err := tc.call(e.client(appOn)); err != nil {
				t.Fatalf("pusher-http-go: %v", err)
			}
			wantPublished(t, e.hub, tc.want...)
		})
	}
}

// numbered returns n channel names prefix-0, prefix-1, ...
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

func TestTriggerInfo(t *testing.T) {
	e := newEnv(t, Options{})
	e.hub.setChannel(hub.ChannelInfo{Name: "presence-room", Occupied: true, SubscriptionCount: 3, UserCount: 2})
	e.hub.setChannel(hub.ChannelInfo{Name: "news", Occupied: true, SubscriptionCount: 5, UserCount: 0})

	got, err := e.client(appOn).TriggerMultiWithParams([]string{"presence-room", "news", "empty"}, "e", "d",
		pusher.TriggerParams{Info: ptr("user_count,subscription_count")})
	if err != nil {
		t.Fatalf("TriggerMultiWithParams: %v", err)
	}
	want := map[string]pusher.TriggerChannelListItem{
		"presence-room": {UserCount: ptr(2), SubscriptionCount: ptr(3)},
		"news":          {SubscriptionCount: ptr(5)}, // user_count is for presence channels only
		"empty":         {SubscriptionCount: ptr(0)},
	}
	if !reflect.DeepEqual(got.Channels, want) {
		t.Errorf("channels %s, want %s", dump(got.Channels), dump(want))
	}

	// Without info the reply is an empty object.
	status, body := e.do(t, "POST", "/apps/1001/events", nil, []byte(`{"name":"e","channel":"news","data":"d"}`), appOn)
	wantJSON(t, status, body, `{}`)

	status, body = e.do(t, "POST", "/apps/1001/events", nil, []byte(`{"name":"e","channel":"news","data":"d","info":"subscription_count"}`), appOn)
	wantJSON(t, status, body, `{"channels":{"news":{"subscription_count":5}}}`)
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTriggerBatchWithPusherHTTPGo(t *testing.T) {
	e := newEnv(t, Options{})
	e.hub.setChannel(hub.ChannelInfo{Name: "presence-room", Occupied: true, SubscriptionCount: 3, UserCount: 2})

	got, err := e.client(appOn).TriggerBatch([]pusher.Event{
		{Channel: "a", Name: "e1", Data: "1"},
		{Channel: "b", Name: "e2", Data: map[string]int{"n": 2}, SocketID: ptr("1.2")},
	})
	if err != nil {
		t.Fatalf("TriggerBatch: %v", err)
	}
	if len(got.Batch) != 0 {
		t.Errorf("batch without info replied %s, want no batch list", dump(got))
	}
	wantPublished(t, e.hub,
		hub.Event{Name: "e1", Channels: []string{"a"}, Data: "1"},
		hub.Event{Name: "e2", Channels: []string{"b"}, Data: `{"n":2}`, SocketID: "1.2"},
	)

	got, err = e.client(appOn).TriggerBatch([]pusher.Event{
		{Channel: "a", Name: "e", Data: "1"},
		{Channel: "presence-room", Name: "e", Data: "2", Info: ptr("user_count,subscription_count")},
		{Channel: "a", Name: "e", Data: "3", Info: ptr("subscription_count")},
	})
	if err != nil {
		t.Fatalf("TriggerBatch with info: %v", err)
	}
	want := []pusher.TriggerBatchChannelListItem{
		{},
		{UserCount: ptr(2), SubscriptionCount: ptr(3)},
		{SubscriptionCount: ptr(0)},
	}
	if !reflect.DeepEqual(got.Batch, want) {
		t.Errorf("batch %s, want %s", dump(got.Batch), dump(want))
	}
}

func TestTriggerRefusals(t *testing.T) {
	big := strings.Repeat("x", hub.DefaultMaxEventBytes+1)
	tests := []struct {
		name   string
		app    hub.App
		body   string
		status int
		want   string
	}{
		{name: "malformed JSON", body: `{"name":`, status: 400, want: "malformed JSON"},
		{name: "empty body", body: ``, status: 400, want: "malformed JSON"},
		{name: "JSON array", body: `[]`, status: 400, want: "malformed JSON"},
		{name: "trailing garbage", body: `{"name":"e","channel":"c","data":"d"} x`, status: 400, want: "malformed JSON"},
		{name: "data not a string", body: `{"name":"e","channel":"c","data":{"a":1}}`, status: 400, want: "malformed JSON"},
		{name: "channels not a list", body: `{"name":"e","channels":"c","data":"d"}`, status: 400, want: "malformed JSON"},
		{name: "not UTF-8", body: "{\"name\":\"e\",\"channel\":\"c\",\"data\":\"\xff\"}", status: 400, want: "UTF-8"},
		{name: "missing name", body: `{"channel":"c","data":"d"}`, status: 400, want: "missing event name"},
		{name: "name too long", body: `{"name":"` + strings.Repeat("n", 201) + `","channel":"c","data":"d"}`, status: 400, want: "longer than 200"},
		{name: "reserved name pusher:", body: `{"name":"pusher:error","channel":"c","data":"d"}`, status: 400, want: "reserved"},
		{name: "reserved name pusher_internal:", body: `{"name":"pusher_internal:member_added","channel":"c","data":"d"}`, status: 400, want: "reserved"},
		{name: "missing data", body: `{"name":"e","channel":"c"}`, status: 400, want: "missing event data"},
		{name: "missing channels", body: `{"name":"e","data":"d"}`, status: 400, want: "missing channels"},
		{name: "empty channels", body: `{"name":"e","channels":[],"data":"d"}`, status: 400, want: "missing channels"},
		{name: "channel and channels", body: `{"name":"e","channel":"a","channels":["b"],"data":"d"}`, status: 400, want: "not both"},
		{name: "101 channels", body: fmt.Sprintf(`{"name":"e","channels":%s,"data":"d"}`, dump(numbered("c", 101))), status: 400, want: "at most 100 channels"},
		{name: "channel with a space", body: `{"name":"e","channel":"bad channel","data":"d"}`, status: 400, want: "invalid channel name"},
		{name: "channel name too long", body: `{"name":"e","channel":"` + strings.Repeat("c", 165) + `","data":"d"}`, status: 400, want: "invalid channel name"},
		{name: "one bad channel of many", body: `{"name":"e","channels":["a","b/c"],"data":"d"}`, status: 400, want: "invalid channel name"},
		{name: "empty channel name in list", body: `{"name":"e","channels":[""],"data":"d"}`, status: 400, want: "invalid channel name"},
		{name: "socket_id letters", body: `{"name":"e","channel":"c","data":"d","socket_id":"abc"}`, status: 400, want: "invalid socket_id"},
		{name: "socket_id without second part", body: `{"name":"e","channel":"c","data":"d","socket_id":"1."}`, status: 400, want: "invalid socket_id"},
		{name: "socket_id without first part", body: `{"name":"e","channel":"c","data":"d","socket_id":".1"}`, status: 400, want: "invalid socket_id"},
		{name: "socket_id three parts", body: `{"name":"e","channel":"c","data":"d","socket_id":"1.2.3"}`, status: 400, want: "invalid socket_id"},
		{name: "socket_id with space", body: `{"name":"e","channel":"c","data":"d","socket_id":" 1.2"}`, status: 400, want: "invalid socket_id"},
		{name: "unknown info attribute", body: `{"name":"e","channel":"c","data":"d","info":"members"}`, status: 400, want: "unknown info attribute"},
		{name: "cache is not a trigger attribute", body: `{"name":"e","channel":"c","data":"d","info":"cache"}`, status: 400, want: "unknown info attribute"},
		{name: "data over 10 KB", body: `{"name":"e","channel":"c","data":"` + big + `"}`, status: 413, want: "limit is 10240"},
		{name: "data over the app's own limit", app: appSmall, body: `{"name":"e","channel":"c","data":"` + strings.Repeat("x", 101) + `"}`, status: 413, want: "limit is 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			app := tc.app
			if app.ID == "" {
				app = appOn
			}
			status, body := e.do(t, "POST", "/apps/"+app.ID+"/events", nil, []byte(tc.body), app)
			wantError(t, status, body, tc.status, tc.want)
			wantPublished(t, e.hub)
		})
	}
}

func TestTriggerOverLimitThroughPusherHTTPGo(t *testing.T) {
	e := newEnv(t, Options{})
	// pusher-http-go checks 10 KB itself; appSmall's limit is the server's.
	err := e.client(appSmall).Trigger("c", "e", strings.Repeat("x", 101))
	if err == nil || !strings.Contains(err.Error(), "413") {
		t.Fatalf("Trigger over the app limit: %v, want a 413", err)
	}
	wantPublished(t, e.hub)
}

func TestTriggerDeduplicatesChannels(t *testing.T) {
	e := newEnv(t, Options{})
	status, body := e.do(t, "POST", "/apps/1001/events", nil, []byte(`{"name":"e","channels":["a","b","a"],"data":"d"}`), appOn)
	wantJSON(t, status, body, `{}`)
	wantPublished(t, e.hub, hub.Event{Name: "e", Channels: []string{"a", "b"}, Data: "d"})
}

func TestTriggerEmptyDataIsData(t *testing.T) {
	e := newEnv(t, Options{})
	status, body := e.do(t, "POST", "/apps/1001/events", nil, []byte(`{"name":"e","channel":"a","data":""}`), appOn)
	wantJSON(t, status, body, `{}`)
	wantPublished(t, e.hub, hub.Event{Name: "e", Channels: []string{"a"}, Data: ""})
}

// batchOf returns a batch_events body of n events on channel c with data of
// size bytes each.
func batchOf(n, size int) string {
	items := make([]map[string]string, n)
	for i := range items {
		items[i] = map[string]string{"channel": "c", "name": "e", "data": strings.Repeat("x", size)}
	}
	return dump(map[string]any{"batch": items})
}

func TestTriggerBatchLimits(t *testing.T) {
	e := newEnv(t, Options{})
	// The data limit is per event: ten full events are fine together.
	status, body := e.do(t, "POST", "/apps/1001/batch_events", nil, []byte(batchOf(10, hub.DefaultMaxEventBytes)), appOn)
	wantJSON(t, status, body, `{}`)
	if n := len(e.hub.events()); n != 10 {
		t.Errorf("published %d events, want 10", n)
	}
}

func TestTriggerBatchRefusals(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{name: "malformed JSON", body: `{"batch":[`, status: 400, want: "malformed JSON"},
		{name: "missing batch", body: `{}`, status: 400, want: "1-10 events, got 0"},
		{name: "empty batch", body: `{"batch":[]}`, status: 400, want: "1-10 events, got 0"},
		{name: "11 events", body: batchOf(11, 1), status: 400, want: "1-10 events, got 11"},
		{name: "bad channel", body: `{"batch":[{"channel":"a","name":"e","data":"d"},{"channel":"b c","name":"e","data":"d"}]}`, status: 400, want: "batch[1]: channel"},
		{name: "missing channel", body: `{"batch":[{"channels":["a"],"name":"e","data":"d"}]}`, status: 400, want: "batch[0]: channel"},
		{name: "missing name", body: `{"batch":[{"channel":"a","data":"d"}]}`, status: 400, want: "batch[0]: missing event name"},
		{name: "missing data", body: `{"batch":[{"channel":"a","name":"e"}]}`, status: 400, want: "batch[0]: missing event data"},
		{name: "bad socket_id", body: `{"batch":[{"channel":"a","name":"e","data":"d","socket_id":"x.1"}]}`, status: 400, want: "batch[0]: invalid socket_id"},
		{name: "bad info", body: `{"batch":[{"channel":"a","name":"e","data":"d","info":"cache"}]}`, status: 400, want: "batch[0]: unknown info attribute"},
		{name: "one event too large", body: `{"batch":[{"channel":"a","name":"e","data":"d"},{"channel":"a","name":"e","data":"` + strings.Repeat("x", hub.DefaultMaxEventBytes+1) + `"}]}`, status: 413, want: "batch[1]: event data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			status, body := e.do(t, "POST", "/apps/1001/batch_events", nil, []byte(tc.body), appOn)
			wantError(t, status, body, tc.status, tc.want)
			// A refused batch publishes nothing, not even its good events.
			wantPublished(t, e.hub)
		})
	}
}
