package drafts_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/inbox"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

var seq atomic.Int64

func unique(prefix string) string { return prefix + "-" + itoa(seq.Add(1)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// event is one event the service published.
type event struct {
	Name    string
	Channel string
	Data    draftData
	// At is when the service published it.
	At time.Time
}

// draftData is the union of the three draft payloads.
type draftData struct {
	DraftID string      `json:"draft_id"`
	Seq     int         `json:"seq"`
	Text    string      `json:"text"`
	Reason  ai.Reason   `json:"reason"`
	Message string      `json:"message"`
	Model   string      `json:"model"`
	Sources []ai.Source `json:"sources"`
}

// recorder is the publisher: it records every event and passes it on to
// the hub.
type recorder struct {
	next   drafts.Publisher
	mu     sync.Mutex
	events []event
}

func (r *recorder) Publish(ctx context.Context, app *hub.App, ev hub.Event) error {
	var d draftData
	if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
		return err
	}
	r.mu.Lock()
	for _, ch := range ev.Channels {
		r.events = append(r.events, event{Name: ev.Name, Channel: ch, Data: d, At: time.Now()})
	}
	r.mu.Unlock()
	return r.next.Publish(ctx, app, ev)
}

// waitFor polls the recorded events until find returns true, failing the
// test after a generous deadline (a hang, not a timing assertion).
func (r *recorder) waitFor(t testing.TB, what string, find func(evs []event) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		evs := append([]event(nil), r.events...)
		r.mu.Unlock()
		if find(evs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; events: %+v", what, evs)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// ended waits for draftID's draft.completed or draft.failed and returns
// the draft's events in order.
func (r *recorder) ended(t testing.TB, draftID string) []event {
	t.Helper()
	var out []event
	r.waitFor(t, "draft "+draftID+" to end", func(evs []event) bool {
		out = out[:0]
		for _, e := range evs {
			if e.Data.DraftID == draftID {
				out = append(out, e)
				if e.Name != ai.EventDelta {
					return true
				}
			}
		}
		return false
	})
	return out
}

// hasEnded reports whether draftID's draft.completed or draft.failed has
// been published.
func (r *recorder) hasEnded(draftID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Data.DraftID == draftID && e.Name != ai.EventDelta {
			return true
		}
	}
	return false
}

// draftIn waits for the n-th draft published on channel and returns its
// id.
func (r *recorder) draftIn(t testing.TB, channel string, n int) string {
	t.Helper()
	var id string
	r.waitFor(t, "a draft on "+channel, func(evs []event) bool {
		seen := map[string]bool{}
		for _, e := range evs {
			if e.Channel == channel && !seen[e.Data.DraftID] {
				seen[e.Data.DraftID] = true
				if len(seen) == n {
					id = e.Data.DraftID
					return true
				}
			}
		}
		return false
	})
	return id
}

// rig is a store, a hub serving it, a relay publishing its events and a
// drafts service hooked to the relay.
type rig struct {
	st    store.Store
	hub   *hub.Hub
	srv   *httptest.Server
	rec   *recorder
	svc   *drafts.Service
	relay *inbox.Relay
	fake  *fakeOpenAI
	box   *secretbox.Box
}

// fakeURL in Options.Default.BaseURL stands for the rig's fake endpoint.
const fakeURL = "fake"

func newRig(t testing.TB, st store.Store, opt drafts.Options) *rig {
	return newReplicaRig(t, st, nil, opt)
}

// newReplicaRig is newRig with the hub on broker (nil: in-process), for
// replicas of one cluster sharing st.
func newReplicaRig(t testing.TB, st store.Store, broker hub.Broker, opt drafts.Options) *rig {
	t.Helper()
	static, _ := hub.NewStaticApps()
	h, err := hub.New(hub.Options{Apps: &inbox.Apps{Static: static, Workspaces: st}, Broker: broker})
	must(t, err)
	opt.Signals = h
	srv := httptest.NewServer(h)
	box, err := secretbox.New([]byte(strings.Repeat("k", secretbox.KeySize)))
	must(t, err)
	r := &rig{st: st, hub: h, srv: srv, rec: &recorder{next: h}, fake: newFakeOpenAI(t), box: box}
	if opt.Box == nil {
		opt.Box = box
	}
	if opt.Default.BaseURL == fakeURL {
		opt.Default.BaseURL = r.fake.URL()
	}
	r.svc = drafts.New(st, r.rec, opt)
	relayOpts := inbox.RelayOptions{Interval: 20 * time.Millisecond, OnEvents: r.svc.OnEvents}
	if broker != nil {
		// Replicas publish only what they commit (and are notified of):
		// no sweep picks up another replica's commits.
		relayOpts.Leader = func() bool { return false }
	}
	r.relay = inbox.NewRelay(st, h, relayOpts)
	c, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.svc.Run(c) })
	wg.Go(func() { r.relay.Run(c) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		h.Shutdown(context.Background())
		srv.Close()
	})
	return r
}

