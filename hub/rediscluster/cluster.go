// Package rediscluster joins Switchboard replicas into one Pusher server
// through Redis (github.com/redis/go-redis/v9): it is the hub.Cluster used
// when SWITCHBOARD_REDIS_URL is set. A plain Redis, Sentinel or Redis
// Cluster all work, through go-redis's universal client.
//
// Traffic: every channel has its own pub/sub topic, and a replica is
// subscribed to a topic only while it has a local subscriber on the
// channel (or a signed-in user, for #server-to-user-{id}). A publication is
// delivered locally at once and sent with one PUBLISH, which Redis passes
// only to the replicas listening; a replica ignores its own. So traffic
// scales with the channels' real audience, not with the replica count, and
// Redis holds one subscription per (replica, occupied channel).
//
// State: subscription counts, occupied channels, presence members and
// cache-channel events live in Redis (see keys.go), written by small Lua
// scripts that report cluster-wide transitions (occupied, vacated, member
// added, member removed) to exactly one replica, which sends the webhooks
// and member events. A replica applies its own changes from one goroutine,
// batched and in order, so a slow Redis never blocks a connection.
//
// Failure: each replica renews a lease every Heartbeat; survivors reap a
// replica whose lease lapsed (NodeTimeout), removing its presence members
// (member_removed is sent) and subscription counts. A replica that loses
// Redis keeps delivering locally, reports not ready, retries, and when
// Redis answers again re-sends its whole share of the state.
package rediscluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard-inbox/switchboard/hub"
)

// Options configure a Cluster. Zero values take the documented defaults.
type Options struct {
	// Client is the Redis connection; required. Close closes it.
	Client redis.UniversalClient
	// Prefix starts every key and topic, so several clusters can share a
	// Redis. Default "switchboard".
	Prefix string
	// NodeID names this replica; default random. Two live replicas must
	// never share one.
	NodeID string
	Logger *slog.Logger
	// Registerer receives the broker's metrics; nil disables them.
	Registerer prometheus.Registerer
	// Heartbeat is how often the lease is renewed and dead replicas are
	// looked for. Default 5 s.
	Heartbeat time.Duration
	// NodeTimeout is how long a lease lasts: a replica silent that long
	// is reaped. Default 15 s, so a dead replica's members are gone within
	// NodeTimeout + Heartbeat (20 s).
	NodeTimeout time.Duration
	// QueueSize bounds publications waiting for Redis; beyond it they are
	// delivered locally only, and counted as dropped. Default 65536.
	QueueSize int
}

func (o *Options) setDefaults() {
	if o.Prefix == "" {
		o.Prefix = "switchboard"
	}
	if o.NodeID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		o.NodeID = hex.EncodeToString(b[:])
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 5 * time.Second
	}
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = 3 * o.Heartbeat
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 65536
	}
}

// opTimeout bounds one round of Redis commands.
const opTimeout = 5 * time.Second

// publishBatch is the most publications sent in one pipeline.
const publishBatch = 256

// Cluster is a hub.Cluster over Redis.
type Cluster struct {
	opts    Options
	rdb     redis.UniversalClient
	k       keys
	node    string
	log     *slog.Logger
	metrics *metrics

	h  hub.BrokerEventHandler
	ps *redis.PubSub

	out chan hub.Publication // waiting for Redis

	// Topic subscriptions: refs are Listen counts; the topic loop makes
	// Redis match them; confirmed topics deliver.
	tmu       sync.Mutex
	refs      map[string]int
	confirmed map[string]bool
	waiting   map[string][]chan struct{}
	topicOps  chan string

	// Changes queued by the hub, applied by the state loop.
	cmu     sync.Mutex
	changes []hub.StateChange
	wake    chan struct{}

	// leaderUntil is when this replica's leadership lapses unless renewed
	// (unix nanoseconds; 0 when it is not the leader).
	leaderUntil atomic.Int64
	// down is set while Redis is known to be unreachable: reads and
	// Listen then fail at once instead of making subscribers wait.
	down atomic.Bool

	stopState chan struct{}
	stopPub   chan struct{}
	stopTopic chan struct{}
	stateDone chan struct{}
	pubDone   chan struct{}
	recvDone  chan struct{}
	topicDone chan struct{}
	closeOnce sync.Once
}

var _ hub.Cluster = (*Cluster)(nil)

