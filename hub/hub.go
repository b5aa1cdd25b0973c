// Package hub is Switchboard's Pusher-protocol websocket engine: apps,
// sockets, channels, presence, client events, user sign-in and webhooks. It
// speaks Pusher Channels protocol 7 so pusher-js and every Pusher SDK work
// against it unchanged. It knows nothing about conversations: the inbox
// publishes through Publish like any Pusher server SDK would, and the
// server's own components tell each other's replicas things through
// Signal and OnSignal (signal.go).
//
// Lock order (outer first): Hub.mu → appState.connsMu; shard.mu →
// appState.usersMu → conn.wmu. conn.wmu is a leaf: nothing is locked while it
// is held. Each connection's subscription set is owned by its reader
// goroutine and needs no lock.
package hub

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/hub/webhook"
)

// CacheTTL is how long a cache channel keeps its last event, as on Pusher.
const CacheTTL = 30 * time.Minute

// Options configure a Hub. Zero values take the documented defaults.
type Options struct {
	Apps   AppStore
	Logger *slog.Logger
	// Registerer receives the hub's Prometheus metrics; nil disables them.
	Registerer prometheus.Registerer
	// Broker carries publications between replicas; nil is in-process.
	Broker Broker
	// Webhooks sends Pusher webhooks; nil sends none.
	Webhooks *webhook.Dispatcher

	// ActivityTimeout is told to clients, who ping after that much silence;
	// the server pings a client silent that long. Default 120 s.
	ActivityTimeout time.Duration
	// PongTimeout is how long the server waits for a pong (4201 after).
	// Default 30 s.
	PongTimeout time.Duration
	// WriteTimeout bounds one websocket write. Default 10 s.
	WriteTimeout time.Duration
	// MaxMessageBytes is the largest message a client may send; a larger one
	// closes the connection with websocket code 1009. Default 32 KiB.
	MaxMessageBytes int64
	// MaxChannelsPerConnection bounds subscriptions per connection.
	// Default 100.
	MaxChannelsPerConnection int
	// SendQueueFrames bounds a connection's queued outgoing messages; a
	// client that falls further behind is disconnected with 4100.
	// Default 512.
	SendQueueFrames int
	// MaxConnections bounds connections on this server (4100 beyond);
	// zero is unbounded.
	MaxConnections int
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ActivityTimeout <= 0 {
		o.ActivityTimeout = 120 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 32 << 10
	}
	if o.MaxChannelsPerConnection <= 0 {
		o.MaxChannelsPerConnection = 100
	}
	if o.SendQueueFrames <= 0 {
		o.SendQueueFrames = 512
	}
}

// Hub serves Pusher websocket connections and delivers events to them.
type Hub struct {
	opts    Options
	log     *slog.Logger
	broker  Broker
	cluster Cluster // the broker, when it joins replicas; nil on one replica
	metrics *metrics

	mu       sync.Mutex
	states   map[string]*appState // by app id
	closing  bool
	wg       sync.WaitGroup // one per connection, plus the janitor
	conns    atomic.Int64   // connections on this server
	stopJan  chan struct{}
	shutOnce sync.Once

	// sigMu guards signals: the OnSignal handlers by signal name.
	sigMu   sync.Mutex
	signals map[string][]func([]byte)
}

// New returns a Hub ready to serve. Call Shutdown to stop it.
func New(opts Options) (*Hub, error) {
	opts.setDefaults()
	if opts.Apps == nil {
		return nil, errors.New("hub: Options.Apps is required")
	}
	h := &Hub{
		opts:    opts,
		log:     opts.Logger,
		broker:  opts.Broker,
		metrics: newMetrics(opts.Registerer),
		states:  make(map[string]*appState),
		stopJan: make(chan struct{}),
	}
	if h.broker == nil {
		h.broker = NewMemoryBroker()
	}
	h.cluster, _ = h.broker.(Cluster)
	if err := h.broker.Start(h); err != nil {
		return nil, fmt.Errorf("hub: start broker: %w", err)
	}
	h.wg.Add(1)
	go h.janitor()
	return h, nil
}

// state returns the live state of an app, creating it on first use.
func (h *Hub) state(appID string) *appState {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.states[appID]
	if !ok {
		st = newAppState(appID, h.cluster)
		h.states[appID] = st
	}
	return st
}

// lookupState returns an app's live state, or nil when it has none here.
func (h *Hub) lookupState(appID string) *appState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.states[appID]
}