// tenant is a workspace with an inbox and its owner.
type tenant struct {
	ws    store.Workspace
	owner store.Agent
	inbox store.Inbox
}

// workspace creates a workspace whose drafts come from the fake model
// (provider openai), or offline when offline is true.
func (r *rig) workspace(t testing.TB, offline bool) tenant {
	t.Helper()
	var tn tenant
	var err error
	tn.ws, tn.owner, err = r.st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: unique("ws"), OwnerEmail: unique("owner") + "@example.com", OwnerName: "Olive"})
	must(t, err)
	tn.inbox, err = r.st.CreateInbox(ctx(t), tn.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "Support"})
	must(t, err)
	if !offline {
		_, err = r.st.SetAISettings(ctx(t), tn.ws.ID, store.AISettings{Enabled: true, Provider: store.AIProviderOpenAI,
			BaseURL: r.fake.URL(), Model: "gpt-4o-mini", Instructions: "We ship from Lisbon.", Redact: true})
		must(t, err)
	}
	return tn
}

func (r *rig) conversation(t testing.TB, tn tenant, name string) store.Conversation {
	t.Helper()
	c, _, err := r.st.UpsertContact(ctx(t), tn.ws.ID, store.Identity{Channel: "api", ExternalID: unique("user")},
		store.NewContact{Name: name, Attributes: json.RawMessage(`{"plan":"pro","orders":3}`)})
	must(t, err)
	conv, _, err := r.st.CreateConversation(ctx(t), tn.ws.ID, store.NewConversation{InboxID: tn.inbox.ID, ContactID: c.ID})
	must(t, err)
	return conv
}

// inbound stores a customer message, as a connector would, and tells the
// relay, as the connector's commit hook does.
func (r *rig) inbound(t testing.TB, tn tenant, conv store.Conversation, body string) {
	t.Helper()
	_, err := r.st.CreateMessage(ctx(t), tn.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn,
		Body: body, ProviderMessageID: unique("msg")})
	must(t, err)
	r.relay.Notify(tn.ws.ID)
}

// agent stores an agent's message of type typ and tells the relay.
func (r *rig) agent(t testing.TB, tn tenant, conv store.Conversation, typ store.MessageType, body string) {
	t.Helper()
	_, err := r.st.CreateMessage(ctx(t), tn.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: tn.owner.ID, Type: typ, Body: body})
	must(t, err)
	r.relay.Notify(tn.ws.ID)
}

// client is a Pusher client subscribed to a conversation's presence
// channel, signed as the channel-auth endpoint signs it.
type client struct {
	t    testing.TB
	conn *websocket.Conn
}

