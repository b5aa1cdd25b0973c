package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/outbox"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/postgres"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const (
	phoneNumberID = "106540352242922"
	accessToken   = "EAAG-test-token"
	appSecret     = "meta-app-secret"
	waID          = "16505551234"
)

// stores runs fn against SQLite and Postgres.
func stores(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, teststore.SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, teststore.Postgres(t)) })
}

// graph is a fake Graph API. Each request is answered by the next of
// answers (the last repeats); nil answers with success.
type graph struct {
	t    testing.TB
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []sent
	// answers are HTTP statuses with bodies; 200 means a success body.
	answers []answer
	// block, when set, holds each request until it is closed.
	block   chan struct{}
	arrived chan struct{}
	// uploads are the media uploads received; uploadAnswers answer them
	// as answers do the messages.
	uploads       []upload
	uploadAnswers []answer
}

type answer struct {
	status int
	body   string
}

type sent struct {
	Path, Auth string
	Body       map[string]any
}

func newGraph(t testing.TB, answers ...answer) *graph {
	g := &graph{t: t, answers: answers, arrived: make(chan struct{}, 100)}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *graph) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/media") {
		g.serveUpload(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, `{"error":{"message":"bad json","type":"OAuthException","code":100}}`, http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	n := len(g.reqs)
	g.reqs = append(g.reqs, sent{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body})
	a := answer{status: http.StatusOK}
	if len(g.answers) > 0 {
		a = g.answers[min(n, len(g.answers)-1)]
	}
	block := g.block
	g.mu.Unlock()
	g.arrived <- struct{}{}
	if block != nil {
		<-block
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	if a.status == http.StatusOK {
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.OUT%d"}]}`, body["to"], body["to"], n+1)
		return
	}
	io.WriteString(w, a.body)
}

func (g *graph) requests() []sent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slicesClone(g.reqs)
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

// env is a configured WhatsApp inbox with one conversation.
type env struct {
	t     testing.TB
	st    store.Store
	box   *secretbox.Box
	ws    store.Workspace
	owner store.Agent
	inbox store.Inbox
	conv  store.Conversation
	graph *graph
}

func newEnv(t testing.TB, st store.Store, g *graph) *env {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	must(t, err)
	e := &env{t: t, st: st, box: box, graph: g}
	e.ws, e.owner, err = st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	must(t, err)
	e.inbox, err = st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support line"})
	must(t, err)
	settings, sealed, err := whatsapp.Seal(box, e.inbox.ID, whatsapp.Config{PhoneNumberID: phoneNumberID, VerifyToken: "v", AppSecret: appSecret, AccessToken: accessToken})
	must(t, err)
	e.inbox, err = st.ConfigureInbox(ctx, e.ws.ID, e.inbox.ID, settings, sealed)
	must(t, err)
	c, _, err := st.UpsertContact(ctx, e.ws.ID, store.Identity{Channel: "whatsapp", ExternalID: waID}, store.NewContact{Name: "Carol", Phone: "+" + waID})
	must(t, err)
	e.conv, _, err = st.CreateConversation(ctx, e.ws.ID, store.NewConversation{InboxID: e.inbox.ID, ContactID: c.ID})
	must(t, err)
	// The customer wrote first, so WhatsApp's 24-hour window is open.
	_, err = st.CreateMessage(ctx, e.ws.ID, store.NewMessage{
		ConversationID: e.conv.ID, Direction: store.DirectionIn, Body: "Hello?", ProviderMessageID: "wamid.FIRST-" + e.ws.Name,
	})
	must(t, err)
	return e
}

func (e *env) drainer(opts outbox.Options) *outbox.Drainer {
	opts.Store = e.st
	opts.Senders = map[store.InboxKind]outbox.Sender{store.InboxWhatsApp: whatsapp.NewSender(whatsapp.SenderOptions{
		Store: e.st, Box: e.box, GraphURL: e.graph.srv.URL, GraphVersion: "v23.0",
	})}
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Millisecond
	}
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff = time.Millisecond
	}
	return outbox.New(opts)
}

// run runs d until the test ends.
func run(t testing.TB, d *outbox.Drainer) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (e *env) reply(body string) store.Message {
	e.t.Helper()
	m, err := e.st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
		ConversationID: e.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: body,
	})
	must(e.t, err)
	return m.Message
}