// ServeHTTP upgrades GET /app/{key}?protocol=7 to a Pusher connection and
// serves it until it closes. Refusals (unknown app, bad version, quotas)
// are sent the Pusher way: pusher:error, then a close with the same code.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Pusher clients connect from any origin; channels are protected
		// by signatures, not by the Origin header.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		h.log.Debug("websocket upgrade failed", slog.String("remote", r.RemoteAddr), slog.Any("err", err))
		return
	}
	ws.SetReadLimit(h.opts.MaxMessageBytes)

	app, d := h.admitRequest(r)
	if d != nil {
		h.refuse(ws, d)
		return
	}
	c, d := h.register(ws, app)
	if d != nil {
		h.refuse(ws, d)
		return
	}
	defer h.wg.Done()
	c.serve()
}

// admitRequest checks the URL and the app before a connection is counted.
func (h *Hub) admitRequest(r *http.Request) (*App, *Disconnect) {
	key, ok := strings.CutPrefix(r.URL.Path, "/app/")
	if !ok || key == "" || strings.Contains(key, "/") {
		return nil, DisconnectPathNotFound
	}
	proto := r.URL.Query().Get("protocol")
	if proto == "" {
		return nil, DisconnectNoProtocol
	}
	v, err := strconv.Atoi(proto)
	if err != nil {
		return nil, DisconnectInvalidVersion
	}
	if v < 5 || v > 7 {
		return nil, DisconnectUnsupportedProtocol
	}
	app, err := h.opts.Apps.AppByKey(r.Context(), key)
	if errors.Is(err, ErrAppNotFound) {
		return nil, DisconnectAppNotFound
	}
	if err != nil {
		h.log.Error("app lookup failed", slog.Any("err", err))
		return nil, DisconnectOverCapacity
	}
	if !app.Enabled {
		return nil, DisconnectAppDisabled
	}
	return app, nil
}

// register counts and indexes a new connection, enforcing the server and
// app connection limits. On success the caller owns one h.wg count.
func (h *Hub) register(ws *websocket.Conn, app *App) (*conn, *Disconnect) {
	if n := h.conns.Add(1); h.opts.MaxConnections > 0 && n > int64(h.opts.MaxConnections) {
		h.conns.Add(-1)
		return nil, DisconnectOverCapacity
	}
	st := h.state(app.ID)
	if n := st.conns.Add(1); app.MaxConnections > 0 && n > int64(app.MaxConnections) {
		st.conns.Add(-1)
		h.conns.Add(-1)
		return nil, DisconnectOverQuota
	}
	c := newConn(h, ws, app, st)
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		st.conns.Add(-1)
		h.conns.Add(-1)
		return nil, DisconnectShutdown
	}
	h.wg.Add(1)
	h.mu.Unlock()
	st.addConn(c)
	h.metrics.connections.Inc()
	h.metrics.connects.WithLabelValues("ok").Inc()
	return c, nil
}

// unregister undoes register once the connection's goroutines are done.
func (h *Hub) unregister(c *conn) {
	c.st.removeConn(c)
	c.st.conns.Add(-1)
	h.conns.Add(-1)
	h.metrics.connections.Dec()
}

// refuse sends a refusal and closes a connection that was never admitted.
func (h *Hub) refuse(ws *websocket.Conn, d *Disconnect) {
	h.metrics.connects.WithLabelValues(strconv.Itoa(d.Code)).Inc()
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.WriteTimeout)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, encodeError(d.Code, d.Message)); err != nil {
		ws.CloseNow()
		return
	}
	closeWS(ws, d)
}

// closeWS closes ws with d's code. The close handshake is bounded by the
// websocket library (5 s); the reason is cut to fit a control frame.
func closeWS(ws *websocket.Conn, d *Disconnect) {
	reason := d.Message
	if len(reason) > 120 {
		reason = reason[:120]
	}
	if err := ws.Close(websocket.StatusCode(d.Code), reason); err != nil {
		ws.CloseNow()
	}
}

// Event is one event published to channels, as the HTTP API takes it.
type Event struct {
	Name     string
	Channels []string
	Data     string
	// SocketID, when set, is excluded from delivery.
	SocketID string
}

