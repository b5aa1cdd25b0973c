package bench

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeOptions make the fake server misbehave in one chosen way.
type fakeOptions struct {
	// pingAfterSubscribe sends a pusher:ping right after each subscription.
	pingAfterSubscribe bool
	// duplicate sends every event twice.
	duplicate bool
	// dropChannel never delivers events published to this channel.
	dropChannel string
	// failPublishEvery answers every n-th publish 500 without delivering.
	failPublishEvery int
	// holdPublishes blocks publish requests until their context ends; the
	// first one closes publishSeen.
	holdPublishes bool
	// ignoreSubscribes never answers a subscription; the first one closes
	// subscribeSeen.
	ignoreSubscribes bool
}

// fakeServer is the smallest Pusher server the bench can run against: one
// app, public channels, the signed events endpoint. It lets this package's
// tests cover the whole run, including misbehaviour a real server should
// never show.
type fakeServer struct {
	*httptest.Server
	t    testing.TB
	opts fakeOptions

	mu   sync.Mutex
	subs map[string]map[*websocket.Conn]bool

	pongs         atomic.Int64
	closes1000    atomic.Int64
	publishes     atomic.Int64
	publishSeen   chan struct{}
	seenOnce      sync.Once
	subscribeSeen chan struct{}
	subOnce       sync.Once
}

const (
	fakeID     = "app-id"
	fakeKey    = "app-key"
	fakeSecret = "app-secret"
)

func newFakeServer(t testing.TB, opts fakeOptions) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, opts: opts, subs: make(map[string]map[*websocket.Conn]bool), publishSeen: make(chan struct{}), subscribeSeen: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/{key}", f.serveWS)
	mux.HandleFunc("POST /apps/{id}/events", f.serveEvents)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ctx := r.Context()
	if r.PathValue("key") != fakeKey {
		_ = ws.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:error","data":{"message":"App key not in this cluster","code":4001}}`))
		ws.Close(4001, "app does not exist")
		return
	}
	if r.URL.Query().Get("protocol") != "7" {
		ws.Close(4007, "unsupported protocol version")
		return
	}
	_ = ws.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}`))
	var channels []string
	defer func() {
		f.mu.Lock()
		for _, ch := range channels {
			delete(f.subs[ch], ws)
		}
		f.mu.Unlock()
	}()
	for {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				f.closes1000.Add(1)
			}
			return
		}
		var ev struct {
			Event string `json:"event"`
			Data  struct {
				Channel string `json:"channel"`
			} `json:"data"`
		}
		if json.Unmarshal(msg, &ev) != nil {
			continue
		}
		switch ev.Event {
		case "pusher:subscribe":
			if f.opts.ignoreSubscribes {
				f.subOnce.Do(func() { close(f.subscribeSeen) })
				continue
			}
			ch := ev.Data.Channel
			f.mu.Lock()
			if f.subs[ch] == nil {
				f.subs[ch] = make(map[*websocket.Conn]bool)
			}
			f.subs[ch][ws] = true
			f.mu.Unlock()
			channels = append(channels, ch)
			_ = ws.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `{"event":"pusher_internal:subscription_succeeded","channel":%q,"data":"{}"}`, ch))
			if f.opts.pingAfterSubscribe {
				_ = ws.Write(ctx, websocket.MessageText, []byte(`{"event":"pusher:ping","data":{}}`))
			}
		case "pusher:pong":
			f.pongs.Add(1)
		}
	}
}

func (f *fakeServer) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, `{"error":"read"}`, http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	ts, _ := strconv.ParseInt(q.Get("auth_timestamp"), 10, 64)
	want := signQuery(r.Method, r.URL.Path, q.Get("auth_key"), fakeSecret, body, time.Unix(ts, 0))
	sum := md5.Sum(body)
	if q.Get("auth_key") != fakeKey || r.PathValue("id") != fakeID ||
		q.Get("body_md5") != hex.EncodeToString(sum[:]) ||
		!hmac.Equal([]byte(q.Get("auth_signature")), []byte(want.Get("auth_signature"))) {
		http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
		return
	}
	n := f.publishes.Add(1)
	if f.opts.holdPublishes {
		f.seenOnce.Do(func() { close(f.publishSeen) })
		<-r.Context().Done()
		return
	}
	if f.opts.failPublishEvery > 0 && n%int64(f.opts.failPublishEvery) == 0 {
		http.Error(w, `{"error":"injected failure"}`, http.StatusInternalServerError)
		return
	}
	var tb triggerBody
	if err := json.Unmarshal(body, &tb); err != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	for _, ch := range tb.Channels {
		if ch == f.opts.dropChannel {
			continue
		}
		frame, _ := json.Marshal(map[string]string{"event": tb.Name, "channel": ch, "data": tb.Data})
		f.mu.Lock()
		targets := make([]*websocket.Conn, 0, len(f.subs[ch]))
		for ws := range f.subs[ch] {
			targets = append(targets, ws)
		}
		f.mu.Unlock()
		for _, ws := range targets {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = ws.Write(ctx, websocket.MessageText, frame)
			if f.opts.duplicate {
				_ = ws.Write(ctx, websocket.MessageText, frame)
			}
			cancel()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
}
