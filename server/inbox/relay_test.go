package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
)

// relayRig is a store, a hub serving the store's workspaces, and one
// workspace with a conversation.
type relayRig struct {
	st   *sqlite.Store
	hub  *hub.Hub
	srv  *httptest.Server
	ws   store.Workspace
	conv store.Conversation
}

func newRelayRig(t *testing.T) *relayRig {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.New(ctx, filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@acme.test", OwnerName: "Owner"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := st.CreateInbox(ctx, ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support"})
	if err != nil {
		t.Fatal(err)
	}
	contact, _, err := st.UpsertContact(ctx, ws.ID, store.Identity{Channel: "whatsapp", ExternalID: "+447700900001"}, store.NewContact{Name: "Carol"})
	if err != nil {
		t.Fatal(err)
	}
	conv, _, err := st.CreateConversation(ctx, ws.ID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
	if err != nil {
		t.Fatal(err)
	}
	static, _ := hub.NewStaticApps()
	h, err := hub.New(hub.Options{Apps: &Apps{Static: static, Workspaces: st}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Shutdown(context.Background())
		srv.Close()
		st.Close()
	})
	return &relayRig{st: st, hub: h, srv: srv, ws: ws, conv: conv}
}

// message stores an inbound message, as a connector would.
func (r *relayRig) message(t *testing.T, body string) {
	t.Helper()
	_, err := r.st.CreateMessage(context.Background(), r.ws.ID, store.NewMessage{
		ConversationID: r.conv.ID, Direction: store.DirectionIn, Body: body, ProviderMessageID: "wamid." + body,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startRelay runs a relay until the returned stop is called.
func (r *relayRig) startRelay(t *testing.T) (*Relay, func()) {
	t.Helper()
	return r.startRelayWith(t, RelayOptions{Interval: 20 * time.Millisecond})
}

func (r *relayRig) startRelayWith(t *testing.T, opts RelayOptions) (*Relay, func()) {
	t.Helper()
	relay := NewRelay(r.st, r.hub, opts)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(ctx) })
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return relay, stop
}

// subscriber is a Pusher client on the workspace channel, signed with the
// workspace's secret as the channel-auth endpoint will sign it.
type subscriber struct {
	t  *testing.T
	ws *websocket.Conn
}

func (r *relayRig) subscribe(t *testing.T) *subscriber {
	t.Helper()
	return r.subscribeTo(t, WorkspaceChannel(r.ws.ID))
}

// subscribeTo is subscribe to the given private channels, in order, on one
// connection.
func (r *relayRig) subscribeTo(t *testing.T, channels ...string) *subscriber {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.srv.URL, "http")+"/app/"+r.ws.AppKey+"?protocol=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	s := &subscriber{t: t, ws: c}
	var established struct {
		SocketID string `json:"socket_id"`
	}
	json.Unmarshal([]byte(s.next().Data), &established)
	for _, channel := range channels {
		sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
			"channel": channel, "auth": r.ws.AppKey + ":" + hub.Sign(r.ws.AppSecret, established.SocketID+":"+channel),
		}})
		if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
			t.Fatal(err)
		}
		if f := s.next(); f.Event != "pusher_internal:subscription_succeeded" || f.Channel != channel {
			t.Fatalf("subscribe to %s: %+v", channel, f)
		}
	}
	return s
}

type wireFrame struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

func (s *subscriber) next() wireFrame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, msg, err := s.ws.Read(ctx)
	if err != nil {
		s.t.Fatalf("read: %v", err)
	}
	var f wireFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		s.t.Fatalf("frame %s: %v", msg, err)
	}
	return f
}

// events reads n inbox events and returns their seqs and kinds.
func (s *subscriber) events(n int) []string {
	s.t.Helper()
	var got []string
	for range n {
		f := s.next()
		var ev store.Event
		if err := json.Unmarshal([]byte(f.Data), &ev); err != nil {
			s.t.Fatalf("event data %q: %v", f.Data, err)
		}
		if ev.Kind != f.Event {
			s.t.Errorf("frame event %q carries kind %q", f.Event, ev.Kind)
		}
		got = append(got, fmt.Sprintf("%d %s", ev.Seq, ev.Kind))
	}
	return got
}

func TestRelayPublishesCommittedEventsInOrder(t *testing.T) {
	r := newRelayRig(t)
	sub := r.subscribe(t)
	relay, _ := r.startRelay(t)
	// The conversation (seq 1) was committed before the relay started.
	if got := sub.events(1); got[0] != "1 conversation.created" {
		t.Fatalf("first event %q, want 1 conversation.created", got[0])
	}
	r.message(t, "hello")
	relay.Notify(r.ws.ID)
	r.message(t, "again")
	got := sub.events(2)
	if want := []string{"2 message.created", "3 message.created"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestRelayResumesAfterStop: events committed while no relay runs (as after
// a crash between commit and publish) are published by the next relay,
// and what a relay published before a graceful stop is not sent again.
// (After a crash, an event published but not yet marked is sent again:
// delivery is at least once, and clients drop repeats by seq.)
func TestRelayResumesAfterStop(t *testing.T) {
	r := newRelayRig(t)
	sub := r.subscribe(t)
	_, stop := r.startRelay(t)
	sub.events(1)
	stop()
	r.message(t, "while-down-1")
	r.message(t, "while-down-2")
	r.startRelay(t)
	got := sub.events(2)
	if want := []string{"2 message.created", "3 message.created"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after restart: events %v, want %v (and not seq 1 again)", got, want)
	}
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		seq, err := r.st.PublishedSeq(ctx, r.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("published seq %d, want 3", seq)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRelayOnlyLeaderSweeps: in a cluster every replica publishes what it
// is notified of, but only the leader sweeps for events nobody notified.
func TestRelayOnlyLeaderSweeps(t *testing.T) {
	r := newRelayRig(t)
	sub := r.subscribe(t)
	var leader atomic.Bool
	relay, _ := r.startRelayWith(t, RelayOptions{Interval: 10 * time.Millisecond, Leader: leader.Load})
	relay.Notify(r.ws.ID)
	sub.events(1) // notified: published by a follower too
	r.message(t, "unannounced")
	time.Sleep(100 * time.Millisecond) // ten sweeps a leader would have run
	if seq, err := r.st.PublishedSeq(context.Background(), r.ws.ID); err != nil || seq != 1 {
		t.Fatalf("a follower swept: published seq %d (%v), want 1", seq, err)
	}
	leader.Store(true)
	if got := sub.events(1); got[0] != "2 message.created" {
		t.Fatalf("leader published %v", got)
	}
}
