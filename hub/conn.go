package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/switchboard-inbox/switchboard/hub/webhook"
)

// conn is one Pusher connection. Its reader goroutine (the HTTP handler's)
// owns the subscription and sign-in state. Writing is done by a writer
// goroutine that exists only while frames are queued, so an idle
// connection holds a single goroutine; liveness is a timer, not a
// goroutine. Other goroutines only queue frames or ask it to close.
type conn struct {
	hub      *Hub
	ws       *websocket.Conn
	app      *App
	st       *appState
	socketID string
	lastRead atomic.Int64 // unix nanoseconds of the last message from the client
	pingSent atomic.Int64 // unix nanoseconds of the last unanswered server ping, or 0
	liveness *time.Timer  // runs checkLiveness

	// Reader-goroutine state.
	subs      map[string]struct{}
	userID    string // set after a successful sign-in
	watchlist []string
	limiter   *rate.Limiter // client events; created on first use

	// Writer state: used by one writer goroutine at a time, handed over
	// under wmu through the writing flag.
	writeDeadline *time.Timer // closes the socket when a batch write stalls

	// Write queue. wmu is a leaf lock.
	wmu     sync.Mutex
	queue   [][]byte
	spare   [][]byte
	held    map[string][][]byte // frames of channels whose subscription is not yet answered
	closing *Disconnect         // set once: write what is queued, then close
	writing bool                // a writer goroutine is running
	done    bool                // the socket is closed for writing; no writer starts again
	writers sync.WaitGroup      // the running writer, if any
}

func newConn(h *Hub, ws *websocket.Conn, app *App, st *appState) *conn {
	c := &conn{
		hub:      h,
		ws:       ws,
		app:      app,
		st:       st,
		socketID: newSocketID(),
	}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// send queues a frame without blocking. A connection whose queue is full
// is a slow consumer: it is disconnected rather than allowed to fall
// further behind or to slow the sender.
func (c *conn) send(frame []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.sendLocked(frame)
}

func (c *conn) sendLocked(frame []byte) {
	if c.closing != nil {
		return
	}
	if len(c.queue) >= c.hub.opts.SendQueueFrames {
		c.slowLocked()
		return
	}
	c.queue = append(c.queue, frame)
	c.startWriterLocked()
}

func (c *conn) slowLocked() {
	c.closing = DisconnectSlowConsumer
	c.queue = c.queue[:0]
	c.held = nil
	c.hub.metrics.slowConsumers.Inc()
	c.startWriterLocked()
}

// sendOn queues a frame published on a channel. While the channel's
// subscription is held (see hold) the frame waits behind the answer to it;
// held frames count against the same queue bound.
func (c *conn) sendOn(channel string, frame []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if q, ok := c.held[channel]; ok && c.closing == nil {
		if len(q)+len(c.queue) >= c.hub.opts.SendQueueFrames {
			c.slowLocked()
			return
		}
		c.held[channel] = append(q, frame)
		return
	}
	c.sendLocked(frame)
}

// hold makes the channel's frames wait until release: a cluster presence
// subscription is answered with a member list fetched after the
// subscription began, and no member event may overtake that answer.
func (c *conn) hold(channel string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.held == nil {
		c.held = make(map[string][][]byte)
	}
	c.held[channel] = [][]byte{}
}

// release queues first, then the channel's held frames, and stops holding.
func (c *conn) release(channel string, first []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	q := c.held[channel]
	delete(c.held, channel)
	c.sendLocked(first)
	for _, f := range q {
		c.sendLocked(f)
	}
}

// unhold drops a channel's held frames.
func (c *conn) unhold(channel string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	delete(c.held, channel)
}

// close asks the writer to close the connection with d once what is queued
// has been written. The first reason wins.
func (c *conn) close(d *Disconnect) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing == nil {
		c.closing = d
	}
	c.startWriterLocked()
}