type frame struct {
	Event   string `json:"event"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

func (r *rig) subscribe(t testing.TB, ws store.Workspace, conversationID int64) *client {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(c, "ws"+strings.TrimPrefix(r.srv.URL, "http")+"/app/"+ws.AppKey+"?protocol=7", nil)
	must(t, err)
	t.Cleanup(func() { conn.CloseNow() })
	cl := &client{t: t, conn: conn}
	var established struct {
		SocketID string `json:"socket_id"`
	}
	must(t, json.Unmarshal([]byte(cl.next().Data), &established))
	channel := drafts.Channel(conversationID)
	channelData := `{"user_id":"agent-1","user_info":{"name":"Olive"}}`
	sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{
		"channel": channel, "channel_data": channelData,
		"auth": ws.AppKey + ":" + hub.Sign(ws.AppSecret, established.SocketID+":"+channel+":"+channelData),
	}})
	must(t, conn.Write(c, websocket.MessageText, sub))
	if f := cl.next(); f.Event != "pusher_internal:subscription_succeeded" || f.Channel != channel {
		t.Fatalf("subscribe to %s: %+v", channel, f)
	}
	return cl
}

func (c *client) next() frame {
	c.t.Helper()
	rctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, msg, err := c.conn.Read(rctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(msg, &f); err != nil {
		c.t.Fatalf("frame %s: %v", msg, err)
	}
	return f
}

// draft reads frames until a draft ends, returning its events in order.
func (c *client) draft() []event {
	c.t.Helper()
	var out []event
	for {
		f := c.next()
		if !strings.HasPrefix(f.Event, "draft.") {
			continue
		}
		var d draftData
		if err := json.Unmarshal([]byte(f.Data), &d); err != nil {
			c.t.Fatalf("draft event %s: %v", f.Data, err)
		}
		out = append(out, event{Name: f.Event, Channel: f.Channel, Data: d})
		if f.Event != ai.EventDelta {
			return out
		}
	}
}

// checkStream checks a draft's events: deltas numbered from 1, all of one
// draft, then one draft.completed whose text is the deltas' text.
func checkStream(t testing.TB, evs []event) draftData {
	t.Helper()
	last := evs[len(evs)-1]
	if last.Name != ai.EventCompleted {
		t.Fatalf("the draft ended with %s %+v", last.Name, last.Data)
	}
	var text strings.Builder
	for i, e := range evs[:len(evs)-1] {
		if e.Name != ai.EventDelta || e.Data.Seq != i+1 || e.Data.DraftID != last.Data.DraftID {
			t.Fatalf("event %d is %s %+v, want draft.delta seq %d of %s", i, e.Name, e.Data, i+1, last.Data.DraftID)
		}
		text.WriteString(e.Data.Text)
	}
	if len(evs) < 2 || text.String() != last.Data.Text {
		t.Fatalf("deltas %q, completed %q", text.String(), last.Data.Text)
	}
	return last.Data
}

// TestInboundMessageStreamsDraft: an inbound message, once published,
// starts a draft that a subscribed Pusher client receives on the
// conversation's presence channel, in order; the prompt has the
// conversation without its notes, the contact's facts and the
// workspace's instructions.
func TestInboundMessageStreamsDraft(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		r := newRig(t, st, drafts.Options{})
		tn := r.workspace(t, false)
		conv := r.conversation(t, tn, "Carol")
		cl := r.subscribe(t, tn.ws, conv.ID)
		r.agent(t, tn, conv, store.TypeNote, "secret-note: VIP, be nice")
		r.inbound(t, tn, conv, "Where is my order? My email is carol@example.com")

		d := checkStream(t, cl.draft())
		if d.Text != "Hi Carol! Your order ships today." || d.Model == "" {
			t.Fatalf("completed %+v", d)
		}
		if n := r.fake.requestCount(); n != 1 {
			t.Fatalf("%d model requests, want 1", n)
		}
		req := r.fake.request(0)
		var prompt strings.Builder
		for _, m := range req.Messages {
			prompt.WriteString(m.Role + ": " + m.Content + "\n")
		}
		p := prompt.String()
		for _, want := range []string{"We ship from Lisbon.", "Where is my order?", "Carol", "pro", "[email]"} {
			if !strings.Contains(p, want) {
				t.Errorf("the prompt lacks %q:\n%s", want, p)
			}
		}
		for _, leak := range []string{"secret-note", "carol@example.com"} {
			if strings.Contains(p, leak) {
				t.Errorf("the prompt contains %q:\n%s", leak, p)
			}
		}
		if !req.Stream || req.Model != "gpt-4o-mini" {
			t.Errorf("request %+v", req)
		}
	})
}

// TestNewInboundCancelsDraft: a second inbound message cancels the
// running draft (draft.failed, canceled) and starts a fresh one.
func TestNewInboundCancelsDraft(t *testing.T) {
	r := newRig(t, teststore.SQLite(t), drafts.Options{})
	r.fake.setMode("stall")
	tn := r.workspace(t, false)
	conv := r.conversation(t, tn, "Carol")
	ch := drafts.Channel(conv.ID)

	r.inbound(t, tn, conv, "Where is my order?")
	first := r.rec.draftIn(t, ch, 1)
	r.inbound(t, tn, conv, "Hello??")
	evs := r.rec.ended(t, first)
	if last := evs[len(evs)-1]; last.Name != ai.EventFailed || last.Data.Reason != ai.ReasonCanceled {
		t.Fatalf("the first draft ended with %s %+v, want draft.failed canceled", last.Name, last.Data)
	}
	second := r.rec.draftIn(t, ch, 2)
	if second == first {
		t.Fatal("no second draft")
	}
	r.rec.waitFor(t, "the second draft's first delta", func(evs []event) bool {
		for _, e := range evs {
			if e.Data.DraftID == second && e.Name == ai.EventDelta && e.Data.Seq == 1 {
				return true
			}
		}
		return false
	})
	if n := r.fake.requestCount(); n != 2 {
		t.Fatalf("%d model requests, want 2", n)
	}
	if req := r.fake.request(1); !strings.Contains(req.Messages[len(req.Messages)-1].Content, "Hello??") {
		t.Fatalf("the second draft was not written from the new message: %+v", req.Messages)
	}
}

// TestAgentReplyCancelsDraft: an agent's reply cancels the running draft;
// so does resolving the conversation.
func TestAgentReplyCancelsDraft(t *testing.T) {
	r := newRig(t, teststore.SQLite(t), drafts.Options{})
	r.fake.setMode("stall")
	tn := r.workspace(t, false)
	conv := r.conversation(t, tn, "Carol")
	ch := drafts.Channel(conv.ID)

	r.inbound(t, tn, conv, "Where is my order?")
	first := r.rec.draftIn(t, ch, 1)
	r.agent(t, tn, conv, store.TypeText, "It ships today!")
	evs := r.rec.ended(t, first)
	if last := evs[len(evs)-1]; last.Name != ai.EventFailed || last.Data.Reason != ai.ReasonCanceled {
		t.Fatalf("the draft ended with %s %+v, want draft.failed canceled", last.Name, last.Data)
	}

	r.inbound(t, tn, conv, "Thanks! One more thing")
	second := r.rec.draftIn(t, ch, 2)
	_, _, err := r.st.UpdateConversation(ctx(t), tn.ws.ID, conv.ID, store.ConversationUpdate{Status: ptr(store.StatusResolved)})
	must(t, err)
	r.relay.Notify(tn.ws.ID)
	evs = r.rec.ended(t, second)
	if last := evs[len(evs)-1]; last.Name != ai.EventFailed || last.Data.Reason != ai.ReasonCanceled {
		t.Fatalf("the draft ended with %s %+v, want draft.failed canceled", last.Name, last.Data)
	}
}

func ptr[T any](v T) *T { return &v }

// TestAIOffCancelsRunningDraft: turning AI off for the contact, or for
// the workspace, stops a draft already streaming (the API calls
// CancelContact and CancelWorkspace after the change is stored), while
// another contact's draft runs on.
func TestAIOffCancelsRunningDraft(t *testing.T) {
	r := newRig(t, teststore.SQLite(t), drafts.Options{Workers: 2})
	r.fake.setMode("stall")
	tn := r.workspace(t, false)
	carol := r.conversation(t, tn, "Carol")
	dave := r.conversation(t, tn, "Dave")

	r.inbound(t, tn, carol, "Where is my order?")
	first := r.rec.draftIn(t, drafts.Channel(carol.ID), 1)
	r.inbound(t, tn, dave, "Do you ship to Canada?")
	daves := r.rec.draftIn(t, drafts.Channel(dave.ID), 1)
	// Both are streaming, so both have read their conversation: the
	// service knows their contacts.
	r.svc.CancelContact(tn.ws.ID, carol.ContactID)
	evs := r.rec.ended(t, first)
	if last := evs[len(evs)-1]; last.Name != ai.EventFailed || last.Data.Reason != ai.ReasonCanceled {
		t.Fatalf("Carol's draft ended with %s %+v, want draft.failed canceled", last.Name, last.Data)
	}
	if r.rec.hasEnded(daves) {
		t.Fatal("canceling Carol's drafts ended Dave's")
	}
	r.svc.CancelWorkspace(tn.ws.ID)
	evs = r.rec.ended(t, daves)
	if last := evs[len(evs)-1]; last.Name != ai.EventFailed || last.Data.Reason != ai.ReasonCanceled {
		t.Fatalf("Dave's draft ended with %s %+v, want draft.failed canceled", last.Name, last.Data)
	}
}

// TestAIOffHonoured: with AI off for a contact or a whole workspace, no
// inbound message and no request for a draft reaches the model. One
// worker runs the drafts in order, so once a later draft of a contact
// with AI on has completed, the earlier trigger was handled.
func TestAIOffHonoured(t *testing.T) {
	r := newRig(t, teststore.SQLite(t), drafts.Options{Workers: 1})
	on := r.workspace(t, false)
	sentinel := r.conversation(t, on, "Sam")
	off := r.workspace(t, false)
	private := r.conversation(t, off, "Pia")
	_, err := r.st.SetContactAI(ctx(t), off.ws.ID, private.ContactID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)

	sentinels := 0
	waitSentinel := func() {
		t.Helper()
		sentinels++
		r.inbound(t, on, sentinel, "Where is my order? "+itoa(int64(sentinels)))
		checkStream(t, r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(sentinel.ID), sentinels)))
	}

	r.inbound(t, off, private, "Please do not use AI on me")
	waitSentinel()
	if _, err := r.svc.Start(ctx(t), off.ws.ID, private.ID); !errors.Is(err, drafts.ErrContactAIOff) {
		t.Fatalf("Start for a contact with AI off: %v", err)
	}

	// The whole workspace off, the contact on again.
	_, err = r.st.SetContactAI(ctx(t), off.ws.ID, private.ContactID, store.AIConsentChange{Enabled: true, Channel: "api", Source: "agent:1"})
	must(t, err)
	s, err := r.st.AISettings(ctx(t), off.ws.ID)
	must(t, err)
	s.Enabled = false
	_, err = r.st.SetAISettings(ctx(t), off.ws.ID, s)
	must(t, err)
	r.inbound(t, off, private, "Anyone there?")
	waitSentinel()
	if _, err := r.svc.Start(ctx(t), off.ws.ID, private.ID); !errors.Is(err, drafts.ErrWorkspaceAIOff) {
		t.Fatalf("Start in a workspace with AI off: %v", err)
	}

	if n := r.fake.requestCount(); n != sentinels {
		t.Fatalf("the model got %d requests, want only the %d of the workspace with AI on", n, sentinels)
	}
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	for _, e := range r.rec.events {
		if e.Channel == drafts.Channel(private.ID) {
			t.Fatalf("a draft event was published for the conversation with AI off: %+v", e)
		}
	}
}

// TestFailingModel: an endpoint that errs, answers garbage or hangs ends
// the draft with draft.failed and the matching reason.
func TestFailingModel(t *testing.T) {
	r := newRig(t, teststore.SQLite(t), drafts.Options{Timeout: 300 * time.Millisecond})
	tn := r.workspace(t, false)
	for _, tc := range []struct {
		mode string
		want ai.Reason
	}{
		{"error", ai.ReasonUnavailable},
		{"json", ai.ReasonBadResponse},
		{"hang", ai.ReasonTimeout},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			r.fake.setMode(tc.mode)
			conv := r.conversation(t, tn, "Carol")
			r.inbound(t, tn, conv, "Where is my order?")
			evs := r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(conv.ID), 1))
			last := evs[len(evs)-1]
			if last.Name != ai.EventFailed || last.Data.Reason != tc.want || last.Data.Message == "" {
				t.Fatalf("ended with %s %+v, want draft.failed %s", last.Name, last.Data, tc.want)
			}
		})
	}
}

// knowledgeBase is a small help centre.
var knowledgeBase = []store.NewKnowledgeArticle{
	{Title: "Shipping times and costs", Body: "We ship every order from our Lisbon warehouse within one business day. Standard shipping to Europe takes 3 to 5 business days and costs 4.90 EUR."},
	{Title: "Returns and refunds", Body: "You can return any unworn item within 30 days of delivery. We refund the original payment method within 5 business days."},
	{Title: "Resetting your password", Body: "On the sign-in page choose Forgot password and enter your email address. We send a reset link that is valid for 1 hour."},
}

// TestOfflineDrafts: the offline suggester answers from the workspace's
// articles, sees an edited article at the next draft, and learns from
// resolved conversations.
func TestOfflineDrafts(t *testing.T) {
	r := newRig(t, teststore.SQLite(t), drafts.Options{})
	tn := r.workspace(t, true)
	var shipping store.KnowledgeArticle
	for i, na := range knowledgeBase {
		a, err := r.st.CreateKnowledgeArticle(ctx(t), tn.ws.ID, na)
		must(t, err)
		if i == 0 {
			shipping = a
		}
	}
	// A resolved exchange to learn from.
	past := r.conversation(t, tn, "Maria")
	r.inbound(t, tn, past, "Can I get an invoice with my company VAT number on it?")
	r.agent(t, tn, past, store.TypeText, "Hi Maria, sure! Reply with your company name and VAT number and we will email you the invoice.")
	_, _, err := r.st.UpdateConversation(ctx(t), tn.ws.ID, past.ID, store.ConversationUpdate{Status: ptr(store.StatusResolved)})
	must(t, err)

	conv := r.conversation(t, tn, "Carol")
	cl := r.subscribe(t, tn.ws, conv.ID)
	r.inbound(t, tn, conv, "How long does shipping to Europe take?")
	d := checkStream(t, cl.draft())
	if !strings.Contains(d.Text, "3 to 5 business days") || d.Model != ai.OfflineModel ||
		len(d.Sources) == 0 || d.Sources[0].Kind != ai.KindArticle || d.Sources[0].Title != "Shipping times and costs" {
		t.Fatalf("offline draft %+v", d)
	}

	_, err = r.st.UpdateKnowledgeArticle(ctx(t), tn.ws.ID, shipping.ID, store.KnowledgeArticleUpdate{
		Body: ptr("We ship every order from our Lisbon warehouse within one business day. Standard shipping to Europe takes 2 to 4 business days.")})
	must(t, err)
	id, err := r.svc.Start(ctx(t), tn.ws.ID, conv.ID)
	must(t, err)
	d = checkStream(t, r.rec.ended(t, id))
	if !strings.Contains(d.Text, "2 to 4 business days") {
		t.Fatalf("the draft after the edit: %+v", d)
	}

	vat := r.conversation(t, tn, "Tom")
	r.inbound(t, tn, vat, "Could I get an invoice with our VAT number?")
	d = checkStream(t, r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(vat.ID), 1)))
	if len(d.Sources) == 0 || d.Sources[0].Kind != ai.KindReply || !strings.Contains(d.Text, "VAT number") || strings.Contains(d.Text, "Maria") {
		t.Fatalf("the draft from a past reply: %+v", d)
	}
	if n := r.fake.requestCount(); n != 0 {
		t.Fatalf("the offline suggester made %d model requests", n)
	}
}

// TestKeysAndDefaults: a workspace on openai with empty settings uses the
// server's endpoint, model and key; its own key, sealed, replaces the
// server's; a key sealed for one workspace does not open for another.
func TestKeysAndDefaults(t *testing.T) {
	st := teststore.SQLite(t)
	r := newRig(t, st, drafts.Options{Default: drafts.Endpoint{BaseURL: fakeURL, Model: "default-model", APIKey: "server-key"}})
	svc := r.svc

	tn := r.workspace(t, true)
	_, err := st.SetAISettings(ctx(t), tn.ws.ID, store.AISettings{Enabled: true, Provider: store.AIProviderOpenAI})
	must(t, err)
	conv := r.conversation(t, tn, "Carol")
	r.inbound(t, tn, conv, "Hi")
	checkStream(t, r.rec.ended(t, r.rec.draftIn(t, drafts.Channel(conv.ID), 1)))
	if req, auth := r.fake.request(0), r.fake.authorization(0); req.Model != "default-model" || auth != "Bearer server-key" {
		t.Fatalf("model %q, authorization %q: want the server's", req.Model, auth)
	}

	sealed, err := svc.SealKey(tn.ws.ID, "workspace-key")
	must(t, err)
	if strings.Contains(string(sealed), "workspace-key") {
		t.Fatal("the key is not sealed")
	}
	if _, err := svc.OpenKey(tn.ws.ID+1, sealed); err == nil {
		t.Fatal("a key sealed for one workspace opened for another")
	}
	_, err = st.SetAISettings(ctx(t), tn.ws.ID, store.AISettings{Enabled: true, Provider: store.AIProviderOpenAI, Model: "own-model", APIKey: sealed})
	must(t, err)
	id, err := svc.Start(ctx(t), tn.ws.ID, conv.ID)
	must(t, err)
	checkStream(t, r.rec.ended(t, id))
	if req, auth := r.fake.request(1), r.fake.authorization(1); req.Model != "own-model" || auth != "Bearer workspace-key" {
		t.Fatalf("model %q, authorization %q: want the workspace's", req.Model, auth)
	}

	if _, err := drafts.New(st, r.rec, drafts.Options{}).SealKey(1, "k"); !errors.Is(err, drafts.ErrNoSecretKey) {
		t.Fatalf("sealing without a secret key: %v", err)
	}
}

// TestBounds: a full queue refuses a draft; an unknown conversation is
// not found; a stopped service starts nothing.
func TestBounds(t *testing.T) {
	st := teststore.SQLite(t)
	r := newRig(t, st, drafts.Options{})
	tn := r.workspace(t, true)
	a, b := r.conversation(t, tn, "A"), r.conversation(t, tn, "B")

	idle := drafts.New(st, r.rec, drafts.Options{Queue: 1}) // never Run: nothing drains its queue
	if _, err := idle.Start(ctx(t), tn.ws.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := idle.Start(ctx(t), tn.ws.ID, b.ID); !errors.Is(err, drafts.ErrBusy) {
		t.Fatalf("a draft beyond the queue: %v", err)
	}
	if _, err := r.svc.Start(ctx(t), tn.ws.ID, 1<<40); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown conversation: %v", err)
	}
	other := r.workspace(t, true)
	if _, err := r.svc.Start(ctx(t), other.ws.ID, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another workspace's conversation: %v", err)
	}

	stopped := drafts.New(st, r.rec, drafts.Options{})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	stopped.Run(c)
	if _, err := stopped.Start(ctx(t), tn.ws.ID, a.ID); !errors.Is(err, drafts.ErrClosed) {
		t.Fatalf("Start after Run returned: %v", err)
	}
}
