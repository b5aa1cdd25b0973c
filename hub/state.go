package hub

import (
	"encoding/json"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const numShards = 32

// appState is one app's live state on this replica: its channels (sharded
// by name so publishes to different channels do not contend), its
// connections, and its signed-in users and their watchers.
type appState struct {
	id     string
	conns  atomic.Int64
	shards [numShards]shard
	// cluster, when set, owns the cluster-wide truth: local subscribe and
	// unsubscribe report their changes to it instead of sending member
	// events and webhooks themselves.
	cluster Cluster

	connsMu  sync.Mutex
	allConn  map[*conn]struct{}
	usersMu  sync.Mutex
	users    map[string]map[*conn]struct{} // signed-in user id → its connections
	watchers map[string]map[*conn]struct{} // user id → connections watching it
}

type shard struct {
	mu       sync.RWMutex
	channels map[string]*channel
	cache    map[string]cacheEntry
}

// channel is a channel with at least one subscriber on this replica.
type channel struct {
	subs    map[*conn]string   // subscriber → its presence user id ("" elsewhere)
	members map[string]*member // presence channels only
}

// member is one presence user, however many connections it has.
type member struct {
	info  json.RawMessage
	conns int
}

type cacheEntry struct {
	event, data string
	frame       []byte
	expires     time.Time
}

var shardSeed = maphash.MakeSeed()

func newAppState(id string, cluster Cluster) *appState {
	st := &appState{
		id:       id,
		cluster:  cluster,
		allConn:  make(map[*conn]struct{}),
		users:    make(map[string]map[*conn]struct{}),
		watchers: make(map[string]map[*conn]struct{}),
	}
	for i := range st.shards {
		st.shards[i].channels = make(map[string]*channel)
		st.shards[i].cache = make(map[string]cacheEntry)
	}
	return st
}

func (st *appState) shard(name string) *shard {
	return &st.shards[maphash.String(shardSeed, name)%numShards]
}

func (st *appState) addConn(c *conn) {
	st.connsMu.Lock()
	st.allConn[c] = struct{}{}
	st.connsMu.Unlock()
}

func (st *appState) removeConn(c *conn) {
	st.connsMu.Lock()
	delete(st.allConn, c)
	st.connsMu.Unlock()
}

func (st *appState) allConns() []*conn {
	st.connsMu.Lock()
	defer st.connsMu.Unlock()
	out := make([]*conn, 0, len(st.allConn))
	for c := range st.allConn {
		out = append(out, c)
	}
	return out
}

// deliver queues a publication's frame to every local subscriber of its
// channel except the excluded socket, caches it on cache channels, and
// returns how many connections it was queued to.
func (st *appState) deliver(p Publication, now time.Time) int {
	sh := st.shard(p.Channel)
	if p.Cacheable {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		sh.cache[p.Channel] = cacheEntry{event: p.Event, data: p.Data, frame: p.Frame, expires: now.Add(CacheTTL)}
	} else {
		sh.mu.RLock()
		defer sh.mu.RUnlock()
	}
	ch := sh.channels[p.Channel]
	if ch == nil {
		return 0
	}
	n := 0
	for c := range ch.subs {
		if p.SocketID != "" && c.socketID == p.SocketID {
			continue
		}
		c.sendOn(p.Channel, p.Frame)
		n++
	}
	return n
}

// subscribeResult says what a subscription changed, for webhooks.
type subscribeResult struct {
	occupied    bool // the channel got its first local subscriber
	memberAdded bool // a new presence member joined
	limit       bool // refused: presence channel full
}

// subscribe adds c to a channel. For presence channels userID and info name
// the member. Under the shard lock it queues, in order, the success frame
// (with the member list), then a cache channel's last event or cache miss,
// so no event published after the subscription can overtake them.
//
// In a cluster the member list and the webhooks are the cluster's: the
// change is queued to it, and a presence subscription's frames are held
// (see conn.hold) until finishPresence answers it with the cluster's
// member list.
func (st *appState) subscribe(c *conn, name, userID string, info json.RawMessage, maxMembers int, now time.Time) (res subscribeResult) {
	sh := st.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ch := sh.channels[name]
	presence := IsPresenceChannel(name)
	if presence && st.cluster == nil && ch != nil && ch.members[userID] == nil && len(ch.members) >= maxMembers {
		return subscribeResult{limit: true}
	}
	if ch == nil {
		ch = &channel{subs: make(map[*conn]string)}
		if presence {
			ch.members = make(map[string]*member)
		}
		sh.channels[name] = ch
		res.occupied = true
	}
	if _, again := ch.subs[c]; again {
		// A repeated subscribe is answered again without changing state.
		c.send(subscriptionSucceeded(name, ch))
		return res
	}
	ch.subs[c] = userID
	if st.cluster != nil {
		st.subscribeClusterLocked(sh, ch, c, name, userID, info, now)
		return subscribeResult{}
	}
	if presence {
		m := ch.members[userID]
		if m == nil {
			m = &member{info: info}
			ch.members[userID] = m
			res.memberAdded = true
			frame := encodeJSONEvent(evMemberAdded, name, memberAddedData{UserID: userID, UserInfo: info})
			for other := range ch.subs {
				if other != c {
					other.send(frame)
				}
			}
		}
		m.conns++
	}
	c.send(subscriptionSucceeded(name, ch))
	sendCached(sh, c, name, now)
	return res
}

// sendCached queues a cache channel's last event, or its cache miss.
func sendCached(sh *shard, c *conn, name string, now time.Time) {
	if !IsCacheChannel(name) {
		return
	}
	if e, ok := sh.cache[name]; ok && now.Before(e.expires) {
		c.send(e.frame)
	} else {
		c.send(encodeCacheMiss(name))
	}
}

// subscribeClusterLocked is subscribe's cluster half, under sh.mu with c
// already among ch.subs: it queues the changes to the cluster in the order
// they happen here, and answers a non-presence subscription at once.
func (st *appState) subscribeClusterLocked(sh *shard, ch *channel, c *conn, name, userID string, info json.RawMessage, now time.Time) {
	st.cluster.Change(StateChange{Kind: Subscribed, AppID: st.id, Channel: name, SocketID: c.socketID})
	if ch.members == nil {
		c.send(encodeEvent(evSubscriptionSucceeded, name, "{}"))
		sendCached(sh, c, name, now)
		return
	}
	c.hold(name)
	m := ch.members[userID]
	if m == nil {
		m = &member{info: info}
		ch.members[userID] = m
		st.cluster.Change(StateChange{Kind: MemberJoined, AppID: st.id, Channel: name, UserID: userID, UserInfo: info, SocketID: c.socketID})
	}
	m.conns++
}

// finishPresence answers a held presence subscription with the cluster's
// members plus this replica's own (whose joins may still be queued), then
// releases the frames held meanwhile. It reports false, undoing nothing,
// when the channel is full without this user; the caller unsubscribes.
func (st *appState) finishPresence(c *conn, name, userID string, members map[string]json.RawMessage, maxMembers int) bool {
	sh := st.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ch := sh.channels[name]
	if ch == nil {
		return true
	}
	if members == nil {
		members = make(map[string]json.RawMessage, len(ch.members))
	}
	for id, m := range ch.members {
		members[id] = m.info
	}
	if len(members)-1 >= maxMembers { // the user is among them, as a local member
		return false
	}
	c.release(name, encodePresenceSucceeded(name, members))
	return true
}

// unsubscribeResult says what an unsubscription changed, for webhooks.
type unsubscribeResult struct {
	vacated       bool
	memberRemoved bool
	userID        string
}

// unsubscribe removes c from a channel, telling the remaining members when
// a presence user's last connection leaves.
func (st *appState) unsubscribe(c *conn, name string) (res unsubscribeResult) {
	sh := st.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ch := sh.channels[name]
	if ch == nil {
		return res
	}
	userID, ok := ch.subs[c]
	if !ok {
		return res
	}
	delete(ch.subs, c)
	if st.cluster != nil {
		c.unhold(name)
		if m := ch.members[userID]; m != nil {
			if m.conns--; m.conns == 0 {
				delete(ch.members, userID)
				st.cluster.Change(StateChange{Kind: MemberLeft, AppID: st.id, Channel: name, UserID: userID, SocketID: c.socketID})
			}
		}
		st.cluster.Change(StateChange{Kind: Unsubscribed, AppID: st.id, Channel: name, SocketID: c.socketID})
		if len(ch.subs) == 0 {
			delete(sh.channels, name)
		}
		return res
	}
	if m := ch.members[userID]; m != nil {
		m.conns--
		if m.conns == 0 {
			delete(ch.members, userID)
			res.memberRemoved, res.userID = true, userID
			frame := encodeJSONEvent(evMemberRemoved, name, memberRemovedData{UserID: userID})
			for other := range ch.subs {
				other.send(frame)
			}
		}
	}
	if len(ch.subs) == 0 {
		delete(sh.channels, name)
		res.vacated = true
	}
	return res
}

// cacheMissed reports whether a cache channel has no live cached event.
func (st *appState) cacheMissed(name string, now time.Time) bool {
	sh := st.shard(name)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.cache[name]
	return !ok || !now.Before(e.expires)
}

func (st *appState) expireCache(now time.Time) {
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		for name, e := range sh.cache {
			if !now.Before(e.expires) {
				delete(sh.cache, name)
			}
		}
		sh.mu.Unlock()
	}
}

