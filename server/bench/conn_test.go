package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// newTestConn returns a connection on channel 1 of a bench planned for 100
// publishes over 2 channels, without a socket: enough to feed it frames.
func newTestConn(t testing.TB) *conn {
	t.Helper()
	cfg := defaultConfig()
	cfg.Channels, cfg.Publishes = 2, 100
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &conn{b: newBench(cfg), id: 3, channel: 1}
}

// frame is what a server sends for a bench event.
func frame(t testing.TB, h payloadHeader) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{
		"event": "bench", "channel": "bench-1", "data": string(appendPayload(nil, h, 100)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeliver(t *testing.T) {
	now := time.Now().UnixNano()
	tests := []struct {
		name          string
		frames        func(run uint32) []payloadHeader
		wantDelivered int64
		wantDups      int64
		wantKind      string
	}{
		{
			name: "new deliveries count once each",
			frames: func(run uint32) []payloadHeader {
				return []payloadHeader{{run, 1, 0, now}, {run, 1, 1, now}, {run, 1, 49, now}}
			},
			wantDelivered: 3,
		},
		{
			name:          "a repeat is a duplicate",
			frames:        func(run uint32) []payloadHeader { return []payloadHeader{{run, 1, 5, now}, {run, 1, 5, now}} },
			wantDelivered: 1, wantDups: 1,
		},
		{
			name:     "another channel's event is an error",
			frames:   func(run uint32) []payloadHeader { return []payloadHeader{{run, 0, 5, now}} },
			wantKind: "delivery: wrong channel",
		},
		{
			name:     "another run's event is an error",
			frames:   func(run uint32) []payloadHeader { return []payloadHeader{{run + 1, 1, 5, now}} },
			wantKind: "delivery: another bench run's event",
		},
		{
			name:     "a sequence beyond the plan is an error",
			frames:   func(run uint32) []payloadHeader { return []payloadHeader{{run, 1, 50, now}} },
			wantKind: "delivery: bad payload",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestConn(t)
			for _, h := range tt.frames(c.b.runID) {
				c.handle(frame(t, h))
			}
			sh := c.shard()
			if got := sh.delivered.Load(); got != tt.wantDelivered {
				t.Errorf("delivered = %d, want %d", got, tt.wantDelivered)
			}
			if got := sh.duplicates.Load(); got != tt.wantDups {
				t.Errorf("duplicates = %d, want %d", got, tt.wantDups)
			}
			if got := int64(sh.latency.n.Load()); got != tt.wantDelivered {
				t.Errorf("latency samples = %d, want %d", got, tt.wantDelivered)
			}
			errs := c.b.errs.list()
			if tt.wantKind == "" && len(errs) != 0 {
				t.Errorf("errors = %+v, want none", errs)
			}
			if tt.wantKind != "" && (len(errs) != 1 || errs[0].Kind != tt.wantKind) {
				t.Errorf("errors = %+v, want one of kind %q", errs, tt.wantKind)
			}
		})
	}
}

// TestHandleDoesNotAllocate guards the per-frame path that ten thousand
// connections run for every event.
func TestHandleDoesNotAllocate(t *testing.T) {
	c := newTestConn(t)
	c.seen = make(seqSet, 1) // sized for the 50 sequences of its channel
	frames := make([][]byte, 50)
	for i := range frames {
		frames[i] = frame(t, payloadHeader{c.b.runID, 1, i, time.Now().UnixNano()})
	}
	i := 0
	allocs := testing.AllocsPerRun(len(frames)-1, func() {
		c.handle(frames[i])
		i++
	})
	if allocs != 0 {
		t.Errorf("handle allocates %v times per frame, want 0", allocs)
	}
	if got := c.b.delivered(); got != int64(len(frames)) {
		t.Errorf("delivered = %d, want %d", got, len(frames))
	}
}

func TestHandleRecordsPusherError(t *testing.T) {
	c := newTestConn(t)
	c.handle([]byte(`{"event":"pusher:error","data":{"message":"Over capacity","code":4100}}`))
	// Some servers encode the error object as a string, like other data.
	c.handle([]byte(`{"event":"pusher:error","data":"{\"message\":\"Generic reconnect\",\"code\":4200}"}`))
	c.handle([]byte(`not json`))
	errs := c.b.errs.list()
	want := map[string]string{
		"connection: pusher:error 4100": "Over capacity",
		"connection: pusher:error 4200": "Generic reconnect",
		"protocol: bad frame":           "",
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %+v, want kinds %v", errs, want)
	}
	for _, e := range errs {
		example, ok := want[e.Kind]
		if !ok || (example != "" && e.Example != example) {
			t.Errorf("unexpected error %+v", e)
		}
	}
}

func TestConnEnded(t *testing.T) {
	tests := []struct {
		name     string
		closing  bool
		err      error
		wantDrop bool
		wantKind string
	}{
		{"our own close is not a drop", true, websocket.CloseError{Code: websocket.StatusNormalClosure}, false, ""},
		{"a server close is a drop by code", false, fmt.Errorf("read: %w", websocket.CloseError{Code: 4200, Reason: "shutting down"}), true, "connection: closed by server 4200"},
		{"a lost connection is a drop", false, io.ErrUnexpectedEOF, true, "connection: lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestConn(t)
			c.b.closing.Store(tt.closing)
			if got := c.b.connEnded(tt.err); got != tt.wantDrop {
				t.Errorf("connEnded = %v, want %v", got, tt.wantDrop)
			}
			wantDropped := int64(0)
			if tt.wantDrop {
				wantDropped = 1
			}
			if c.b.dropped.Load() != wantDropped {
				t.Errorf("dropped = %d, want %d", c.b.dropped.Load(), wantDropped)
			}
			errs := c.b.errs.list()
			if (tt.wantKind == "") != (len(errs) == 0) || (tt.wantKind != "" && errs[0].Kind != tt.wantKind) {
				t.Errorf("errors = %+v, want kind %q", errs, tt.wantKind)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	c := newTestConn(t)
	b := c.b
	b.phase.Store(int32(phasePublish))
	b.connOK.Store(990)
	b.connFailed.Store(10)
	b.expected.Store(40)
	c.handle(frame(t, payloadHeader{b.runID, 1, 0, time.Now().UnixNano()}))
	want := "bench: publish  connected 990/1000 (10 failed, 0 dropped)  published 0/100 (0 errors)  delivered 1/40"
	if got := b.progressLine(); got != want {
		t.Errorf("progress line\n got %q\nwant %q", got, want)
	}
}