// startWriterLocked starts a writer unless one is running or the socket is
// done. c.wmu must be held.
func (c *conn) startWriterLocked() {
	if c.writing || c.done {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// serve runs the connection: it reads until the socket closes, then waits
// for the writer and undoes every subscription and sign-in.
func (c *conn) serve() {
	h := c.hub
	c.liveness = time.AfterFunc(h.opts.ActivityTimeout, c.checkLiveness)
	c.send(encodeJSONEvent(evConnectionEstablished, "", struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}{c.socketID, int(h.opts.ActivityTimeout / time.Second)}))

	c.readLoop()

	c.liveness.Stop()
	// Make sure a writer runs to the end, even if the read failed on its own.
	c.close(&Disconnect{Code: int(websocket.StatusNormalClosure), Message: "closed"})
	c.writers.Wait()
	c.cleanup()
	h.unregister(c)
}

// checkLiveness runs when the client has been silent for ActivityTimeout:
// it pings, and closes with 4201 when a ping stays unanswered for
// PongTimeout.
func (c *conn) checkLiveness() {
	c.wmu.Lock()
	over := c.closing != nil
	c.wmu.Unlock()
	if over {
		return // closing or closed: do not re-arm and keep a dead connection alive
	}
	opts := c.hub.opts
	now := time.Now()
	last := time.Unix(0, c.lastRead.Load())
	sent := c.pingSent.Load()
	switch {
	case now.Sub(last) < opts.ActivityTimeout:
		c.pingSent.Store(0)
		c.liveness.Reset(opts.ActivityTimeout - now.Sub(last))
	case sent == 0 || last.UnixNano() > sent:
		c.pingSent.Store(now.UnixNano())
		c.send(encodeEvent(evPing, "", "{}"))
		c.liveness.Reset(opts.PongTimeout)
	default:
		c.close(DisconnectPongTimeout)
	}
}

func (c *conn) readLoop() {
	for {
		// No context: a cancellable one costs the websocket library a
		// callback registration per read. The read ends when the socket
		// is closed, by the client or by the writer.
		typ, msg, err := c.ws.Read(context.Background())
		if err != nil {
			if websocket.CloseStatus(err) == -1 {
				c.hub.log.Debug("read ended", slog.String("app", c.app.ID), slog.String("socket_id", c.socketID), slog.Any("err", err))
			}
			return
		}
		c.lastRead.Store(time.Now().UnixNano())
		c.hub.metrics.received.Inc()
		if typ != websocket.MessageText {
			c.sendError(CodeBadMessage, "binary messages are not supported")
			continue
		}
		c.handle(msg)
	}
}

func (c *conn) sendError(code int, msg string) {
	c.send(encodeError(code, msg))
}

// handle dispatches one client message.
func (c *conn) handle(msg []byte) {
	// The websocket library does not validate text frames; relaying
	// invalid UTF-8 in a client event would make browsers drop the
	// receivers' connections (1007).
	if !utf8.Valid(msg) {
		c.sendError(CodeBadMessage, "message is not valid UTF-8")
		return
	}
	var f inFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		c.sendError(CodeBadMessage, "malformed message: "+jsonErrorText(err))
		return
	}
	switch {
	case f.Event == evPing:
		c.send(encodeEvent(evPong, "", "{}"))
	case f.Event == evPong:
		// Activity was recorded on read.
	case f.Event == evSubscribe:
		c.handleSubscribe(f.Data)
	case f.Event == evUnsubscribe:
		c.handleUnsubscribe(f.Data)
	case f.Event == evSignin:
		c.handleSignin(f.Data)
	case strings.HasPrefix(f.Event, clientEventPrefix):
		c.handleClientEvent(f)
	case f.Event == "":
		c.sendError(CodeBadMessage, "message has no event")
	default:
		c.sendError(CodeBadMessage, fmt.Sprintf("unknown event %q", truncate(f.Event, 64)))
	}
}

func (c *conn) subscriptionError(channel, typ, msg string, status int) {
	c.send(encodeSubscriptionError(channel, typ, msg, status))
}