func (st *appState) channels(prefix string) []ChannelInfo {
	var out []ChannelInfo
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.RLock()
		for name, ch := range sh.channels {
			if strings.HasPrefix(name, prefix) {
				out = append(out, ChannelInfo{Name: name, Occupied: true, SubscriptionCount: len(ch.subs), UserCount: len(ch.members)})
			}
		}
		sh.mu.RUnlock()
	}
	return out
}

func (st *appState) channel(name string, now time.Time) ChannelInfo {
	sh := st.shard(name)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	info := ChannelInfo{Name: name}
	if ch := sh.channels[name]; ch != nil {
		info.Occupied = true
		info.SubscriptionCount = len(ch.subs)
		info.UserCount = len(ch.members)
	}
	if e, ok := sh.cache[name]; ok && now.Before(e.expires) {
		info.Cache = &CachedEvent{Event: e.event, Data: e.data, TTL: e.expires.Sub(now)}
	}
	return info
}

func (st *appState) presenceUsers(name string) []string {
	sh := st.shard(name)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	ids := []string{}
	if ch := sh.channels[name]; ch != nil {
		for id := range ch.members {
			ids = append(ids, id)
		}
	}
	return ids
}

// signIn records c as signed in as userID watching watchlist. It returns
// whether the user just came online here, and which watched users are
// online now.
func (st *appState) signIn(c *conn, userID string, watchlist []string) (cameOnline bool, online []string) {
	st.usersMu.Lock()
	defer st.usersMu.Unlock()
	set := st.users[userID]
	if set == nil {
		set = make(map[*conn]struct{})
		st.users[userID] = set
		cameOnline = true
	}
	set[c] = struct{}{}
	for _, id := range watchlist {
		w := st.watchers[id]
		if w == nil {
			w = make(map[*conn]struct{})
			st.watchers[id] = w
		}
		w[c] = struct{}{}
		if len(st.users[id]) > 0 {
			online = append(online, id)
		}
	}
	if cameOnline {
		if st.cluster != nil {
			st.cluster.Change(StateChange{Kind: MemberJoined, AppID: st.id, Channel: onlineChannel, UserID: userID, SocketID: c.socketID})
		} else {
			st.notifyWatchersLocked(userID, "online")
		}
	}
	return cameOnline, online
}