// Publish delivers ev to every subscriber of its channels on every
// replica. Data is sent as given; the frame is encoded once per channel.
func (h *Hub) Publish(ctx context.Context, app *App, ev Event) error {
	for _, ch := range ev.Channels {
		p := Publication{
			AppID:    app.ID,
			Channel:  ch,
			Event:    ev.Name,
			Data:     ev.Data,
			SocketID: ev.SocketID,
			Frame:    encodeEvent(ev.Name, ch, ev.Data),
		}
		p.Cacheable = IsCacheChannel(ch)
		if err := h.broker.Publish(ctx, p); err != nil {
			return fmt.Errorf("hub: publish to %s: %w", ch, err)
		}
		h.metrics.published.Inc()
	}
	return nil
}

// HandlePublication implements BrokerEventHandler: it delivers a
// publication to this replica's subscribers.
func (h *Hub) HandlePublication(p Publication) {
	if h.handleSignal(p) {
		return
	}
	st := h.state(p.AppID)
	if user, ok := strings.CutPrefix(p.Channel, prefixWatch); ok {
		st.notifyWatchers(user, p.Frame)
		return
	}
	if user, ok := strings.CutPrefix(p.Channel, prefixServerToUser); ok {
		if p.Terminate {
			for _, c := range st.userConns(user) {
				c.close(DisconnectUnauthorized)
			}
			return
		}
		st.sendToUser(user, p.Frame, p.SocketID)
		return
	}
	n := st.deliver(p, time.Now())
	h.metrics.delivered.Add(float64(n))
}

// HandleTransition implements BrokerEventHandler: a change of cluster-wide
// state, reported to exactly one replica, which sends its webhooks and
// tells the channel's members on every replica.
func (h *Hub) HandleTransition(t Transition) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if t.Channel == onlineChannel {
		// A user signed in (or out) on its first (or last) replica: its
		// watchers, wherever they are, hear it.
		name := "online"
		if t.Kind == MemberRemoved {
			name = "offline"
		}
		p := Publication{AppID: t.AppID, Channel: prefixWatch + t.UserID, Frame: encodeWatchlistEvent(name, []string{t.UserID})}
		if err := h.broker.Publish(ctx, p); err != nil {
			h.log.Warn("watchlist event publish failed", slog.String("app", t.AppID), slog.Any("err", err))
		}
		return
	}
	app, err := h.opts.Apps.AppByID(ctx, t.AppID)
	if err != nil {
		h.log.Warn("cluster transition for an unknown app", slog.String("app", t.AppID), slog.Any("err", err))
		return
	}
	var frame []byte
	switch t.Kind {
	case ChannelOccupied:
		h.webhook(app, webhook.Event{Name: WebhookChannelOccupied, Channel: t.Channel})
	case ChannelVacated:
		h.webhook(app, webhook.Event{Name: WebhookChannelVacated, Channel: t.Channel})
	case MemberAdded:
		frame = encodeJSONEvent(evMemberAdded, t.Channel, memberAddedData{UserID: t.UserID, UserInfo: t.UserInfo})
		h.webhook(app, webhook.Event{Name: WebhookMemberAdded, Channel: t.Channel, UserID: t.UserID})
	case MemberRemoved:
		frame = encodeJSONEvent(evMemberRemoved, t.Channel, memberRemovedData{UserID: t.UserID})
		h.webhook(app, webhook.Event{Name: WebhookMemberRemoved, Channel: t.Channel, UserID: t.UserID})
	}
	if frame == nil {
		return
	}
	p := Publication{AppID: t.AppID, Channel: t.Channel, SocketID: t.SocketID, Frame: frame}
	if err := h.broker.Publish(ctx, p); err != nil {
		h.log.Warn("member event publish failed", slog.String("app", t.AppID), slog.String("channel", t.Channel), slog.Any("err", err))
	}
}

// ChannelInfo describes an occupied channel (or an empty one, Occupied
// false) for the HTTP API.
type ChannelInfo struct {
	Name              string
	Occupied          bool
	SubscriptionCount int
	// UserCount is the number of distinct presence members.
	UserCount int
	// Cache is the cached last event of a cache channel, if any.
	Cache *CachedEvent
}

// CachedEvent is a cache channel's last event.
type CachedEvent struct {
	Event string
	Data  string
	// TTL is the time left before the event expires.
	TTL time.Duration
}

