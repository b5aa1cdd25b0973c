package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/postgres"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

// The end-to-end path of an inbound message: the store commits it with
// its event, the relay is notified and publishes the event to the hub,
// and a websocket subscriber of the workspace channel receives it. Each
// operation is measured from before CreateMessage until the subscriber
// has read that message's message.created frame.
//
//	go test -run '^$' -bench Inbound -benchtime 2000x ./server/inbox/
//
// Postgres runs on SWITCHBOARD_TEST_DATABASE_URL (storetest.FreshPostgres),
// skipped loudly when unreachable unless REQUIRE_SERVICES=1.

// benchStores are the stores the benchmarks run against.
var benchStores = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"sqlite", func(tb testing.TB) store.Store {
		tb.Helper()
		st, err := sqlite.New(context.Background(), filepath.Join(tb.TempDir(), "bench.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(tb testing.TB) store.Store {
		tb.Helper()
		st, err := postgres.New(context.Background(), storetest.FreshPostgres(tb))
		if err != nil {
			tb.Fatal(err)
		}
		// Registered after FreshPostgres's cleanup, so it runs first:
		// the pool is closed before the database is dropped.
		tb.Cleanup(func() { st.Close() })
		return st
	}},
}

// benchWait bounds how long one message may take to reach the subscriber
// before the benchmark gives up on it.
const benchWait = 10 * time.Second

// BenchmarkInbound stores inbound messages one at a time, each waited for
// at the subscriber before the next; it reports the latency's p50 and
// p99 and the messages per second.
func BenchmarkInbound(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			r := newBenchRig(b, bs.open(b), 1)
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				if err := r.inbound(r.convs[0].ID); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			reportLatency(b, lat)
		})
	}
}

// BenchmarkInboundParallel is BenchmarkInbound from 4×GOMAXPROCS
// goroutines at once, each on conversations of its own, as when many
// contacts write in together: the relay then publishes what several
// commits appended in one pass.
func BenchmarkInboundParallel(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			const conversations = 16
			r := newBenchRig(b, bs.open(b), conversations)
			var (
				mu   sync.Mutex
				lat  = make([]time.Duration, 0, b.N)
				next atomic.Int64
			)
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				mine := make([]time.Duration, 0, 64)
				for pb.Next() {
					conv := r.convs[next.Add(1)%conversations]
					start := time.Now()
					if err := r.inbound(conv.ID); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			reportLatency(b, lat)
		})
	}
}

// reportLatency reports the median and 99th percentile of lat in µs and
// the messages per second, as storetest's store benchmarks do.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "msgs/s")
}

// benchRig is a workspace with conversations in a store, a hub serving
// the store's workspaces over a real websocket, one subscriber on the
// workspace channel and a running relay.
type benchRig struct {
	st    store.Store
	relay *Relay
	ws    store.Workspace
	convs []store.Conversation
	seen  *seqWatch
	ids   atomic.Int64
}

func newBenchRig(b *testing.B, st store.Store, conversations int) *benchRig {
	b.Helper()
	ctx := context.Background()
	ws, _, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Bench", OwnerEmail: "owner@bench.test", OwnerName: "Owner"})
	if err != nil {
		b.Fatal(err)
	}
	in, err := st.CreateInbox(ctx, ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support"})
	if err != nil {
		b.Fatal(err)
	}
	contact, _, err := st.UpsertContact(ctx, ws.ID, store.Identity{Channel: "whatsapp", ExternalID: "+447700900001"}, store.NewContact{Name: "Carol"})
	if err != nil {
		b.Fatal(err)
	}
	r := &benchRig{st: st, ws: ws, seen: newSeqWatch()}
	var setupSeq int64
	for range conversations {
		conv, ev, err := st.CreateConversation(ctx, ws.ID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
		if err != nil {
			b.Fatal(err)
		}
		r.convs = append(r.convs, conv)
		setupSeq = ev.Seq
	}

	static, err := hub.NewStaticApps()
	if err != nil {
		b.Fatal(err)
	}
	h, err := hub.New(hub.Options{Apps: &Apps{Static: static, Workspaces: st}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
		srv.Close()
	})

	r.subscribe(b, srv.URL)

	r.relay = NewRelay(st, h, RelayOptions{})
	rctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.relay.Run(rctx) })
	b.Cleanup(func() { stop(); wg.Wait() })

	// The relay's first sweep publishes the setup's events; once they are
	// in, the path is warm and the log holds only what the benchmark adds.
	r.relay.Notify(ws.ID)
	if err := r.seen.wait(setupSeq, benchWait); err != nil {
		b.Fatalf("setup events: %v", err)
	}
	return r
}

