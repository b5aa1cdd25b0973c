package rediscluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard-inbox/switchboard/hub"
)

type chanKey struct{ app, channel string }

type memberKey struct{ app, channel, user string }

// share is this replica's part of the cluster state as the state loop
// knows it. It is the truth; Redis is made to match it.
type share struct {
	subs    map[chanKey]int
	members map[memberKey]json.RawMessage
}

// subsWrite and memberWrite are one node's state of one key, to be
// written to Redis.
type subsWrite struct {
	k      chanKey
	count  int
	socket string
}

type memberWrite struct {
	k       memberKey
	present bool
	info    json.RawMessage
	socket  string
}

// writeChunk bounds the keys written in one pipeline.
const writeChunk = 512

// stateLoop owns the share: it applies the hub's changes, renews the
// lease, reaps dead replicas and re-sends the share after Redis was lost.
func (c *Cluster) stateLoop() {
	defer close(c.stateDone)
	s := &share{subs: make(map[chanKey]int), members: make(map[memberKey]json.RawMessage)}
	dirty := true // not registered yet
	c.heartbeat(s, &dirty)
	t := time.NewTicker(c.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.wake:
			if err := c.apply(s, c.takeChanges()); err != nil {
				c.lost(&dirty, "apply state changes", err)
			}
		case <-t.C:
			c.heartbeat(s, &dirty)
			if !dirty {
				c.reap()
			}
		case <-c.stopState:
			if err := c.apply(s, c.takeChanges()); err != nil {
				c.log.Warn("redis: final state changes failed", slog.Any("err", err))
			}
			c.goodbye()
			return
		}
	}
}

func (c *Cluster) takeChanges() []hub.StateChange {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	out := c.changes
	c.changes = nil
	return out
}

func (c *Cluster) lost(dirty *bool, what string, err error) {
	if !*dirty {
		c.log.Warn("redis unavailable; delivering locally until it returns", slog.String("op", what), slog.Any("err", err))
	}
	*dirty = true
	c.down.Store(true)
	c.metrics.stateErrors.Inc()
}