// errDown answers reads while Redis is known to be unreachable.
var errDown = errors.New("rediscluster: redis unavailable")

// New returns a Cluster; the hub starts it.
func New(opts Options) (*Cluster, error) {
	if opts.Client == nil {
		return nil, errors.New("rediscluster: Options.Client is required")
	}
	opts.setDefaults()
	c := &Cluster{
		opts:      opts,
		rdb:       opts.Client,
		k:         keys{prefix: opts.Prefix},
		node:      opts.NodeID,
		log:       opts.Logger.With(slog.String("node", opts.NodeID)),
		out:       make(chan hub.Publication, opts.QueueSize),
		refs:      make(map[string]int),
		confirmed: make(map[string]bool),
		waiting:   make(map[string][]chan struct{}),
		topicOps:  make(chan string, 4096),
		wake:      make(chan struct{}, 1),
		stopState: make(chan struct{}),
		stopPub:   make(chan struct{}),
		stopTopic: make(chan struct{}),
		stateDone: make(chan struct{}),
		pubDone:   make(chan struct{}),
		recvDone:  make(chan struct{}),
		topicDone: make(chan struct{}),
	}
	c.metrics = newMetrics(opts.Registerer, func() float64 { return float64(len(c.out)) })
	return c, nil
}

// NodeID returns this replica's name in the cluster.
func (c *Cluster) NodeID() string { return c.node }

// Start implements hub.Broker: it starts receiving, publishing and
// applying state. Redis need not be reachable yet.
func (c *Cluster) Start(h hub.BrokerEventHandler) error {
	c.h = h
	c.ps = c.rdb.Subscribe(context.Background())
	go c.receive()
	go c.publishLoop()
	go c.topicLoop()
	go c.stateLoop()
	return nil
}

// Leader reports whether this replica is the cluster's leader: exactly
// one replica at a time is, for work that must run once per cluster (the
// inbox relay). Leadership is a lease renewed every Heartbeat; when its
// holder dies another replica takes over within NodeTimeout + Heartbeat.
// Without Redis a leader stays one until its lease would have lapsed,
// while no other replica can take it.
func (c *Cluster) Leader() bool {
	return time.Now().UnixNano() < c.leaderUntil.Load()
}

// Ping reports whether Redis answers, for /readyz.
func (c *Cluster) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Close applies the changes still queued, removes this replica from the
// cluster, sends the publications still queued and closes the client. The hub
// calls it after closing every connection.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		close(c.stopState)
		<-c.stateDone
		close(c.stopPub)
		<-c.pubDone
		close(c.stopTopic)
		<-c.topicDone
		_ = c.ps.Close()
		<-c.recvDone
		_ = c.rdb.Close()
	})
	return nil
}

// Publish implements hub.Broker: local subscribers get p at once, other
// replicas through Redis. It never blocks: when Redis is too far behind,
// p reaches this replica only and is counted as dropped.
func (c *Cluster) Publish(_ context.Context, p hub.Publication) error {
	c.h.HandlePublication(p)
	select {
	case c.out <- p:
	default:
		c.metrics.dropped.Inc()
	}
	return nil
}

func (c *Cluster) publishLoop() {
	defer close(c.pubDone)
	batch := make([]hub.Publication, 0, publishBatch)
	for {
		select {
		case p := <-c.out:
			batch = append(batch[:0], p)
		case <-c.stopPub:
			// Send what is left, as far as Redis lets us.
			for {
				batch = batch[:0]
				for len(batch) < publishBatch {
					select {
					case p := <-c.out:
						batch = append(batch, p)
						continue
					default:
					}
					break
				}
				if len(batch) == 0 || c.send(batch) != nil {
					return
				}
			}
		}
	drain:
		for len(batch) < publishBatch {
			select {
			case p := <-c.out:
				batch = append(batch, p)
			default:
				break drain
			}
		}
		_ = c.send(batch)
	}
}

// send publishes a batch in one pipeline, storing cache channels' events.
func (c *Cluster) send(batch []hub.Publication) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	now := time.Now()
	pipe := c.rdb.Pipeline()
	for _, p := range batch {
		pipe.Publish(ctx, c.k.topic(p.AppID, p.Channel), encodeMessage(c.node, now, p))
		if p.Cacheable {
			pipe.Set(ctx, c.k.cache(p.AppID, p.Channel), encodeCached(p), hub.CacheTTL)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		c.metrics.publishErrors.Add(float64(len(batch)))
		c.log.Warn("redis publish failed; the batch reached this replica only", slog.Int("publications", len(batch)), slog.Any("err", err))
		return err
	}
	c.metrics.published.Add(float64(len(batch)))
	return nil
}