// signOut forgets a signed-in connection and tells watchers when its user
// goes offline.
func (st *appState) signOut(c *conn, userID string, watchlist []string) {
	st.usersMu.Lock()
	defer st.usersMu.Unlock()
	for _, id := range watchlist {
		if w := st.watchers[id]; w != nil {
			delete(w, c)
			if len(w) == 0 {
				delete(st.watchers, id)
			}
		}
	}
	set := st.users[userID]
	if set == nil {
		return
	}
	delete(set, c)
	if len(set) == 0 {
		delete(st.users, userID)
		if st.cluster != nil {
			st.cluster.Change(StateChange{Kind: MemberLeft, AppID: st.id, Channel: onlineChannel, UserID: userID, SocketID: c.socketID})
		} else {
			st.notifyWatchersLocked(userID, "offline")
		}
	}
}

// notifyWatchers queues a watchlist event about userID to its watchers
// here.
func (st *appState) notifyWatchers(userID string, frame []byte) {
	st.usersMu.Lock()
	defer st.usersMu.Unlock()
	for c := range st.watchers[userID] {
		c.send(frame)
	}
}

func (st *appState) notifyWatchersLocked(userID, name string) {
	w := st.watchers[userID]
	if len(w) == 0 {
		return
	}
	frame := encodeWatchlistEvent(name, []string{userID})
	for c := range w {
		c.send(frame)
	}
}