// waitStatus polls until the message has status.
func (e *env) waitStatus(id int64, status store.DeliveryStatus) store.Message {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := e.st.Message(context.Background(), e.ws.ID, id)
		must(e.t, err)
		if m.Status == status {
			return m
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("message %d is %s (%q), want %s", id, m.Status, m.Error, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSendsAndTracksDelivery(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t))
		var mu sync.Mutex
		var committed []int64
		run(t, e.drainer(outbox.Options{OnCommit: func(ws int64) { mu.Lock(); committed = append(committed, ws); mu.Unlock() }}))
		note, err := st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
			ConversationID: e.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: e.owner.ID,
			Type: store.TypeNote, Body: "private: never sent",
		})
		must(t, err)
		m := e.waitStatus(e.reply("Hello Carol").ID, store.DeliverySent)
		if m.ProviderMessageID != "wamid.OUT1" {
			t.Fatalf("provider id %q, want wamid.OUT1", m.ProviderMessageID)
		}
		reqs := e.graph.requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests, want 1 (the note %d is not sent)", len(reqs), note.Message.ID)
		}
		r := reqs[0]
		want := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": waID, "type": "text", "text": map[string]any{"body": "Hello Carol"}}
		if r.Path != "/v23.0/"+phoneNumberID+"/messages" || r.Auth != "Bearer "+accessToken || fmt.Sprint(r.Body) != fmt.Sprint(want) {
			t.Fatalf("request %+v", r)
		}
		mu.Lock()
		if len(committed) == 0 || committed[0] != e.ws.ID {
			t.Fatalf("OnCommit got %v", committed)
		}
		mu.Unlock()

		// Meta's delivery receipt finds the message by the id it gave.
		h := whatsapp.New(whatsapp.Options{Store: st, Box: e.box})
		payload := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
			"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"` + phoneNumberID + `"},
			"statuses":[{"id":"wamid.OUT1","status":"delivered","timestamp":"1750263774","recipient_id":"` + waID + `"}]}}]}]}`)
		req := httptest.NewRequest(http.MethodPost, "/channels/whatsapp/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook", bytes.NewReader(payload))
		req.Header.Set(connector.MetaSignatureHeader, connector.MetaSign(payload, appSecret))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("status webhook answered %d %s", w.Code, w.Body)
		}
		e.waitStatus(m.ID, store.DeliveryDelivered)
	})
}

func TestThrottledThenSentOnce(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t,
			answer{http.StatusTooManyRequests, `{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"A1"}}`},
			answer{status: http.StatusOK}))
		run(t, e.drainer(outbox.Options{}))
		m := e.waitStatus(e.reply("after a pause").ID, store.DeliverySent)
		if n := len(e.graph.requests()); n != 2 || m.ProviderMessageID != "wamid.OUT2" {
			t.Fatalf("%d requests, provider id %q; want 2 and wamid.OUT2", n, m.ProviderMessageID)
		}
	})
}

func TestServerErrorsFailAfterMaxAttempts(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t, answer{http.StatusInternalServerError, `{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"fbtrace_id":"B2"}}`}))
		run(t, e.drainer(outbox.Options{MaxAttempts: 3}))
		m := e.waitStatus(e.reply("doomed").ID, store.DeliveryFailed)
		if n := len(e.graph.requests()); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
		if m.Error != "WhatsApp error 1: An unknown error occurred" {
			t.Fatalf("error %q", m.Error)
		}
	})
}

func TestRefusalFailsAtOnce(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t, answer{http.StatusBadRequest, `{"error":{"message":"(#131030) Recipient phone number not in allowed list","type":"OAuthException","code":131030,
			"error_data":{"messaging_product":"whatsapp","details":"Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."},"fbtrace_id":"C3"}}`}))
		run(t, e.drainer(outbox.Options{}))
		m := e.waitStatus(e.reply("not allowed").ID, store.DeliveryFailed)
		if n := len(e.graph.requests()); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		if m.Error != "WhatsApp error 131030: Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again." {
			t.Fatalf("error %q", m.Error)
		}
	})
}

func TestMissingAccessTokenFailsAtOnce(t *testing.T) {
	st := teststore.SQLite(t)
	e := newEnv(t, st, newGraph(t))
	settings, sealed, err := whatsapp.Seal(e.box, e.inbox.ID, whatsapp.Config{PhoneNumberID: phoneNumberID, VerifyToken: "v", AppSecret: appSecret})
	must(t, err)
	_, err = st.ConfigureInbox(context.Background(), e.ws.ID, e.inbox.ID, settings, sealed)
	must(t, err)
	run(t, e.drainer(outbox.Options{}))
	m := e.waitStatus(e.reply("no token").ID, store.DeliveryFailed)
	if !strings.Contains(m.Error, "no access token") || len(e.graph.requests()) != 0 {
		t.Fatalf("error %q, %d requests", m.Error, len(e.graph.requests()))
	}
}

// TestTwoDrainersSendEachOnce: replicas draining one Postgres database
// never send the same message twice.
func TestTwoDrainersSendEachOnce(t *testing.T) {
	const n = 40
	url := storetest.FreshPostgres(t)
	var replicas []store.Store
	for range 2 {
		s, err := postgres.New(context.Background(), url)
		must(t, err)
		t.Cleanup(func() { s.Close() })
		replicas = append(replicas, s)
	}
	st, other := replicas[0], replicas[1]
	e := newEnv(t, st, newGraph(t))
	var ids []int64
	for i := range n {
		ids = append(ids, e.reply(fmt.Sprintf("reply %d", i)).ID)
	}
	run(t, e.drainer(outbox.Options{}))
	second := *e
	second.st = other
	run(t, second.drainer(outbox.Options{}))
	for _, id := range ids {
		e.waitStatus(id, store.DeliverySent)
	}
	seen := map[string]int{}
	for _, r := range e.graph.requests() {
		seen[fmt.Sprint(r.Body["text"])]++
	}
	if len(seen) != n || len(e.graph.requests()) != n {
		t.Fatalf("%d requests for %d distinct bodies, want %d each", len(e.graph.requests()), len(seen), n)
	}
}

// TestTemplateSend: a template message reaches the Graph API as the
// Cloud API's template object.
func TestTemplateSend(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t))
		m, err := st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
			ConversationID: e.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Type: store.TypeTemplate,
			Body: "[template order_update]", Content: []byte(`{"template":{"name":"order_update","language":"en_US","parameters":["#1042"]}}`),
		})
		must(t, err)
		run(t, e.drainer(outbox.Options{}))
		e.waitStatus(m.Message.ID, store.DeliverySent)
		reqs := e.graph.requests()
		if len(reqs) != 1 || reqs[0].Body["type"] != "template" {
			t.Fatalf("requests %+v", reqs)
		}
		got, _ := json.Marshal(reqs[0].Body["template"])
		if want := `{"components":[{"parameters":[{"text":"#1042","type":"text"}],"type":"body"}],"language":{"code":"en_US"},"name":"order_update"}`; string(got) != want {
			t.Fatalf("template %s, want %s", got, want)
		}
	})
}

// TestExpiredLeaseIsSentAgain: a drainer that claimed a message and died
// leaves it to the next one once the lease ends.
func TestExpiredLeaseIsSentAgain(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, newGraph(t))
		m := e.reply("orphaned")
		es, err := st.ClaimOutbox(context.Background(), []store.InboxKind{store.InboxWhatsApp}, store.Now(), 200*time.Millisecond, 1)
		must(t, err)
		if len(es) != 1 {
			t.Fatalf("claimed %d", len(es))
		}
		// The claimer is gone. Another drainer finds nothing until the
		// lease ends, then sends it.
		run(t, e.drainer(outbox.Options{}))
		got := e.waitStatus(m.ID, store.DeliverySent)
		if n := len(e.graph.requests()); n != 1 || got.ProviderMessageID == "" {
			t.Fatalf("%d requests, provider id %q", n, got.ProviderMessageID)
		}
		if _, _, err := st.MarkOutboxSent(context.Background(), es[0], "wamid.late"); err == nil {
			t.Fatal("the dead claim could still complete the entry")
		}
	})
}

// TestShutdownFinishesInFlightSend: cancelling Run stops claiming but the
// send under way completes and is recorded before Run returns.
func TestShutdownFinishesInFlightSend(t *testing.T) {
	st := teststore.SQLite(t)
	g := newGraph(t)
	g.block = make(chan struct{})
	e := newEnv(t, st, g)
	first, second := e.reply("in flight"), e.reply("not yet")
	d := e.drainer(outbox.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	<-g.arrived
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with a send in flight")
	default:
	}
	close(g.block)
	<-done
	if m, _ := st.Message(context.Background(), e.ws.ID, first.ID); m.Status != store.DeliverySent {
		t.Fatalf("in-flight message is %s, want sent", m.Status)
	}
	if m, _ := st.Message(context.Background(), e.ws.ID, second.ID); m.Status != store.DeliveryQueued {
		t.Fatalf("second message is %s, want queued (nothing claimed after shutdown)", m.Status)
	}
	if n := len(g.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}