// receive hands other replicas' publications to the hub and marks topic
// subscriptions confirmed.
func (c *Cluster) receive() {
	defer close(c.recvDone)
	for msg := range c.ps.ChannelWithSubscriptions(redis.WithChannelSize(4096), redis.WithChannelSendTimeout(time.Minute)) {
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				c.confirm(m.Channel)
			}
		case *redis.Message:
			wm, err := decodeMessage([]byte(m.Payload))
			if err != nil {
				c.metrics.malformed.Inc()
				c.log.Warn("malformed message on a topic", slog.String("topic", m.Channel))
				continue
			}
			if wm.origin == c.node {
				continue // delivered locally when published
			}
			c.metrics.received.Inc()
			c.metrics.lag.Observe(time.Since(wm.sent).Seconds())
			c.h.HandlePublication(wm.pub)
		}
	}
}

// Listen implements hub.Cluster.
func (c *Cluster) Listen(ctx context.Context, appID, channel string) error {
	topic := c.k.topic(appID, channel)
	c.tmu.Lock()
	c.refs[topic]++
	if c.confirmed[topic] {
		c.tmu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	c.waiting[topic] = append(c.waiting[topic], ready)
	c.tmu.Unlock()
	select {
	case c.topicOps <- topic:
	case <-ctx.Done():
		return fmt.Errorf("rediscluster: listen: %w", ctx.Err())
	}
	if c.down.Load() {
		// go-redis subscribes the topic when it reconnects.
		return errDown
	}
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rediscluster: listen: %w", ctx.Err())
	}
}

// Unlisten implements hub.Cluster. It never blocks on Redis.
func (c *Cluster) Unlisten(appID, channel string) {
	topic := c.k.topic(appID, channel)
	c.tmu.Lock()
	if c.refs[topic]--; c.refs[topic] <= 0 {
		delete(c.refs, topic)
	}
	c.tmu.Unlock()
	select {
	case c.topicOps <- topic:
	default:
		// The loop is far behind; the topic stays subscribed until a later
		// Listen or Unlisten of it, which only costs unneeded traffic.
		c.metrics.topicOpsDropped.Inc()
	}
}

func (c *Cluster) confirm(topic string) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	c.confirmed[topic] = true
	for _, ch := range c.waiting[topic] {
		close(ch)
	}
	delete(c.waiting, topic)
}

// topicLoop makes Redis's subscriptions match the Listen counts, in the
// order they changed, so a SUBSCRIBE is never overtaken by an older
// UNSUBSCRIBE of the same topic.
func (c *Cluster) topicLoop() {
	defer close(c.topicDone)
	active := make(map[string]bool)
	for {
		var topic string
		select {
		case topic = <-c.topicOps:
		case <-c.stopTopic:
			return
		}
		c.tmu.Lock()
		want := c.refs[topic] > 0
		if !want {
			delete(c.confirmed, topic)
		}
		c.tmu.Unlock()
		if want == active[topic] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		var err error
		if want {
			active[topic] = true
			err = c.ps.Subscribe(ctx, topic)
		} else {
			delete(active, topic)
			err = c.ps.Unsubscribe(ctx, topic)
		}
		cancel()
		if err != nil {
			// go-redis remembers the topic set and re-sends it on reconnect.
			c.log.Warn("redis topic subscription failed", slog.String("topic", topic), slog.Bool("subscribe", want), slog.Any("err", err))
		}
	}
}

