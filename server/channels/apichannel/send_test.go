package apichannel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/channels/outbox"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

var _ outbox.Sender = (*apichannel.Sender)(nil)

// receiver is a source's webhook endpoint: it keeps every request and
// answers each with the next of answers (the last repeats).
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	reqs    []received
	answers []answer
}

type answer struct {
	status int
	body   string
	header map[string]string
}

type received struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func newReceiver(t testing.TB, answers ...answer) *receiver {
	rc := &receiver{t: t, answers: answers}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("receiver: read body: %v", err)
	}
	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, received{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	a := answer{status: http.StatusOK, body: `{"id":"ext-` + strconv.Itoa(n+1) + `"}`}
	if len(rc.answers) > 0 {
		a = rc.answers[min(n, len(rc.answers)-1)]
	}
	rc.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// clock is a settable Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// inbound posts a customer's first message, so the contact is known to
// the inbox and a conversation is open; it returns the conversation.
func (e *env) inbound() apichannel.Filed {
	e.t.Helper()
	return e.mustPost(fixture(e.t, "message_text.json"), http.StatusCreated)
}

// reply stores an agent's reply in the conversation, queued for sending.
func (e *env) reply(conversationID int64, body string) store.Message {
	e.t.Helper()
	m, err := e.st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
		ConversationID: conversationID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: e.owner.ID, Body: body,
	})
	must(e.t, err)
	return m.Message
}

func (e *env) sender(c *clock) *apichannel.Sender {
	opts := apichannel.SenderOptions{Store: e.st, Box: e.box}
	if c != nil {
		opts.Now = c.Now
	}
	return apichannel.NewSender(opts)
}

