package rediscluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
)

// newCluster starts n replicas sharing a fresh prefix of the shared Redis.
func newCluster(t *testing.T, n int, o clusterOpts) []*replica {
	t.Helper()
	if o.url == "" {
		o.url = redisURL()
	}
	rdb := testRedis(t, o.url)
	t.Cleanup(func() { rdb.Close() })
	if o.prefix == "" {
		o.prefix = testPrefix(t, rdb)
	}
	rs := make([]*replica, n)
	for i := range rs {
		rs[i] = newReplica(t, o)
	}
	return rs
}

// checkGoroutines fails the test if goroutines started during it outlive
// it. Register it first, so it runs after every other cleanup.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		eventually(t, 10*time.Second, func() error {
			if n := runtime.NumGoroutine(); n > before {
				return fmt.Errorf("%d goroutines, %d before the test", n, before)
			}
			return nil
		})
	})
}

func TestPublishReachesEveryReplicaOnce(t *testing.T) {
	checkGoroutines(t)
	rs := newCluster(t, 3, clusterOpts{})
	var subs []*client
	for _, r := range rs {
		for range 2 {
			c := r.connect(t)
			c.subscribe("news", "")
			subs = append(subs, c)
		}
	}
	for i, r := range rs {
		publish(t, r, "news", "story", fmt.Sprintf(`{"n":%d}`, i))
	}
	for _, c := range subs {
		// Each publisher's events arrive in order; different publishers'
		// may interleave.
		var got []string
		for range rs {
			f := c.expect("story")
			got = append(got, string(f.Data))
		}
		slices.Sort(got)
		want := []string{`"{\"n\":0}"`, `"{\"n\":1}"`, `"{\"n\":2}"`}
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		c.expectNone()
	}
}

func TestOrderFromOnePublisher(t *testing.T) {
	rs := newCluster(t, 2, clusterOpts{})
	c := rs[1].connect(t)
	c.subscribe("ordered", "")
	for i := range 200 {
		publish(t, rs[0], "ordered", "n", fmt.Sprint(i))
	}
	for i := range 200 {
		if f := c.expect("n"); string(f.Data) != fmt.Sprintf("%q", fmt.Sprint(i)) {
			t.Fatalf("event %d: got %s", i, f.Data)
		}
	}
}

func TestSocketExclusionAcrossReplicas(t *testing.T) {
	rs := newCluster(t, 2, clusterOpts{})
	a, b := rs[0].connect(t), rs[1].connect(t)
	a.subscribe("room", "")
	b.subscribe("room", "")
	app := testApp
	if err := rs[1].hub.Publish(context.Background(), &app, hub.Event{Name: "e", Channels: []string{"room"}, Data: "{}", SocketID: a.socketID}); err != nil {
		t.Fatal(err)
	}
	b.expect("e")
	a.expectNone()
}

func TestPresenceIsClusterWide(t *testing.T) {
	checkGoroutines(t)
	rs := newCluster(t, 3, clusterOpts{})
	const ch = "presence-room"
	alice := rs[0].connect(t)
	if ids := alice.join(ch, "alice"); !slices.Equal(ids, []string{"alice"}) {
		t.Fatalf("alice sees %v", ids)
	}
	waitMembers(t, rs[1], ch, "alice")
	bob := rs[1].connect(t)
	ids := bob.join(ch, "bob")
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"alice", "bob"}) {
		t.Fatalf("bob sees %v, want alice and bob", ids)
	}
	if u := memberEvent(t, alice.expect("pusher_internal:member_added")); u != "bob" {
		t.Fatalf("alice told %s was added", u)
	}
	bob.expectNone() // not told about himself

	// Alice's second connection, on another replica, is the same member.
	waitMembers(t, rs[2], ch, "alice", "bob")
	alice2 := rs[2].connect(t)
	if ids := alice2.join(ch, "alice"); len(ids) != 2 {
		t.Fatalf("alice's second connection sees %v", ids)
	}
	alice.expectNone()
	bob.expectNone()

	users, err := rs[2].hub.PresenceUsers(context.Background(), &testApp, ch)
	if err != nil || !slices.Equal(users, []string{"alice", "bob"}) {
		t.Fatalf("users API: %v, %v", users, err)
	}
	// Subscription counts reach Redis asynchronously.
	eventually(t, 5*time.Second, func() error {
		info, err := rs[1].hub.Channel(context.Background(), &testApp, ch)
		if err != nil || info.UserCount != 2 || info.SubscriptionCount != 3 || !info.Occupied {
			return fmt.Errorf("channel API: %+v, %v", info, err)
		}
		return nil
	})

	// Alice leaves one replica: still a member. Leaves the other: removed,
	// once, for bob.
	alice.sendJSON("pusher:unsubscribe", "", map[string]string{"channel": ch})
	bob.expectNone()
	alice2.sendJSON("pusher:unsubscribe", "", map[string]string{"channel": ch})
	if u := memberEvent(t, bob.expect("pusher_internal:member_removed")); u != "alice" {
		t.Fatalf("bob told %s was removed", u)
	}
	bob.expectNone()
}