func (c *conn) handleSubscribe(raw json.RawMessage) {
	var d subscribeData
	if err := decodeData(raw, &d); err != nil {
		c.sendError(CodeBadMessage, "pusher:subscribe: malformed data")
		return
	}
	name := d.Channel
	if err := ValidateChannelName(name); err != nil {
		c.subscriptionError(name, "InvalidChannel", err.Error(), 400)
		return
	}
	kind := KindOf(name)
	if kind == KindServerToUser {
		// pusher-js subscribes to its own user channel after sign-in.
		// Delivery goes through the signed-in user index; this only
		// acknowledges the subscription.
		if c.userID == "" || name != prefixServerToUser+c.userID {
			c.subscriptionError(name, "AuthError", "sign in as this user first", 401)
			return
		}
		c.send(encodeEvent(evSubscriptionSucceeded, name, "{}"))
		return
	}
	if _, ok := c.subs[name]; !ok && len(c.subs) >= c.hub.opts.MaxChannelsPerConnection {
		c.subscriptionError(name, "LimitReached", fmt.Sprintf("at most %d channels per connection", c.hub.opts.MaxChannelsPerConnection), 403)
		return
	}
	var userID string
	var info json.RawMessage
	if kind.needsAuth() {
		if !checkAuth(c.app, d.Auth, channelAuthMessage(c.socketID, name, presenceOnly(kind, d.ChannelData))) {
			c.subscriptionError(name, "AuthError", "invalid signature", 401)
			return
		}
	}
	if kind == KindPresence {
		var err error
		userID, info, err = parseChannelData(d.ChannelData, c.app.MaxUserInfoBytes)
		if err != nil {
			c.subscriptionError(name, "AuthError", err.Error(), 400)
			return
		}
	}
	_, again := c.subs[name]
	cl := c.hub.cluster
	if cl != nil && !again {
		c.listen(name)
	}
	res := c.st.subscribe(c, name, userID, info, c.app.MaxPresenceMembers, time.Now())
	if cl != nil && kind == KindPresence && !again && !c.finishPresence(name, userID) {
		res.limit = true
	}
	if res.limit {
		c.subscriptionError(name, "LimitReached", fmt.Sprintf("presence channel is full (%d members)", c.app.MaxPresenceMembers), 403)
		return
	}
	if c.subs == nil {
		c.subs = make(map[string]struct{})
	}
	c.subs[name] = struct{}{}
	c.hub.metrics.subscriptions.Inc()
	if res.occupied {
		c.hub.webhook(c.app, webhook.Event{Name: WebhookChannelOccupied, Channel: name})
	}
	if res.memberAdded {
		c.hub.webhook(c.app, webhook.Event{Name: WebhookMemberAdded, Channel: name, UserID: userID})
	}
	if IsCacheChannel(name) && c.st.cacheMissed(name, time.Now()) {
		c.hub.webhook(c.app, webhook.Event{Name: WebhookCacheMiss, Channel: name})
	}
}

// clusterTimeout bounds a connection's wait for the cluster while it
// subscribes; past it the subscription goes ahead with what is known here.
const clusterTimeout = 2 * time.Second

// listen makes the cluster route the channel's publications to this
// replica, and fetches a cache channel's last event this replica has not
// seen. Failures are logged: local delivery works regardless, and the
// cluster catches up when its backend returns.
func (c *conn) listen(name string) {
	cl := c.hub.cluster
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if err := cl.Listen(ctx, c.app.ID, name); err != nil {
		c.hub.log.Warn("cluster listen failed", slog.String("app", c.app.ID), slog.String("channel", name), slog.Any("err", err))
	}
	if !IsCacheChannel(name) || !c.st.cacheMissed(name, time.Now()) {
		return
	}
	frame, ok, err := cl.CachedFrame(ctx, c.app.ID, name)
	if err != nil {
		c.hub.log.Warn("cluster cache read failed", slog.String("app", c.app.ID), slog.String("channel", name), slog.Any("err", err))
	}
	if ok {
		c.st.storeCached(name, frame, time.Now())
	}
}

// finishPresence answers a cluster presence subscription with the
// cluster's member list; on a full channel it undoes the subscription and
// reports false.
func (c *conn) finishPresence(name, userID string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	members, err := c.hub.cluster.Members(ctx, c.app.ID, name)
	cancel()
	if err != nil {
		c.hub.log.Warn("cluster members read failed", slog.String("app", c.app.ID), slog.String("channel", name), slog.Any("err", err))
	}
	if c.st.finishPresence(c, name, userID, members, c.app.MaxPresenceMembers) {
		return true
	}
	c.st.unsubscribe(c, name)
	c.hub.cluster.Unlisten(c.app.ID, name)
	return false
}

func presenceOnly(k ChannelKind, channelData string) string {
	if k == KindPresence {
		return channelData
	}
	return ""
}