// Channels lists the app's occupied channels whose names start with prefix,
// sorted by name.
func (h *Hub) Channels(ctx context.Context, app *App, prefix string) ([]ChannelInfo, error) {
	var out []ChannelInfo
	if h.cluster != nil {
		var err error
		if out, err = h.cluster.Channels(ctx, app.ID, prefix); err != nil {
			return nil, fmt.Errorf("hub: cluster channels: %w", err)
		}
	} else if st := h.lookupState(app.ID); st != nil {
		out = st.channels(prefix)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Channel describes one channel; an unknown channel is not occupied.
func (h *Hub) Channel(ctx context.Context, app *App, name string) (ChannelInfo, error) {
	if h.cluster != nil {
		info, err := h.cluster.Channel(ctx, app.ID, name)
		if err != nil {
			return ChannelInfo{}, fmt.Errorf("hub: cluster channel: %w", err)
		}
		return info, nil
	}
	st := h.lookupState(app.ID)
	if st == nil {
		return ChannelInfo{Name: name}, nil
	}
	return st.channel(name, time.Now()), nil
}

// PresenceUsers returns the user ids present on a presence channel, sorted.
func (h *Hub) PresenceUsers(ctx context.Context, app *App, channel string) ([]string, error) {
	if h.cluster != nil {
		members, err := h.cluster.Members(ctx, app.ID, channel)
		if err != nil {
			return nil, fmt.Errorf("hub: cluster members: %w", err)
		}
		ids := make([]string, 0, len(members))
		for id := range members {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return ids, nil
	}
	st := h.lookupState(app.ID)
	if st == nil {
		return []string{}, nil
	}
	ids := st.presenceUsers(channel)
	sort.Strings(ids)
	return ids, nil
}

// TerminateUserConnections closes every connection signed in as userID,
// on every replica, with 4009.
func (h *Hub) TerminateUserConnections(ctx context.Context, app *App, userID string) error {
	p := Publication{AppID: app.ID, Channel: prefixServerToUser + userID, Terminate: true}
	if err := h.broker.Publish(ctx, p); err != nil {
		return fmt.Errorf("hub: terminate: %w", err)
	}
	return nil
}

// Connections returns the number of connections open on this server.
func (h *Hub) Connections() int { return int(h.conns.Load()) }

// Ready reports whether the hub can serve: not shutting down, and its
// broker reachable when the broker can tell.
func (h *Hub) Ready(ctx context.Context) error {
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		return errors.New("hub: shutting down")
	}
	if p, ok := h.broker.(interface{ Ping(context.Context) error }); ok {
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("hub: broker: %w", err)
		}
	}
	return nil
}

// Shutdown tells every client to reconnect (4200), closes their
// connections and waits for all of the hub's goroutines, or for ctx.
// Connections arriving meanwhile are refused with 4200.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	states := make([]*appState, 0, len(h.states))
	for _, st := range h.states {
		states = append(states, st)
	}
	h.mu.Unlock()
	h.shutOnce.Do(func() { close(h.stopJan) })
	for _, st := range states {
		for _, c := range st.allConns() {
			c.close(DisconnectShutdown)
		}
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("hub: shutdown: %w", ctx.Err())
	}
	if c, ok := h.broker.(interface{ Close() error }); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("hub: close broker: %w", err)
		}
	}
	return nil
}

// janitor drops expired cache-channel events once a minute.
func (h *Hub) janitor() {
	defer h.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-h.stopJan:
			return
		case now := <-t.C:
			h.mu.Lock()
			states := make([]*appState, 0, len(h.states))
			for _, st := range h.states {
				states = append(states, st)
			}
			h.mu.Unlock()
			for _, st := range states {
				st.expireCache(now)
			}
		}
	}
}

// webhook queues a webhook event for app, if it has webhooks.
func (h *Hub) webhook(app *App, ev webhook.Event) {
	if h.opts.Webhooks == nil || len(app.Webhooks) == 0 {
		return
	}
	src := webhook.Source{AppID: app.ID, Key: app.Key, Secret: app.Secret}
	for _, w := range app.Webhooks {
		src.Targets = append(src.Targets, webhook.Target{URL: w.URL, EventTypes: w.EventTypes})
	}
	h.opts.Webhooks.Enqueue(src, ev)
}

// newSocketID returns an unguessable socket id of the form \d+\.\d+.
func newSocketID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("hub: crypto/rand: %v", err)) // never fails on Linux
	}
	a := binary.LittleEndian.Uint64(b[:8]) >> 11 // keep ids within JS's safe integers
	c := binary.LittleEndian.Uint64(b[8:]) >> 11
	return strconv.FormatUint(a, 10) + "." + strconv.FormatUint(c, 10)
}