func TestClientEventsAcrossReplicas(t *testing.T) {
	rs := newCluster(t, 2, clusterOpts{})
	a, b := rs[0].connect(t), rs[1].connect(t)
	a.subscribe("private-chat", "")
	b.subscribe("private-chat", "")
	a.sendJSON("client-typing", "private-chat", map[string]bool{"on": true})
	f := b.expect("client-typing")
	if f.Channel != "private-chat" {
		t.Fatalf("got %+v", f)
	}
	a.expectNone()
}

func TestSendToUserAndTerminateAcrossReplicas(t *testing.T) {
	checkGoroutines(t)
	rs := newCluster(t, 3, clusterOpts{})
	on1, on2 := rs[1].connect(t), rs[2].connect(t)
	on1.signin("u1")
	on2.signin("u1")
	other := rs[2].connect(t)
	other.signin("u2")
	publish(t, rs[0], "#server-to-user-u1", "hello", `{}`)
	on1.expect("hello")
	on2.expect("hello")
	other.expectNone()

	if err := rs[0].hub.TerminateUserConnections(context.Background(), &testApp, "u1"); err != nil {
		t.Fatal(err)
	}
	on1.expectClose(4009)
	on2.expectClose(4009)
	other.expectNone()
}

func TestCacheChannelAcrossReplicas(t *testing.T) {
	rs := newCluster(t, 2, clusterOpts{})
	// Nobody listens anywhere when it is published.
	publish(t, rs[0], "cache-quote", "price", `{"v":1}`)
	eventually(t, 5*time.Second, func() error {
		info, err := rs[1].hub.Channel(context.Background(), &testApp, "cache-quote")
		if err != nil {
			return err
		}
		if info.Cache == nil || info.Cache.Event != "price" || info.Cache.Data != `{"v":1}` {
			return fmt.Errorf("cache %+v", info.Cache)
		}
		return nil
	})
	c := rs[1].connect(t)
	c.subscribe("cache-quote", "")
	if f := c.expect("price"); string(f.Data) != `"{\"v\":1}"` {
		t.Fatalf("cached event data %s", f.Data)
	}
	miss := rs[1].connect(t)
	miss.subscribe("cache-empty", "")
	miss.expect("pusher:cache_miss")
}

func TestChannelsAPICountsEveryReplica(t *testing.T) {
	rs := newCluster(t, 3, clusterOpts{})
	for i, r := range rs {
		for range i + 1 {
			r.connect(t).subscribe("count-me", "")
		}
	}
	rs[0].connect(t).subscribe("other", "")
	eventually(t, 5*time.Second, func() error {
		list, err := rs[2].hub.Channels(context.Background(), &testApp, "count")
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].Name != "count-me" || list[0].SubscriptionCount != 6 {
			return fmt.Errorf("channels %+v", list)
		}
		all, err := rs[1].hub.Channels(context.Background(), &testApp, "")
		if err != nil {
			return err
		}
		if len(all) != 2 {
			return fmt.Errorf("all channels %+v", all)
		}
		return nil
	})
}

