package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Pusher protocol event names the bench speaks.
const (
	evConnectionEstablished = "pusher:connection_established"
	evError                 = "pusher:error"
	evPing                  = "pusher:ping"
	evPong                  = "pusher:pong"
	evSubscribe             = "pusher:subscribe"
	evSubscriptionSucceeded = "pusher_internal:subscription_succeeded"
	evSubscriptionError     = "pusher:subscription_error"
)

// controlWriteTimeout bounds writing a pong or subscribe frame.
const controlWriteTimeout = 5 * time.Second

// readLimitSlack is room for the event envelope around the payload.
const readLimitSlack = 16 << 10

// maxPooledBuf keeps one huge message from pinning a huge buffer in the pool.
const maxPooledBuf = 64 << 10

// bufPool holds message buffers. A connection takes one only while it has a
// message in hand, so ten thousand idle connections hold none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// wireEvent is a decoded server frame. Data stays raw: it is a JSON string
// on every event except pusher:error and pusher:subscription_error.
type wireEvent struct {
	Event   string          `json:"event"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// pusherErrorData is the object in a pusher:error event.
type pusherErrorData struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// failure is an error with the kind the report groups it under.
type failure struct {
	kind string
	err  error
}

// Error implements error.
func (f *failure) Error() string { return f.kind + ": " + f.err.Error() }

// Unwrap returns the underlying error.
func (f *failure) Unwrap() error { return f.err }

// fail returns a failure of kind with a formatted message.
func fail(kind string, format string, args ...any) *failure {
	return &failure{kind: kind, err: fmt.Errorf(format, args...)}
}

// conn is one bench websocket connection, subscribed to one channel. Its
// goroutine is the only reader; seen is touched only by that goroutine
// until it exits.
type conn struct {
	b       *bench
	id      int
	channel int
	// endpoint is the index of the websocket URL it dials.
	endpoint int
	ws       *websocket.Conn
	// seen holds the sequence numbers delivered on the channel.
	seen seqSet
}

// handshake dials, waits for pusher:connection_established, subscribes and
// waits for pusher_internal:subscription_succeeded, all within the
// handshake timeout.
func (c *conn) handshake(ctx context.Context) error {
	cfg := &c.b.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, c.b.wsURLs[c.endpoint], &websocket.DialOptions{HTTPClient: c.b.dialClient})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return fail("connect: HTTP "+strconv.Itoa(resp.StatusCode), "%w", err)
		}
		if ctx.Err() != nil {
			return fail("connect: timeout", "%w", err)
		}
		return fail("connect: dial", "%w", err)
	}
	c.ws = ws
	ws.SetReadLimit(int64(cfg.Payload) + readLimitSlack)
	if err := c.await(ctx, evConnectionEstablished, ""); err != nil {
		ws.CloseNow()
		return err
	}
	sub := fmt.Sprintf(`{"event":%q,"data":{"channel":%q}}`, evSubscribe, cfg.channelName(c.channel))
	if err := ws.Write(ctx, websocket.MessageText, []byte(sub)); err != nil {
		ws.CloseNow()
		return fail("subscribe: write", "%w", err)
	}
	if err := c.await(ctx, evSubscriptionSucceeded, cfg.channelName(c.channel)); err != nil {
		ws.CloseNow()
		return err
	}
	return nil
}

// await reads frames until event arrives (on channel, when given),
// answering pings on the way. Errors and closes become failures.
func (c *conn) await(ctx context.Context, event, channel string) error {
	phase := "connect"
	if channel != "" {
		phase = "subscribe"
	}
	for {
		_, msg, err := c.ws.Read(ctx)
		if err != nil {
			return readFailure(ctx, phase, err)
		}
		var ev wireEvent
		if err := json.Unmarshal(msg, &ev); err != nil {
			return fail(phase+": bad frame", "decode %.100q: %w", msg, err)
		}
		switch {
		case ev.Event == event && (channel == "" || ev.Channel == channel):
			return nil
		case ev.Event == evPing:
			if err := c.pong(); err != nil {
				return fail(phase+": pong", "%w", err)
			}
		case ev.Event == evError:
			return pusherError(phase, ev.Data)
		case ev.Event == evSubscriptionError && ev.Channel == channel:
			return fail("subscribe: refused", "%s", ev.Data)
		}
	}
}

// readFailure classifies a read error during the handshake.
func readFailure(ctx context.Context, phase string, err error) error {
	if code := websocket.CloseStatus(err); code != -1 {
		return fail(phase+": closed "+strconv.Itoa(int(code)), "%w", err)
	}
	if ctx.Err() != nil {
		return fail(phase+": timeout", "%w", err)
	}
	return fail(phase+": read", "%w", err)
}

// pusherError turns a pusher:error's data into a failure named by its code.
func pusherError(phase string, data json.RawMessage) *failure {
	var d pusherErrorData
	if err := json.Unmarshal(data, &d); err != nil {
		// Some servers send the object as a JSON string, like other data.
		var s string
		if json.Unmarshal(data, &s) == nil {
			_ = json.Unmarshal([]byte(s), &d)
		}
	}
	return fail(phase+": pusher:error "+strconv.Itoa(d.Code), "%s", d.Message)
}

// pong answers a pusher:ping so the server keeps the connection.
func (c *conn) pong() error {
	ctx, cancel := context.WithTimeout(context.Background(), controlWriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:pong","data":{}}`)); err != nil {
		return fmt.Errorf("bench: write pong: %w", err)
	}
	return nil
}