// apply folds changes into the share and writes the keys they touched.
func (c *Cluster) apply(s *share, changes []hub.StateChange) error {
	if len(changes) == 0 {
		return nil
	}
	subSocket := make(map[chanKey]string)
	memberSocket := make(map[memberKey]string)
	var subOrder []chanKey
	var memberOrder []memberKey
	for _, ch := range changes {
		switch ch.Kind {
		case hub.Subscribed, hub.Unsubscribed:
			k := chanKey{ch.AppID, ch.Channel}
			if ch.Kind == hub.Subscribed {
				s.subs[k]++
			} else if s.subs[k]--; s.subs[k] <= 0 {
				delete(s.subs, k)
			}
			if _, seen := subSocket[k]; !seen {
				subOrder = append(subOrder, k)
			}
			subSocket[k] = ch.SocketID
		case hub.MemberJoined, hub.MemberLeft:
			k := memberKey{ch.AppID, ch.Channel, ch.UserID}
			if ch.Kind == hub.MemberJoined {
				s.members[k] = ch.UserInfo
			} else {
				delete(s.members, k)
			}
			if _, seen := memberSocket[k]; !seen {
				memberOrder = append(memberOrder, k)
			}
			memberSocket[k] = ch.SocketID
		}
	}
	c.metrics.stateChanges.Add(float64(len(changes)))
	subs := make([]subsWrite, len(subOrder))
	for i, k := range subOrder {
		subs[i] = subsWrite{k: k, count: s.subs[k], socket: subSocket[k]}
	}
	members := make([]memberWrite, len(memberOrder))
	for i, k := range memberOrder {
		info, ok := s.members[k]
		members[i] = memberWrite{k: k, present: ok, info: info, socket: memberSocket[k]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return c.write(ctx, c.node, subs, members)
}

// write makes Redis hold node's state of the given keys and reports the
// cluster-wide transitions that caused: channels occupied first, then
// members added or removed, then channels vacated, as Pusher orders its
// webhooks.
func (c *Cluster) write(ctx context.Context, node string, subs []subsWrite, members []memberWrite) error {
	for len(subs) > 0 || len(members) > 0 {
		ns, nm := min(len(subs), writeChunk), min(len(members), writeChunk)
		if err := c.writeChunk(ctx, node, subs[:ns], members[:nm]); err != nil {
			return err
		}
		subs, members = subs[ns:], members[nm:]
	}
	return nil
}

func (c *Cluster) writeChunk(ctx context.Context, node string, subs []subsWrite, members []memberWrite) error {
	pipe := c.rdb.Pipeline()
	subCmds := make([]*redis.Cmd, len(subs))
	for i, w := range subs {
		subCmds[i] = setSubs.Eval(ctx, pipe, []string{c.k.subs(w.k.app, w.k.channel), c.k.chans(w.k.app)}, node, w.count, w.k.channel)
		if w.count > 0 {
			pipe.SAdd(ctx, c.k.nodeSubs(node), subsEntry(w.k.app, w.k.channel))
		} else {
			pipe.SRem(ctx, c.k.nodeSubs(node), subsEntry(w.k.app, w.k.channel))
		}
	}
	memberCmds := make([]*redis.Cmd, len(members))
	for i, w := range members {
		mk := []string{c.k.members(w.k.app, w.k.channel), c.k.users(w.k.app, w.k.channel)}
		entry := memberEntry(w.k.app, w.k.channel, w.k.user)
		if w.present {
			memberCmds[i] = joinMember.Eval(ctx, pipe, mk, w.k.user, node, string(w.info))
			pipe.SAdd(ctx, c.k.nodeMembers(node), entry)
		} else {
			memberCmds[i] = leaveMember.Eval(ctx, pipe, mk, w.k.user, node)
			pipe.SRem(ctx, c.k.nodeMembers(node), entry)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	var vacated []hub.Transition
	for i, w := range subs {
		t := hub.Transition{AppID: w.k.app, Channel: w.k.channel, SocketID: w.socket}
		switch n, _ := subCmds[i].Int(); n {
		case 1:
			t.Kind = hub.ChannelOccupied
			c.h.HandleTransition(t)
		case -1:
			t.Kind = hub.ChannelVacated
			vacated = append(vacated, t)
		}
	}
	for i, w := range members {
		if n, _ := memberCmds[i].Int(); n != 1 {
			continue
		}
		t := hub.Transition{Kind: hub.MemberRemoved, AppID: w.k.app, Channel: w.k.channel, UserID: w.k.user, SocketID: w.socket}
		if w.present {
			t.Kind, t.UserInfo = hub.MemberAdded, w.info
		}
		c.h.HandleTransition(t)
	}
	for _, t := range vacated {
		c.h.HandleTransition(t)
	}
	return nil
}

// heartbeat renews the lease. A lease that is gone (Redis restarted, or
// this replica was silent long enough to be reaped) or a Redis that was
// lost makes it re-send the whole share.
func (c *Cluster) heartbeat(s *share, dirty *bool) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if !*dirty {
		ok, err := c.rdb.SetXX(ctx, c.k.nodeAlive(c.node), "1", c.opts.NodeTimeout).Result()
		if err != nil {
			c.lost(dirty, "renew lease", err)
			return
		}
		if ok {
			c.lead(ctx)
			return
		}
		c.log.Warn("redis lease lost; re-sending this replica's state")
	}
	if err := c.resync(ctx, s); err != nil {
		c.lost(dirty, "re-send state", err)
		return
	}
	if *dirty {
		c.metrics.resyncs.Inc()
		c.log.Info("redis state in sync", slog.Int("channels", len(s.subs)), slog.Int("members", len(s.members)))
	}
	*dirty = false
	c.down.Store(false)
	c.lead(ctx)
}

// lead takes or renews the leader lease.
func (c *Cluster) lead(ctx context.Context) {
	start := time.Now()
	held, err := holdLease.Run(ctx, c.rdb, []string{c.k.leader()}, c.node, c.opts.NodeTimeout.Milliseconds()).Int()
	switch {
	case err != nil:
		// Keep what we had: nobody else can take it while Redis is away,
		// and it lapses on its own.
	case held == 1:
		if c.leaderUntil.Swap(start.Add(c.opts.NodeTimeout-c.opts.Heartbeat).UnixNano()) == 0 {
			c.log.Info("this replica leads the cluster")
		}
	default:
		c.leaderUntil.Store(0)
	}
}

// resync registers this replica and makes Redis hold exactly its share:
// what it holds there but not here is removed, what it holds here is
// written.
func (c *Cluster) resync(ctx context.Context, s *share) error {
	pipe := c.rdb.Pipeline()
	pipe.Set(ctx, c.k.nodeAlive(c.node), "1", c.opts.NodeTimeout)
	pipe.SAdd(ctx, c.k.nodes(), c.node)
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	stale, err := c.held(ctx, c.node)
	if err != nil {
		return err
	}
	var subs []subsWrite
	var members []memberWrite
	for _, w := range stale.subs {
		if s.subs[w.k] == 0 {
			subs = append(subs, w)
		}
	}
	for _, w := range stale.members {
		if _, ok := s.members[w.k]; !ok {
			members = append(members, w)
		}
	}
	for k, n := range s.subs {
		subs = append(subs, subsWrite{k: k, count: n})
	}
	for k, info := range s.members {
		members = append(members, memberWrite{k: k, present: true, info: info})
	}
	return c.write(ctx, c.node, subs, members)
}

// heldState is what a node's index in Redis says it holds, as writes that
// remove it.
type heldState struct {
	subs    []subsWrite
	members []memberWrite
}

func (c *Cluster) held(ctx context.Context, node string) (heldState, error) {
	pipe := c.rdb.Pipeline()
	subs := pipe.SMembers(ctx, c.k.nodeSubs(node))
	members := pipe.SMembers(ctx, c.k.nodeMembers(node))
	if _, err := pipe.Exec(ctx); err != nil {
		return heldState{}, err
	}
	var h heldState
	for _, e := range subs.Val() {
		if app, channel, ok := strings.Cut(e, "\x00"); ok {
			h.subs = append(h.subs, subsWrite{k: chanKey{app, channel}})
		}
	}
	for _, e := range members.Val() {
		if parts := strings.SplitN(e, "\x00", 3); len(parts) == 3 {
			h.members = append(h.members, memberWrite{k: memberKey{parts[0], parts[1], parts[2]}})
		}
	}
	return h, nil
}

// reap removes the state of replicas whose lease lapsed. One survivor
// takes each dead replica, so its member_removed events and webhooks are
// sent once.
func (c *Cluster) reap() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	nodes, err := c.rdb.SMembers(ctx, c.k.nodes()).Result()
	if err != nil {
		return
	}
	pipe := c.rdb.Pipeline()
	alive := make(map[string]*redis.IntCmd, len(nodes))
	for _, n := range nodes {
		if n != c.node {
			alive[n] = pipe.Exists(ctx, c.k.nodeAlive(n))
		}
	}
	if len(alive) == 0 {
		return
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return
	}
	for n, cmd := range alive {
		if cmd.Val() != 0 {
			continue
		}
		ok, err := c.rdb.SetNX(ctx, c.k.nodeReaper(n), c.node, 2*c.opts.NodeTimeout).Result()
		if err != nil || !ok {
			continue
		}
		if err := c.reapNode(ctx, n); err != nil {
			c.log.Warn("reaping a dead replica failed; another survivor will retry", slog.String("dead", n), slog.Any("err", err))
			c.rdb.Del(ctx, c.k.nodeReaper(n))
			continue
		}
		c.metrics.reaped.Inc()
		c.log.Info("reaped a dead replica", slog.String("dead", n))
	}
}

// reapNode removes everything a node holds. It is also this replica's
// goodbye, with its own id.
func (c *Cluster) reapNode(ctx context.Context, node string) error {
	h, err := c.held(ctx, node)
	if err != nil {
		return err
	}
	if err := c.write(ctx, node, h.subs, h.members); err != nil {
		return err
	}
	pipe := c.rdb.Pipeline()
	pipe.Del(ctx, c.k.nodeSubs(node), c.k.nodeMembers(node), c.k.nodeAlive(node))
	pipe.SRem(ctx, c.k.nodes(), node)
	_, err = pipe.Exec(ctx)
	return err
}

// goodbye removes this replica from the cluster on shutdown.
func (c *Cluster) goodbye() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c.leaderUntil.Store(0)
	_ = dropLease.Run(ctx, c.rdb, []string{c.k.leader()}, c.node).Err()
	if err := c.reapNode(ctx, c.node); err != nil && !errors.Is(err, context.Canceled) {
		c.log.Warn("redis: leaving the cluster failed; survivors will reap this replica", slog.Any("err", err))
	}
}