// hookRecorder counts the webhook events POSTed to it.
type hookRecorder struct {
	mu     sync.Mutex
	events []string
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p struct {
		Events []struct {
			Name    string `json:"name"`
			Channel string `json:"channel"`
			UserID  string `json:"user_id"`
		} `json:"events"`
	}
	if err := json.Unmarshal(body, &p); err == nil {
		h.mu.Lock()
		for _, e := range p.Events {
			h.events = append(h.events, e.Name+" "+e.Channel+" "+e.UserID)
		}
		h.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (h *hookRecorder) count(ev string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e == ev {
			n++
		}
	}
	return n
}

func TestWebhooksOncePerCluster(t *testing.T) {
	rec := &hookRecorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	rs := newCluster(t, 3, clusterOpts{webhooks: srv.URL})
	const ch = "presence-hooks"
	var cs []*client
	for _, r := range rs {
		c := r.connect(t)
		c.join(ch, "same-user")
		cs = append(cs, c)
	}
	eventually(t, 5*time.Second, func() error {
		if n := rec.count("channel_occupied " + ch + " "); n != 1 {
			return fmt.Errorf("%d channel_occupied", n)
		}
		if n := rec.count("member_added " + ch + " same-user"); n != 1 {
			return fmt.Errorf("%d member_added", n)
		}
		return nil
	})
	for _, c := range cs {
		c.sendJSON("pusher:unsubscribe", "", map[string]string{"channel": ch})
	}
	eventually(t, 5*time.Second, func() error {
		if n := rec.count("member_removed " + ch + " same-user"); n != 1 {
			return fmt.Errorf("%d member_removed", n)
		}
		if n := rec.count("channel_vacated " + ch + " "); n != 1 {
			return fmt.Errorf("%d channel_vacated", n)
		}
		return nil
	})
	// Nothing more arrives later.
	time.Sleep(100 * time.Millisecond)
	if n := rec.count("member_added " + ch + " same-user"); n != 1 {
		t.Fatalf("%d member_added in the end", n)
	}
}

func TestDeadReplicaIsReaped(t *testing.T) {
	checkGoroutines(t)
	const heartbeat, timeout = 100 * time.Millisecond, 500 * time.Millisecond
	rs := newCluster(t, 3, clusterOpts{heartbeat: heartbeat, timeout: timeout})
	const ch = "presence-reap"
	watcher := rs[0].connect(t)
	watcher.join(ch, "watcher")
	waitMembers(t, rs[2], ch, "watcher")
	ghost := rs[2].connect(t)
	ghost.join(ch, "ghost")
	watcher.expect("pusher_internal:member_added")
	waitMembers(t, rs[1], ch, "watcher", "ghost")
	both := rs[1].connect(t)
	both.join(ch, "both")
	watcher.expect("pusher_internal:member_added")
	ghost.expect("pusher_internal:member_added")
	// "both" is also on the replica that dies; it must survive the reaping.
	bothOnDying := rs[2].connect(t)
	bothOnDying.join(ch, "both")

	died := time.Now()
	rs[2].kill()
	// The bound documented in Options: NodeTimeout + Heartbeat, plus the
	// reaping itself.
	bound := timeout + heartbeat + 2*time.Second
	f := watcher.expectWithin("pusher_internal:member_removed", bound)
	if u := memberEvent(t, f); u != "ghost" {
		t.Fatalf("removed %s, want ghost", u)
	}
	t.Logf("ghost removed %v after the replica died", time.Since(died).Round(time.Millisecond))
	if u := memberEvent(t, both.expect("pusher_internal:member_removed")); u != "ghost" {
		t.Fatalf("removed %s, want ghost", u)
	}
	watcher.expectNone()
	users, err := rs[0].hub.PresenceUsers(context.Background(), &testApp, ch)
	if err != nil || !slices.Equal(users, []string{"both", "watcher"}) {
		t.Fatalf("users after reaping: %v, %v", users, err)
	}
	info, err := rs[1].hub.Channel(context.Background(), &testApp, ch)
	if err != nil || info.SubscriptionCount != 2 {
		t.Fatalf("channel after reaping: %+v, %v", info, err)
	}
}

func TestGracefulShutdownLeavesNoState(t *testing.T) {
	rs := newCluster(t, 2, clusterOpts{})
	watcher := rs[0].connect(t)
	watcher.join("presence-bye", "watcher")
	waitMembers(t, rs[1], "presence-bye", "watcher")
	leaving := rs[1].connect(t)
	leaving.join("presence-bye", "leaving")
	leaving.subscribe("plain", "")
	watcher.expect("pusher_internal:member_added")
	rs[1].stop()
	if u := memberEvent(t, watcher.expect("pusher_internal:member_removed")); u != "leaving" {
		t.Fatalf("removed %s", u)
	}
	list, err := rs[0].hub.Channels(context.Background(), &testApp, "")
	if err != nil || len(list) != 1 || list[0].Name != "presence-bye" {
		t.Fatalf("channels after shutdown: %+v, %v", list, err)
	}
	eventually(t, 5*time.Second, func() error {
		n, err := rs[0].rdb.SCard(context.Background(), rs[0].cluster.k.nodes()).Result()
		if err != nil || n != 1 {
			return fmt.Errorf("%d nodes registered, want 1 (%v)", n, err)
		}
		return nil
	})
}

func TestOneLeaderAndFailover(t *testing.T) {
	const heartbeat, timeout = 100 * time.Millisecond, 500 * time.Millisecond
	rs := newCluster(t, 3, clusterOpts{heartbeat: heartbeat, timeout: timeout})
	leaders := func() []int {
		var out []int
		for i, r := range rs {
			if _, gone := stopped.Load(r); !gone && r.cluster.Leader() {
				out = append(out, i)
			}
		}
		return out
	}
	var first int
	eventually(t, 5*time.Second, func() error {
		if l := leaders(); len(l) != 1 {
			return fmt.Errorf("leaders %v", l)
		}
		first = leaders()[0]
		return nil
	})
	// Never two at once, while the leader dies and another takes over.
	rs[first].kill()
	deadline := time.Now().Add(timeout + heartbeat + 2*time.Second)
	for {
		l := leaders()
		if len(l) > 1 {
			t.Fatalf("two leaders: %v", l)
		}
		if len(l) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no leader took over")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A graceful stop hands over at once (next heartbeat).
	second := leaders()[0]
	rs[second].stop()
	eventually(t, 5*heartbeat+time.Second, func() error {
		if l := leaders(); len(l) != 1 {
			return fmt.Errorf("leaders %v", l)
		}
		return nil
	})
}

func TestWatchlistAcrossReplicas(t *testing.T) {
	checkGoroutines(t)
	rs := newCluster(t, 3, clusterOpts{})
	watcher := rs[0].connect(t)
	watcher.signinWatching("w", "u1")
	watcher.expectNone()

	u1a := rs[1].connect(t)
	u1a.signin("u1")
	expectWatchlist(t, watcher, "online", "u1")
	u1b := rs[2].connect(t)
	u1b.signin("u1")
	watcher.expectNone() // already online

	// A watcher signing in later, elsewhere, is told at once.
	late := rs[2].connect(t)
	late.signinWatching("w2", "u1", "nobody")
	expectWatchlist(t, late, "online", "u1")

	u1a.ws.CloseNow()
	watcher.expectNone() // still on replica 2
	u1b.ws.CloseNow()
	expectWatchlist(t, watcher, "offline", "u1")
	expectWatchlist(t, late, "offline", "u1")
}

func expectWatchlist(t *testing.T, c *client, name, user string) {
	t.Helper()
	f := c.expect("pusher_internal:watchlist_events")
	var d struct {
		Events []struct {
			Name    string   `json:"name"`
			UserIDs []string `json:"user_ids"`
		} `json:"events"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		var s string
		if json.Unmarshal(f.Data, &s) != nil || json.Unmarshal([]byte(s), &d) != nil {
			t.Fatalf("watchlist data %s", f.Data)
		}
	}
	if len(d.Events) != 1 || d.Events[0].Name != name || !slices.Equal(d.Events[0].UserIDs, []string{user}) {
		t.Fatalf("watchlist events %s, want %s %s", f.Data, name, user)
	}
}

// TestSignalsReachEveryReplicaOnce: a signal sent on one replica reaches
// the handlers of every replica that listens for it, the sender's own
// included, exactly once and in order; other names and clients see
// nothing of it.
func TestSignalsReachEveryReplicaOnce(t *testing.T) {
	checkGoroutines(t)
	rs := newCluster(t, 3, clusterOpts{})
	type got struct {
		mu   sync.Mutex
		data []string
	}
	recv := make([]*got, len(rs))
	for i, r := range rs {
		g := &got{}
		recv[i] = g
		if err := r.hub.OnSignal(t.Context(), "drafts", func(b []byte) {
			g.mu.Lock()
			g.data = append(g.data, string(b))
			g.mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	var other atomic.Int32
	if err := rs[1].hub.OnSignal(t.Context(), "other", func([]byte) { other.Add(1) }); err != nil {
		t.Fatal(err)
	}
	c := rs[2].connect(t)
	c.subscribe("news", "")

	for i := range 3 {
		if err := rs[0].hub.Signal(t.Context(), "drafts", fmt.Appendf(nil, "cancel %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"cancel 0", "cancel 1", "cancel 2"}
	for i, g := range recv {
		eventually(t, 5*time.Second, func() error {
			g.mu.Lock()
			defer g.mu.Unlock()
			if len(g.data) < len(want) {
				return fmt.Errorf("replica %d got %q so far", i, g.data)
			}
			return nil
		})
	}
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show up
	for i, g := range recv {
		g.mu.Lock()
		if !slices.Equal(g.data, want) {
			t.Errorf("replica %d got %q, want %q", i, g.data, want)
		}
		g.mu.Unlock()
	}
	if n := other.Load(); n != 0 {
		t.Errorf("a handler of another signal name got %d signals", n)
	}
	c.expectNone()
}