// Change implements hub.Cluster. It never blocks.
func (c *Cluster) Change(ch hub.StateChange) {
	c.cmu.Lock()
	c.changes = append(c.changes, ch)
	c.cmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Members implements hub.Cluster.
func (c *Cluster) Members(ctx context.Context, appID, channel string) (map[string]json.RawMessage, error) {
	if c.down.Load() {
		return nil, errDown
	}
	fields, err := c.rdb.HGetAll(ctx, c.k.members(appID, channel)).Result()
	if err != nil {
		return nil, fmt.Errorf("rediscluster: members: %w", err)
	}
	out := make(map[string]json.RawMessage, len(fields))
	for f, info := range fields {
		i := strings.LastIndexByte(f, 0)
		if i < 0 {
			continue
		}
		if info == "" {
			out[f[:i]] = nil
		} else {
			out[f[:i]] = json.RawMessage(info)
		}
	}
	return out, nil
}

// Channels implements hub.Cluster.
func (c *Cluster) Channels(ctx context.Context, appID, prefix string) ([]hub.ChannelInfo, error) {
	var names []string
	iter := c.rdb.SScan(ctx, c.k.chans(appID), 0, globEscape(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		names = append(names, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("rediscluster: channels: %w", err)
	}
	out := make([]hub.ChannelInfo, 0, len(names))
	for start := 0; start < len(names); start += 1000 {
		chunk := names[start:min(start+1000, len(names))]
		infos, err := c.describe(ctx, appID, chunk, false)
		if err != nil {
			return nil, err
		}
		for _, info := range infos {
			if info.Occupied {
				out = append(out, info)
			}
		}
	}
	return out, nil
}

// Channel implements hub.Cluster.
func (c *Cluster) Channel(ctx context.Context, appID, name string) (hub.ChannelInfo, error) {
	infos, err := c.describe(ctx, appID, []string{name}, true)
	if err != nil {
		return hub.ChannelInfo{}, err
	}
	return infos[0], nil
}

// describe reads channels' counts (and cached events) in one pipeline.
func (c *Cluster) describe(ctx context.Context, appID string, names []string, withCache bool) ([]hub.ChannelInfo, error) {
	pipe := c.rdb.Pipeline()
	subs := make([]*redis.StringSliceCmd, len(names))
	users := make([]*redis.IntCmd, len(names))
	caches := make([]*redis.StringCmd, len(names))
	ttls := make([]*redis.DurationCmd, len(names))
	for i, name := range names {
		subs[i] = pipe.HVals(ctx, c.k.subs(appID, name))
		if hub.IsPresenceChannel(name) {
			users[i] = pipe.HLen(ctx, c.k.users(appID, name))
		}
		if withCache && hub.IsCacheChannel(name) {
			caches[i] = pipe.Get(ctx, c.k.cache(appID, name))
			ttls[i] = pipe.PTTL(ctx, c.k.cache(appID, name))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("rediscluster: describe channels: %w", err)
	}
	out := make([]hub.ChannelInfo, len(names))
	for i, name := range names {
		info := hub.ChannelInfo{Name: name}
		for _, v := range subs[i].Val() {
			n, _ := strconv.Atoi(v)
			info.SubscriptionCount += n
		}
		info.Occupied = info.SubscriptionCount > 0
		if users[i] != nil {
			info.UserCount = int(users[i].Val())
		}
		if caches[i] != nil && caches[i].Err() == nil {
			if e, err := decodeCached([]byte(caches[i].Val())); err == nil && ttls[i].Val() > 0 {
				info.Cache = &hub.CachedEvent{Event: e.event, Data: e.data, TTL: ttls[i].Val()}
			}
		}
		out[i] = info
	}
	return out, nil
}

// CachedFrame implements hub.Cluster.
func (c *Cluster) CachedFrame(ctx context.Context, appID, channel string) ([]byte, bool, error) {
	if c.down.Load() {
		return nil, false, errDown
	}
	v, err := c.rdb.Get(ctx, c.k.cache(appID, channel)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("rediscluster: cached event: %w", err)
	}
	e, err := decodeCached(v)
	if err != nil {
		return nil, false, err
	}
	return e.frame, true, nil
}

// Online implements hub.Cluster: users signed in anywhere are the members
// of the internal channel "#online".
func (c *Cluster) Online(ctx context.Context, appID string, users []string) ([]string, error) {
	if c.down.Load() {
		return nil, errDown
	}
	if len(users) == 0 {
		return nil, nil
	}
	vals, err := c.rdb.HMGet(ctx, c.k.users(appID, onlineChannel), users...).Result()
	if err != nil {
		return nil, fmt.Errorf("rediscluster: online: %w", err)
	}
	var out []string
	for i, v := range vals {
		if v != nil {
			out = append(out, users[i])
		}
	}
	return out, nil
}

// onlineChannel is the hub's internal channel of signed-in users.
const onlineChannel = "#online"