// readLoop reads until the connection ends. It passes a context without a
// deadline on purpose: a cancellable one costs an allocation per frame in
// the websocket library, and the owner ends the loop by closing the
// connection.
func (c *conn) readLoop() error {
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err != nil {
			return err
		}
		bp := bufPool.Get().(*[]byte)
		msg, err := readAll(r, (*bp)[:0])
		if err == nil {
			c.handle(msg)
		}
		if cap(msg) <= maxPooledBuf {
			*bp = msg[:0]
			bufPool.Put(bp)
		}
		if err != nil {
			return err
		}
	}
}

// readAll reads r to EOF into buf, growing it as needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// handle processes one frame after the handshake. Bench events take the
// fast path with no decoding; everything else is rare and decoded.
func (c *conn) handle(msg []byte) {
	if p := findPayload(msg); p != nil {
		c.deliver(p)
		return
	}
	var ev wireEvent
	if err := json.Unmarshal(msg, &ev); err != nil {
		c.b.errs.add("protocol: bad frame", fmt.Errorf("decode %.100q: %w", msg, err))
		return
	}
	switch ev.Event {
	case evPing:
		if err := c.pong(); err != nil {
			c.b.errs.add("protocol: pong", err)
		}
	case evError:
		f := pusherError("connection", ev.Data)
		c.b.errs.add(f.kind, f.err)
	}
}

// shard is where c records its deliveries: its URL's statistics, spread
// over the shards by c's place among that URL's connections.
func (c *conn) shard() *shard {
	return c.b.stats[c.endpoint].shard(c.id / len(c.b.stats))
}

// deliver records one bench event: a duplicate, or a new delivery with its
// latency. It must not allocate: it runs for every frame of every
// connection.
func (c *conn) deliver(p []byte) {
	now := time.Now().UnixNano()
	h, ok := parsePayload(p)
	sh := c.shard()
	switch {
	case !ok:
		c.b.errs.add("delivery: bad payload", fmt.Errorf("%.60q", p))
	case h.run != c.b.runID:
		c.b.errs.add("delivery: another bench run's event", errors.New("another bench run publishes on these channels; use --channel-prefix to separate runs"))
	case h.seq >= c.b.maxSeq:
		c.b.errs.add("delivery: bad payload", fmt.Errorf("sequence %d beyond the %d planned per channel", h.seq, c.b.maxSeq))
	case h.channel != c.channel:
		c.b.errs.add("delivery: wrong channel", fmt.Errorf("connection on %s got an event for %s",
			c.b.cfg.channelName(c.channel), c.b.cfg.channelName(h.channel)))
	case !c.seen.add(h.seq):
		sh.duplicates.Add(1)
	default:
		sh.delivered.Add(1)
		sh.latency.record(now - h.ts)
		for {
			last := sh.lastNanos.Load()
			if now <= last || sh.lastNanos.CompareAndSwap(last, now) {
				break
			}
		}
	}
}