// parseChannelData reads a presence subscription's channel_data: a
// non-empty user_id (string or number) and an optional bounded user_info.
func parseChannelData(s string, maxInfo int) (string, json.RawMessage, error) {
	var cd struct {
		UserID   json.RawMessage `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}
	if err := json.Unmarshal([]byte(s), &cd); err != nil {
		return "", nil, fmt.Errorf("channel_data is not a JSON object")
	}
	var id string
	if err := json.Unmarshal(cd.UserID, &id); err != nil {
		var n json.Number
		if err := json.Unmarshal(cd.UserID, &n); err != nil {
			return "", nil, fmt.Errorf("channel_data.user_id must be a string or a number")
		}
		id = n.String()
	}
	if id == "" {
		return "", nil, fmt.Errorf("channel_data.user_id must not be empty")
	}
	if len(cd.UserInfo) > maxInfo {
		return "", nil, fmt.Errorf("channel_data.user_info exceeds %d bytes", maxInfo)
	}
	if bytes.Equal(cd.UserInfo, []byte("null")) {
		cd.UserInfo = nil
	}
	return id, cd.UserInfo, nil
}

func (c *conn) handleUnsubscribe(raw json.RawMessage) {
	var d struct {
		Channel string `json:"channel"`
	}
	if err := decodeData(raw, &d); err != nil || d.Channel == "" {
		c.sendError(CodeBadMessage, "pusher:unsubscribe: malformed data")
		return
	}
	if _, ok := c.subs[d.Channel]; !ok {
		return // unsubscribing from a channel not subscribed is a no-op, as on Pusher
	}
	c.leave(d.Channel)
}

// leave removes one subscription and sends the webhooks it causes.
func (c *conn) leave(name string) {
	delete(c.subs, name)
	c.hub.metrics.subscriptions.Dec()
	res := c.st.unsubscribe(c, name)
	if c.hub.cluster != nil {
		c.hub.cluster.Unlisten(c.app.ID, name)
	}
	if res.memberRemoved {
		c.hub.webhook(c.app, webhook.Event{Name: WebhookMemberRemoved, Channel: name, UserID: res.userID})
	}
	if res.vacated {
		c.hub.webhook(c.app, webhook.Event{Name: WebhookChannelVacated, Channel: name})
	}
}

func (c *conn) handleSignin(raw json.RawMessage) {
	var d signinData
	if err := decodeData(raw, &d); err != nil {
		c.sendError(CodeBadMessage, "pusher:signin: malformed data")
		return
	}
	if !checkAuth(c.app, d.Auth, userAuthMessage(c.socketID, d.UserData)) {
		c.close(DisconnectUnauthorized)
		return
	}
	var ud struct {
		ID        string   `json:"id"`
		Watchlist []string `json:"watchlist"`
	}
	if err := json.Unmarshal([]byte(d.UserData), &ud); err != nil || ud.ID == "" {
		c.close(&Disconnect{Code: DisconnectUnauthorized.Code, Message: "user_data must be a JSON object with a non-empty string id"})
		return
	}
	if len(ud.Watchlist) > MaxWatchlist {
		c.sendError(CodeWatchlistTooLong, fmt.Sprintf("watchlist has %d entries, at most %d allowed", len(ud.Watchlist), MaxWatchlist))
		return
	}
	if c.hub.cluster != nil {
		c.listen(prefixServerToUser + ud.ID)
		for _, id := range ud.Watchlist {
			c.listen(prefixWatch + id)
		}
	}
	if c.userID != "" {
		c.signOut()
	}
	c.userID, c.watchlist = ud.ID, ud.Watchlist
	// Index the user before telling the client: once it sees
	// signin_success, send-to-user and terminate must find this connection.
	_, online := c.st.signIn(c, ud.ID, ud.Watchlist)
	if c.hub.cluster != nil && len(ud.Watchlist) > 0 {
		online = c.onlineInCluster(ud.Watchlist, online)
	}
	c.send(encodeJSONEvent(evSigninSuccess, "", struct {
		UserData string `json:"user_data"`
	}{d.UserData}))
	if len(online) > 0 {
		c.send(encodeWatchlistEvent("online", online))
	}
}

func (c *conn) handleClientEvent(f inFrame) {
	reject := func(msg string) { c.sendError(CodeClientEventRejected, msg) }
	switch kind := KindOf(f.Channel); {
	case !c.app.ClientEvents:
		reject("client events are not enabled for this app")
		return
	case kind == KindPrivateEncrypted:
		reject("client events are not allowed on encrypted channels")
		return
	case kind != KindPrivate && kind != KindPresence:
		reject("client events are only allowed on private and presence channels")
		return
	case len(f.Event) > MaxEventNameLen:
		reject(fmt.Sprintf("event name exceeds %d characters", MaxEventNameLen))
		return
	case len(f.Data) > c.app.MaxEventBytes:
		reject(fmt.Sprintf("event data exceeds %d bytes", c.app.MaxEventBytes))
		return
	}
	if _, ok := c.subs[f.Channel]; !ok {
		reject("subscribe to the channel before triggering client events on it")
		return
	}
	if c.limiter == nil {
		r := c.app.ClientEventRate
		c.limiter = rate.NewLimiter(rate.Limit(r), r)
	}
	if !c.limiter.Allow() {
		c.hub.metrics.clientEventsRejected.Inc()
		reject(fmt.Sprintf("rate limit: at most %d client events per second", c.app.ClientEventRate))
		return
	}
	var userID string
	if KindOf(f.Channel) == KindPresence {
		userID = c.presenceUserID(f.Channel)
	}
	p := Publication{
		AppID:    c.app.ID,
		Channel:  f.Channel,
		SocketID: c.socketID,
		Frame:    encodeRawEvent(f.Event, f.Channel, f.Data, userID),
	}
	if err := c.hub.broker.Publish(context.Background(), p); err != nil {
		c.hub.log.Warn("client event publish failed", slog.String("app", c.app.ID), slog.String("socket_id", c.socketID), slog.Any("err", err))
		reject("client event could not be delivered")
		return
	}
	c.hub.metrics.clientEvents.Inc()
	c.hub.webhook(c.app, webhook.Event{Name: WebhookClientEvent, Channel: f.Channel, Event: f.Event, Data: dataString(f.Data), SocketID: c.socketID, UserID: userID})
}

// presenceUserID returns the member id c subscribed to a presence channel as.
func (c *conn) presenceUserID(name string) string {
	sh := c.st.shard(name)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if ch := sh.channels[name]; ch != nil {
		return ch.subs[c]
	}
	return ""
}

// dataString renders client event data as the string webhooks carry.
func dataString(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// cleanup undoes every subscription and the sign-in after the socket closed.
func (c *conn) cleanup() {
	for name := range c.subs {
		c.leave(name)
	}
	if c.userID != "" {
		c.signOut()
	}
}

// signOut forgets the connection's sign-in.
func (c *conn) signOut() {
	c.st.signOut(c, c.userID, c.watchlist)
	if cl := c.hub.cluster; cl != nil {
		cl.Unlisten(c.app.ID, prefixServerToUser+c.userID)
		for _, id := range c.watchlist {
			cl.Unlisten(c.app.ID, prefixWatch+id)
		}
	}
}

// onlineInCluster adds to the watched users online here those online on
// other replicas.
func (c *conn) onlineInCluster(watchlist, online []string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	elsewhere, err := c.hub.cluster.Online(ctx, c.app.ID, watchlist)
	if err != nil {
		c.hub.log.Warn("cluster online read failed", slog.String("app", c.app.ID), slog.Any("err", err))
	}
	for _, id := range elsewhere {
		if !slices.Contains(online, id) {
			online = append(online, id)
		}
	}
	return online
}

// writeLoop writes what is queued and returns when the queue is empty,
// or closes the socket when asked to.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		// Yield once before taking the queue: during a burst the publisher
		// is still queueing, and one pass then writes many frames instead
		// of one. With nothing else runnable this returns at once.
		runtime.Gosched()
		c.wmu.Lock()
		batch, closing := c.queue, c.closing
		if len(batch) == 0 && closing == nil {
			c.writing = false
			c.wmu.Unlock()
			return
		}
		c.queue, c.spare = c.spare[:0], nil
		c.wmu.Unlock()

		if err := c.writeBatch(batch); err != nil {
			c.ws.CloseNow()
			c.finishWriting()
			return
		}
		c.wmu.Lock()
		if c.spare == nil {
			c.spare = batch[:0]
		}
		c.wmu.Unlock()

		if closing != nil {
			if closing.Code >= 4000 && closing != DisconnectSlowConsumer {
				_ = c.writeBatch([][]byte{encodeError(closing.Code, closing.Message)})
			}
			if closing.Code >= 4000 {
				c.hub.metrics.disconnects.WithLabelValues(strconv.Itoa(closing.Code)).Inc()
			}
			closeWS(c.ws, closing)
			c.finishWriting()
			return
		}
	}
}

// finishWriting marks the socket done for writing: no writer starts again.
func (c *conn) finishWriting() {
	c.wmu.Lock()
	c.done, c.writing = true, false
	c.queue = nil
	c.wmu.Unlock()
}

// writeBatch writes frames within one WriteTimeout. The deadline is a
// reusable timer that closes the socket when it fires, rather than a
// context per frame: a context with a deadline costs the websocket
// library an allocation and a timer on every write, which on a fan-out was
// a fifth of the CPU. A client too slow to take a batch in time is cut
// off all the same.
func (c *conn) writeBatch(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	if c.writeDeadline == nil {
		c.writeDeadline = time.AfterFunc(c.hub.opts.WriteTimeout, func() { c.ws.CloseNow() })
	} else {
		c.writeDeadline.Reset(c.hub.opts.WriteTimeout)
	}
	defer c.writeDeadline.Stop()
	for i, frame := range frames {
		if err := c.ws.Write(context.Background(), websocket.MessageText, frame); err != nil {
			return err
		}
		frames[i] = nil
	}
	c.hub.metrics.sent.Add(float64(len(frames)))
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// jsonErrorText shortens a JSON error for a client-facing message.
func jsonErrorText(err error) string {
	return truncate(strings.TrimPrefix(err.Error(), "json: "), 120)
}