func (st *appState) userConns(userID string) []*conn {
	st.usersMu.Lock()
	defer st.usersMu.Unlock()
	out := make([]*conn, 0, len(st.users[userID]))
	for c := range st.users[userID] {
		out = append(out, c)
	}
	return out
}

// sendToUser queues a #server-to-user-{id} frame to the user's connections.
func (st *appState) sendToUser(userID string, frame []byte, exclude string) {
	st.usersMu.Lock()
	defer st.usersMu.Unlock()
	for c := range st.users[userID] {
		if exclude == "" || c.socketID != exclude {
			c.send(frame)
		}
	}
}

type presenceData struct {
	Presence presenceSet `json:"presence"`
}

type presenceSet struct {
	IDs   []string                   `json:"ids"`
	Hash  map[string]json.RawMessage `json:"hash"`
	Count int                        `json:"count"`
}

type memberAddedData struct {
	UserID   string          `json:"user_id"`
	UserInfo json.RawMessage `json:"user_info,omitempty"`
}

type memberRemovedData struct {
	UserID string `json:"user_id"`
}

func subscriptionSucceeded(name string, ch *channel) []byte {
	if ch.members == nil {
		return encodeEvent(evSubscriptionSucceeded, name, "{}")
	}
	members := make(map[string]json.RawMessage, len(ch.members))
	for id, m := range ch.members {
		members[id] = m.info
	}
	return encodePresenceSucceeded(name, members)
}

// encodePresenceSucceeded is a presence channel's subscription_succeeded
// with its member list.
func encodePresenceSucceeded(name string, members map[string]json.RawMessage) []byte {
	set := presenceSet{IDs: make([]string, 0, len(members)), Hash: make(map[string]json.RawMessage, len(members)), Count: len(members)}
	for id, info := range members {
		set.IDs = append(set.IDs, id)
		if len(info) == 0 {
			info = json.RawMessage("null")
		}
		set.Hash[id] = info
	}
	return encodeJSONEvent(evSubscriptionSucceeded, name, presenceData{Presence: set})
}

// storeCached keeps a cache channel's event fetched from the cluster,
// unless a newer one arrived here meanwhile.
func (st *appState) storeCached(name string, frame []byte, now time.Time) {
	sh := st.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.cache[name]; ok && now.Before(e.expires) {
		return
	}
	sh.cache[name] = cacheEntry{frame: frame, expires: now.Add(CacheTTL)}
}

func encodeCacheMiss(name string) []byte {
	b := []byte(`{"event":"pusher:cache_miss","channel":`)
	b = appendJSONString(b, name)
	return append(b, '}')
}

type watchlistEvents struct {
	Events []watchlistEvent `json:"events"`
}

type watchlistEvent struct {
	Name    string   `json:"name"`
	UserIDs []string `json:"user_ids"`
}

func encodeWatchlistEvent(name string, ids []string) []byte {
	return encodeJSONEvent(evWatchlistEvents, "", watchlistEvents{Events: []watchlistEvent{{Name: name, UserIDs: ids}}})
}