// inbound stores an inbound message in conversation convID, as a
// connector does, notifies the relay, and waits until the subscriber has
// received the message's event.
func (r *benchRig) inbound(convID int64) error {
	n := r.ids.Add(1)
	created, err := r.st.CreateMessage(context.Background(), r.ws.ID, store.NewMessage{
		ConversationID: convID, Direction: store.DirectionIn, Body: "Hello, where is my order?",
		ProviderMessageID: fmt.Sprintf("wamid.bench.%d", n),
	})
	if err != nil {
		return err
	}
	if len(created.Events) != 1 || created.Events[0].Kind != store.EventMessageCreated {
		return fmt.Errorf("CreateMessage appended %+v, want one %s", created.Events, store.EventMessageCreated)
	}
	r.relay.Notify(r.ws.ID)
	return r.seen.wait(created.Events[0].Seq, benchWait)
}

// subscribe connects a Pusher client to the hub, subscribes it to the
// workspace channel with a signature made from the workspace's secret, and
// starts reading its frames into r.seen until the benchmark ends.
func (r *benchRig) subscribe(b *testing.B, serverURL string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(serverURL, "http")+"/app/"+r.ws.AppKey+"?protocol=7", nil)
	if err != nil {
		b.Fatal(err)
	}
	read := func() (benchFrame, error) {
		var f benchFrame
		_, msg, err := c.Read(ctx)
		if err != nil {
			return f, err
		}
		return f, json.Unmarshal(msg, &f)
	}
	f, err := read()
	if err != nil {
		b.Fatal(err)
	}
	var established struct {
		SocketID string `json:"socket_id"`
	}
	if err := json.Unmarshal([]byte(f.Data), &established); err != nil {
		b.Fatalf("%s: %v", f.Event, err)
	}
	channel := WorkspaceChannel(r.ws.ID)
	sub, err := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": channel, "auth": r.ws.AppKey + ":" + hub.Sign(r.ws.AppSecret, established.SocketID+":"+channel),
	}})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		b.Fatal(err)
	}
	if f, err := read(); err != nil || f.Event != "pusher_internal:subscription_succeeded" {
		b.Fatalf("subscribe to %s: %+v, %v", channel, f, err)
	}

	rctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.readEvents(rctx, c, channel) })
	b.Cleanup(func() {
		stop()
		wg.Wait()
		c.CloseNow()
		if err := r.seen.failure(); err != nil {
			b.Error(err)
		}
	})
}

type benchFrame struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

// readEvents reads the subscriber's frames until ctx ends, advancing
// r.seen with the seq of each event on channel. The relay publishes in
// seq order and the benchmark runs no crash, so seqs must arrive gap-free
// and once each.
func (r *benchRig) readEvents(ctx context.Context, c *websocket.Conn, channel string) {
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.seen.fail(fmt.Errorf("subscriber: read: %w", err))
			}
			return
		}
		var f benchFrame
		if err := json.Unmarshal(msg, &f); err != nil {
			r.seen.fail(fmt.Errorf("subscriber: frame %.100s: %w", msg, err))
			return
		}
		if f.Channel != channel {
			continue // pusher:ping and the like
		}
		var ev struct {
			Seq  int64  `json:"seq"`
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil || ev.Kind != f.Event {
			r.seen.fail(fmt.Errorf("subscriber: %s frame carries %.100s (%v)", f.Event, f.Data, err))
			return
		}
		if err := r.seen.advance(ev.Seq); err != nil {
			r.seen.fail(err)
			return
		}
	}
}

// seqWatch is the newest seq the subscriber has received, for the
// benchmark's goroutines to wait on.
type seqWatch struct {
	mu      sync.Mutex
	seq     int64
	err     error         // why the subscriber stopped
	changed chan struct{} // closed, and replaced, when seq or err changes
}

func newSeqWatch() *seqWatch { return &seqWatch{changed: make(chan struct{})} }

// advance records seq as received; it must be the next one.
func (w *seqWatch) advance(seq int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq != w.seq+1 {
		return fmt.Errorf("subscriber: received seq %d after %d", seq, w.seq)
	}
	w.seq = seq
	close(w.changed)
	w.changed = make(chan struct{})
	return nil
}

func (w *seqWatch) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

func (w *seqWatch) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// wait returns once seq has been received, or an error when the
// subscriber stopped or within is over first.
func (w *seqWatch) wait(seq int64, within time.Duration) error {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		got, err, changed := w.seq, w.err, w.changed
		w.mu.Unlock()
		switch {
		case got >= seq:
			return nil
		case err != nil:
			return err
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("the subscriber has seq %d, still not %d after %v", got, seq, within)
		}
	}
}