func TestSenderRequest(t *testing.T) {
	rc := newReceiver(t, answer{status: http.StatusCreated, body: `{"id":"ext-reply-1","received":true}`})
	e := newEnv(t, teststore.SQLite(t), rc.srv.URL+"/hooks/switchboard?team=support", nil)
	conv := e.inbound()
	m := e.reply(conv.ConversationID, "Sorry about that, Ada — a replacement ships today.")
	c := &clock{now: time.Unix(1_763_900_000, 0)}

	id, err := e.sender(c).Send(context.Background(), m)
	if err != nil || id != "ext-reply-1" {
		t.Fatalf("Send = %q, %v; want the receiver's id", id, err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/hooks/switchboard" || r.Query != "team=support" {
		t.Errorf("request %s %s?%s, want POST to the webhook URL as configured", r.Method, r.Path, r.Query)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if k := r.Header.Get("Idempotency-Key"); k != "switchboard-message-"+strconv.FormatInt(m.ID, 10) {
		t.Errorf("Idempotency-Key %q", k)
	}
	sig := r.Header.Get("X-Switchboard-Signature")
	if !strings.HasPrefix(sig, "t=1763900000,v1=") {
		t.Errorf("signature %q, want t= the send time", sig)
	}
	if err := apichannel.VerifySignature(sig, r.Body, webhookSecret, c.Now().Add(time.Minute), 0); err != nil {
		t.Errorf("the receiver cannot verify the signature: %v", err)
	}
	var got apichannel.WebhookEvent
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.DisallowUnknownFields()
	must(t, dec.Decode(&got))
	want := apichannel.WebhookEvent{
		Event: "message.created", InboxID: e.inbox.ID, ConversationID: conv.ConversationID,
		Message: apichannel.WebhookMessage{ID: m.ID, Text: "Sorry about that, Ada — a replacement ships today.", Type: store.TypeText, CreatedAt: m.CreatedAt.UTC()},
		Contact: apichannel.WebhookContact{ID: "user-42", Name: "Ada Lovelace"},
	}
	if !got.Message.CreatedAt.Equal(want.Message.CreatedAt) {
		t.Errorf("created_at %s, want %s", got.Message.CreatedAt, want.Message.CreatedAt)
	}
	got.Message.CreatedAt = want.Message.CreatedAt
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body %s\n got %+v\nwant %+v", r.Body, got, want)
	}
	// The documented field names, as a receiver in another language
	// reads them.
	var raw map[string]any
	must(t, json.Unmarshal(r.Body, &raw))
	msg, _ := raw["message"].(map[string]any)
	contact, _ := raw["contact"].(map[string]any)
	if raw["event"] != "message.created" || raw["inbox_id"] == nil || raw["conversation_id"] == nil || msg["text"] == nil || msg["created_at"] == nil || contact["id"] != "user-42" {
		t.Errorf("body %s lacks a documented field", r.Body)
	}
}

func TestSenderProviderIDFallback(t *testing.T) {
	tests := []struct {
		name string
		a    answer
	}{
		{"no body", answer{status: http.StatusOK}},
		{"204", answer{status: http.StatusNoContent}},
		{"202 without id", answer{status: http.StatusAccepted, body: `{"queued":true}`}},
		{"not json", answer{status: http.StatusOK, body: `OK`}},
		{"empty id", answer{status: http.StatusOK, body: `{"id":""}`}},
		{"numeric id", answer{status: http.StatusOK, body: `{"id":42}`}},
		{"id too long", answer{status: http.StatusOK, body: `{"id":"` + strings.Repeat("i", 256) + `"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.a)
			e := newEnv(t, teststore.SQLite(t), rc.srv.URL, nil)
			m := e.reply(e.inbound().ConversationID, "hi")
			id, err := e.sender(nil).Send(context.Background(), m)
			if err != nil || id != "api-"+strconv.FormatInt(m.ID, 10) {
				t.Fatalf("Send = %q, %v; want api-%d", id, err, m.ID)
			}
		})
	}
}

func TestSenderRefusals(t *testing.T) {
	long := strings.Repeat("é", 1000)
	tests := []struct {
		name      string
		a         answer
		permanent bool
		text      string
	}{
		{"rate limited", answer{status: 429, body: `{"error":"slow down"}`}, false, `webhook answered HTTP 429: {"error":"slow down"}`},
		{"server error", answer{status: 500, body: "boom"}, false, "webhook answered HTTP 500: boom"},
		{"unavailable, no body", answer{status: 503}, false, "webhook answered HTTP 503: Service Unavailable"},
		{"timeout", answer{status: 408}, false, "webhook answered HTTP 408"},
		{"bad request", answer{status: 400, body: "{\n  \"error\": \"unknown conversation\"\n}"}, true, `webhook answered HTTP 400: { "error": "unknown conversation" }`},
		{"unauthorized", answer{status: 401, body: "bad signature"}, true, "webhook answered HTTP 401: bad signature"},
		{"gone", answer{status: 410, body: "visitor left"}, true, "webhook answered HTTP 410: visitor left"},
		{"unprocessable", answer{status: 422, body: `{"error":"text too long"}`}, true, `webhook answered HTTP 422: {"error":"text too long"}`},
		{"long answer", answer{status: 400, body: long}, true, "webhook answered HTTP 400: " + strings.Repeat("é", 150) + "…"},
		{"redirect", answer{status: 302, header: map[string]string{"Location": "/elsewhere"}}, true, "webhook answered HTTP 302: redirects are not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.a)
			e := newEnv(t, teststore.SQLite(t), rc.srv.URL+"/hook", nil)
			m := e.reply(e.inbound().ConversationID, "hi")
			id, err := e.sender(nil).Send(context.Background(), m)
			var se *apichannel.SendError
			if id != "" || !errors.As(err, &se) {
				t.Fatalf("Send = %q, %v; want a *SendError", id, err)
			}
			if se.Permanent() != tt.permanent || se.Status != tt.a.status || !strings.HasPrefix(err.Error(), tt.text) {
				t.Fatalf("error %q (permanent %v, status %d), want %q (permanent %v)", err, se.Permanent(), se.Status, tt.text, tt.permanent)
			}
			if reqs := rc.requests(); len(reqs) != 1 {
				t.Fatalf("%d requests, want exactly 1 (redirects are not followed)", len(reqs))
			}
		})
	}
}

func TestSenderRetryKeepsIdempotencyKey(t *testing.T) {
	rc := newReceiver(t, answer{status: 503, body: "deploying"}, answer{status: 200, body: `{"id":"ext-9"}`})
	e := newEnv(t, teststore.SQLite(t), rc.srv.URL, nil)
	m := e.reply(e.inbound().ConversationID, "hi")
	c := &clock{now: time.Unix(1_763_900_000, 0)}
	s := e.sender(c)
	if _, err := s.Send(context.Background(), m); err == nil {
		t.Fatal("the first attempt met a 503 and must fail")
	}
	c.advance(90 * time.Second)
	if id, err := s.Send(context.Background(), m); err != nil || id != "ext-9" {
		t.Fatalf("retry = %q, %v", id, err)
	}
	reqs := rc.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	k0, k1 := reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key")
	if k0 == "" || k0 != k1 {
		t.Fatalf("Idempotency-Key %q then %q: want the same key on every attempt", k0, k1)
	}
	if string(reqs[0].Body) != string(reqs[1].Body) {
		t.Fatalf("bodies differ between attempts:\n%s\n%s", reqs[0].Body, reqs[1].Body)
	}
	// Each attempt is signed at its own time, so each verifies when it
	// arrives.
	s0, s1 := reqs[0].Header.Get("X-Switchboard-Signature"), reqs[1].Header.Get("X-Switchboard-Signature")
	if s0 == s1 {
		t.Fatal("both attempts carry the same signature; want each signed when sent")
	}
	if err := apichannel.VerifySignature(s1, reqs[1].Body, webhookSecret, c.Now(), time.Minute); err != nil {
		t.Fatalf("retry's signature: %v", err)
	}
	// Another message gets another key.
	m2 := e.reply(m.ConversationID, "and another")
	if _, err := s.Send(context.Background(), m2); err != nil {
		t.Fatal(err)
	}
	if k2 := rc.requests()[2].Header.Get("Idempotency-Key"); k2 == k0 {
		t.Fatalf("two messages share the key %q", k2)
	}
}

func TestSenderNetworkError(t *testing.T) {
	rc := newReceiver(t)
	e := newEnv(t, teststore.SQLite(t), rc.srv.URL+"/hook?token=receiver-secret-token", nil)
	m := e.reply(e.inbound().ConversationID, "hi")
	rc.srv.Close()
	_, err := e.sender(nil).Send(context.Background(), m)
	var se *apichannel.SendError
	if !errors.As(err, &se) || se.Permanent() || se.Status != 0 {
		t.Fatalf("Send error %v, want a retryable *SendError without a status", err)
	}
	if strings.Contains(err.Error(), "receiver-secret-token") {
		t.Fatalf("error %q holds the webhook URL's query", err)
	}
}

func TestSenderConfiguration(t *testing.T) {
	ctx := context.Background()
	t.Run("no webhook url", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), "", nil)
		m := e.reply(e.inbound().ConversationID, "hi")
		_, err := e.sender(nil).Send(ctx, m)
		var se *apichannel.SendError
		if !errors.As(err, &se) || !se.Permanent() || !strings.Contains(err.Error(), "no webhook_url") {
			t.Fatalf("error %v, want a permanent one naming webhook_url", err)
		}
	})
	t.Run("contact unknown to the source", func(t *testing.T) {
		rc := newReceiver(t)
		e := newEnv(t, teststore.SQLite(t), rc.srv.URL, nil)
		// An agent opened a conversation for a contact who never wrote
		// through this inbox.
		c, _, err := e.st.CreateContact(ctx, e.ws.ID, store.NewContact{Name: "Bob", Email: "bob@example.com"}, nil)
		must(t, err)
		conv, _, err := e.st.CreateConversation(ctx, e.ws.ID, store.NewConversation{InboxID: e.inbox.ID, ContactID: c.ID})
		must(t, err)
		_, err = e.sender(nil).Send(ctx, e.reply(conv.ID, "hi Bob"))
		var se *apichannel.SendError
		if !errors.As(err, &se) || !se.Permanent() || len(rc.requests()) != 0 {
			t.Fatalf("error %v after %d requests, want a permanent one and nothing sent", err, len(rc.requests()))
		}
	})
	t.Run("without a secret key", func(t *testing.T) {
		rc := newReceiver(t)
		e := newEnv(t, teststore.SQLite(t), rc.srv.URL, nil)
		m := e.reply(e.inbound().ConversationID, "hi")
		_, err := apichannel.NewSender(apichannel.SenderOptions{Store: e.st}).Send(ctx, m)
		var se *apichannel.SendError
		if !errors.As(err, &se) || !se.Permanent() || !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
			t.Fatalf("error %v, want a permanent one naming SWITCHBOARD_SECRET_KEY", err)
		}
	})
}

// sentReply stores an agent's reply and records it as sent with
// providerID, as the outbox drainer does after the webhook accepted it.
func (e *env) sentReply(conversationID int64, providerID string) store.Message {
	e.t.Helper()
	ctx := context.Background()
	m := e.reply(conversationID, "Your replacement ships today.")
	es, err := e.st.ClaimOutbox(ctx, []store.InboxKind{store.InboxAPI}, store.Now(), time.Minute, 10)
	must(e.t, err)
	for _, en := range es {
		if en.Message.ID == m.ID {
			sent, _, err := e.st.MarkOutboxSent(ctx, en, providerID)
			must(e.t, err)
			return sent
		}
	}
	e.t.Fatalf("reply %d not in the outbox", m.ID)
	return store.Message{}
}

func TestStatuses(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, "https://source.example.com/hook", nil)
		ctx := context.Background()
		conv := e.inbound()
		reply := e.sentReply(conv.ConversationID, "ext-reply-1")
		post := func(body string) (int, string) {
			code, _, answer := e.do(http.MethodPost, e.url(e.inbox.ID, "statuses"), "Bearer "+inboundToken, "application/json", []byte(body))
			return code, answer
		}
		steps := []struct {
			name    string
			body    string
			code    int
			applied bool
			status  store.DeliveryStatus
		}{
			{"delivered", string(fixture(t, "status_delivered.json")), 200, true, store.DeliveryDelivered},
			{"delivered again", string(fixture(t, "status_delivered.json")), 200, false, store.DeliveryDelivered},
			{"read", `{"message_id":"ext-reply-1","status":"read"}`, 200, true, store.DeliveryRead},
			{"late delivered", `{"message_id":"ext-reply-1","status":"delivered"}`, 200, false, store.DeliveryRead},
			{"failed", string(fixture(t, "status_failed.json")), 200, true, store.DeliveryFailed},
		}
		for _, s := range steps {
			code, answer := post(s.body)
			var res apichannel.StatusResult
			if code != s.code || json.Unmarshal([]byte(answer), &res) != nil || res.Applied != s.applied || res.Status != s.status || res.MessageID != reply.ID {
				t.Fatalf("%s: answered %d %s, want applied %v, status %s", s.name, code, answer, s.applied, s.status)
			}
			m, err := st.Message(ctx, e.ws.ID, reply.ID)
			must(t, err)
			if m.Status != s.status {
				t.Fatalf("%s: message is %s, want %s", s.name, m.Status, s.status)
			}
		}
		m, err := st.Message(ctx, e.ws.ID, reply.ID)
		must(t, err)
		if m.Error != "the visitor closed the chat window" {
			t.Errorf("failure text %q", m.Error)
		}
		if n := len(e.commits()); n != 1+3 {
			t.Errorf("%d OnCommit calls, want 4 (the inbound message and 3 applied statuses)", n)
		}

		bad := []struct {
			name, body string
			code       int
			errCode    string
		}{
			{"unknown message", `{"message_id":"ext-nope","status":"read"}`, 404, "unknown_message"},
			{"an inbound message's id", `{"message_id":"in:msg-7f3c9a","status":"read"}`, 404, "unknown_message"},
			{"unknown status", `{"message_id":"ext-reply-1","status":"seen"}`, 422, "invalid"},
			{"sent is not the source's to say", `{"message_id":"ext-reply-1","status":"sent"}`, 422, "invalid"},
			{"no status", `{"message_id":"ext-reply-1"}`, 422, "invalid"},
			{"no message id", `{"status":"read"}`, 422, "invalid"},
			{"error without failure", `{"message_id":"ext-reply-1","status":"read","error":"x"}`, 422, "invalid"},
			{"long error", `{"message_id":"ext-reply-1","status":"failed","error":"` + strings.Repeat("e", apichannel.MaxStatusErrorBytes+1) + `"}`, 422, "invalid"},
			{"unknown field", `{"message_id":"ext-reply-1","status":"read","at":1}`, 400, "bad_request"},
			{"not json", `status=read`, 400, "bad_request"},
			{"trailing data", `{"message_id":"ext-reply-1","status":"read"}]`, 400, "bad_request"},
		}
		for _, b := range bad {
			code, answer := post(b.body)
			if code != b.code || !strings.Contains(answer, `"code":"`+b.errCode+`"`) {
				t.Errorf("%s: answered %d %s, want %d %s", b.name, code, answer, b.code, b.errCode)
			}
		}
		if m2, _ := st.Message(ctx, e.ws.ID, reply.ID); m2.Status != store.DeliveryFailed || m2.Error != m.Error {
			t.Errorf("refused updates changed the message: %s %q", m2.Status, m2.Error)
		}
	})
}

// TestRoundTrip runs the whole channel: a customer's message in, an
// agent's reply out through the real outbox drainer to a receiver that
// verifies the signature as a source would, and the receiver's read
// receipt back.
func TestRoundTrip(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		var mu sync.Mutex
		var verified []string
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, "read", http.StatusBadRequest)
				return
			}
			if err := apichannel.VerifySignature(r.Header.Get(apichannel.SignatureHeader), body, webhookSecret, time.Now(), 5*time.Minute); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			var ev apichannel.WebhookEvent
			if err := json.Unmarshal(body, &ev); err != nil || ev.Event != apichannel.EventMessageCreated {
				http.Error(w, "bad event", http.StatusBadRequest)
				return
			}
			mu.Lock()
			verified = append(verified, r.Header.Get(apichannel.IdempotencyKeyHeader))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"widget-`+strconv.FormatInt(ev.Message.ID, 10)+`"}`)
		}))
		t.Cleanup(receiver.Close)
		e := newEnv(t, st, receiver.URL, nil)
		conv := e.inbound()

		d := outbox.New(outbox.Options{
			Store:    st,
			Senders:  map[store.InboxKind]outbox.Sender{store.InboxAPI: apichannel.NewSender(apichannel.SenderOptions{Store: st, Box: e.box})},
			Interval: 10 * time.Millisecond,
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); d.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })

		reply := e.reply(conv.ConversationID, "A replacement ships today.")
		d.Notify(e.ws.ID)
		sent := waitStatus(t, st, e.ws.ID, reply.ID, store.DeliverySent)
		wantPID := "widget-" + strconv.FormatInt(reply.ID, 10)
		if sent.ProviderMessageID != wantPID {
			t.Fatalf("sent with provider id %q, want %q", sent.ProviderMessageID, wantPID)
		}
		mu.Lock()
		if len(verified) != 1 || verified[0] != "switchboard-message-"+strconv.FormatInt(reply.ID, 10) {
			t.Errorf("receiver verified %v", verified)
		}
		mu.Unlock()

		code, _, answer := e.do(http.MethodPost, e.url(e.inbox.ID, "statuses"), "Bearer "+inboundToken, "application/json",
			[]byte(`{"message_id":"`+wantPID+`","status":"read"}`))
		if code != http.StatusOK {
			t.Fatalf("status answered %d %s", code, answer)
		}
		if m, _ := st.Message(context.Background(), e.ws.ID, reply.ID); m.Status != store.DeliveryRead {
			t.Fatalf("reply is %s, want read", m.Status)
		}
	})
}

// waitStatus polls until the message has status.
func waitStatus(t testing.TB, st store.Store, ws, id int64, status store.DeliveryStatus) store.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := st.Message(context.Background(), ws, id)
		must(t, err)
		if m.Status == status {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d is %s (%q), want %s", id, m.Status, m.Error, status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
