package twilio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const (
	accountSID  = "ACa1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
	authToken   = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	inboxNumber = "+14155559999"
	customer    = "+14155550100"
)

// env is an SMS inbox on a real store behind the handler.
type env struct {
	t         testing.TB
	st        store.Store
	box       *secretbox.Box
	ws        store.Workspace
	inbox     store.Inbox
	srv       *httptest.Server
	publicURL string
	mu        sync.Mutex
	committed []int64
}

type envOptions struct {
	wrap       func(twilio.Store) twilio.Store
	cfg        *twilio.Config
	publicURL  string
	trustProxy bool
}

func newEnv(t testing.TB, st store.Store, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{42}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, box: box, publicURL: o.publicURL}
	e.ws, _, err = st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e.inbox, err = st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "Text line"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := twilio.Config{AccountSID: accountSID, AuthToken: authToken, PhoneNumber: inboxNumber}
	if o.cfg != nil {
		cfg = *o.cfg
	}
	settings, sealed, err := twilio.Seal(box, e.inbox.ID, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if e.inbox, err = st.ConfigureInbox(ctx, e.ws.ID, e.inbox.ID, settings, sealed); err != nil {
		t.Fatal(err)
	}
	var ts twilio.Store = st
	if o.wrap != nil {
		ts = o.wrap(st)
	}
	h := twilio.New(twilio.Options{Store: ts, Box: box, OnCommit: func(id int64) {
		e.mu.Lock()
		e.committed = append(e.committed, id)
		e.mu.Unlock()
	}, MaxBodyBytes: 64 << 10, PublicURL: o.publicURL, TrustProxy: o.trustProxy})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) path(endpoint string) string {
	return "/channels/sms/" + strconv.FormatInt(e.inbox.ID, 10) + "/" + endpoint
}

// signedURL is the URL Twilio would have requested and signed.
func (e *env) signedURL(endpoint string) string {
	if e.publicURL != "" {
		return e.publicURL + e.path(endpoint)
	}
	return e.srv.URL + e.path(endpoint)
}

// post sends body to endpoint ("webhook" or "status") with the given
// signature header ("" for none) and extra headers.
func (e *env) post(endpoint string, body []byte, signature string, headers ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+e.path(endpoint), bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set(twilio.SignatureHeader, signature)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// sign signs body (a form) as Twilio would for endpoint.
func (e *env) sign(endpoint string, body []byte) string {
	e.t.Helper()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return twilio.Sign(authToken, e.signedURL(endpoint), form)
}

func (e *env) deliver(endpoint string, body []byte) *http.Response {
	e.t.Helper()
	return e.post(endpoint, body, e.sign(endpoint, body))
}

// mustDeliver delivers body signed and wants Twilio's 200 empty TwiML.
func (e *env) mustDeliver(endpoint string, body []byte) twilio.Result {
	e.t.Helper()
	resp := e.deliver(endpoint, body)
	answer := readAll(e.t, resp)
	if resp.StatusCode != http.StatusOK || answer != twilio.EmptyTwiML || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		e.t.Fatalf("delivery answered %d %s %s, want 200 with empty TwiML", resp.StatusCode, resp.Header.Get("Content-Type"), answer)
	}
	var res twilio.Result
	if err := json.Unmarshal([]byte(resp.Header.Get(twilio.ResultHeader)), &res); err != nil {
		e.t.Fatalf("result header %q: %v", resp.Header.Get(twilio.ResultHeader), err)
	}
	return res
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// messages returns every message of the workspace, oldest first.
func (e *env) messages() []store.Message {
	e.t.Helper()
	ctx := context.Background()
	page, err := e.st.ListConversations(ctx, e.ws.ID, store.ConversationFilter{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.Message
	for _, c := range page.Conversations {
		ms, err := e.st.ListMessages(ctx, e.ws.ID, c.ID, store.MessageFilter{Limit: 100})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ms...)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (e *env) deadLetters() []store.DeadLetter {
	e.t.Helper()
	d, err := e.st.ListDeadLetters(context.Background(), e.ws.ID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) commits() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.committed...)
}

// fixture returns a testdata file without its final newline.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(b, "\n")
}

// form encodes alternating names and values.
func form(kv ...string) []byte {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return []byte(f.Encode())
}

// sms is a minimal incoming message form.
func sms(sid, from, body string) []byte {
	return form("MessageSid", sid, "SmsSid", sid, "AccountSid", accountSID, "From", from, "To", inboxNumber, "Body", body, "NumMedia", "0")
}

func TestInbound(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		tests := []struct {
			fixture string
			typ     store.MessageType
			body    string
			sid     string
			from    string
			media   []twilio.Media
		}{
			{"sms.form", store.TypeText, "Hi! Is my order #42 on its way?", "SM3f4a8c1d2e5b6a7980c1d2e3f4a5b6c7", "+14155550100", nil},
			{"mms.form", store.TypeMedia, "[image, image, video] Is this the right part?", "MM8e2d9c4b7a6f5e4d3c2b1a0f9e8d7c6b", "+12125550123", []twilio.Media{
				{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/MM8e2d9c4b7a6f5e4d3c2b1a0f9e8d7c6b/Media/MEa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", ContentType: "image/jpeg"},
				{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/MM8e2d9c4b7a6f5e4d3c2b1a0f9e8d7c6b/Media/MEb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", ContentType: "image/png"},
				{URL: "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/MM8e2d9c4b7a6f5e4d3c2b1a0f9e8d7c6b/Media/ME0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", ContentType: "video/mp4"},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.fixture, func(t *testing.T) {
				e := newEnv(t, st, envOptions{})
				res := e.mustDeliver("webhook", fixture(t, tt.fixture))
				if res != (twilio.Result{Messages: 1}) {
					t.Fatalf("result %+v, want one message", res)
				}
				got := e.messages()
				if len(got) != 1 {
					t.Fatalf("stored %d messages, want 1", len(got))
				}
				g := got[0]
				if g.Type != tt.typ || g.Body != tt.body || g.ProviderMessageID != tt.sid || g.Direction != store.DirectionIn || g.Status != store.DeliveryReceived || g.InboxID != e.inbox.ID {
					t.Errorf("message = %s %q %s %s %s, want %s %q %s", g.Type, g.Body, g.ProviderMessageID, g.Direction, g.Status, tt.typ, tt.body, tt.sid)
				}
				var content twilio.Content
				if err := json.Unmarshal(g.Content, &content); err != nil {
					t.Fatal(err)
				}
				if content.Provider != "twilio" || content.Params.Get("MessageSid") != tt.sid || content.Params.Get("FromCountry") != "US" {
					t.Errorf("content %s: want the provider and Twilio's parameters", g.Content)
				}
				if len(content.Media) != len(tt.media) {
					t.Fatalf("content media %+v, want %+v", content.Media, tt.media)
				}
				for i := range tt.media {
					if content.Media[i] != tt.media[i] {
						t.Errorf("media %d = %+v, want %+v", i, content.Media[i], tt.media[i])
					}
				}
				conv, err := e.st.Conversation(context.Background(), e.ws.ID, g.ConversationID)
				if err != nil {
					t.Fatal(err)
				}
				c, err := e.st.Contact(context.Background(), e.ws.ID, conv.ContactID)
				if err != nil {
					t.Fatal(err)
				}
				if c.Phone != tt.from || len(c.Identities) != 1 || c.Identities[0] != (store.Identity{Channel: "sms", ExternalID: tt.from}) {
					t.Errorf("contact %+v, want phone and sms identity %s", c, tt.from)
				}
				if got := e.commits(); len(got) != 1 || got[0] != e.ws.ID {
					t.Errorf("OnCommit calls %v, want one for workspace %d", got, e.ws.ID)
				}
			})
		}
	})
}

func TestOneConversationPerNumberUntilResolved(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	e.mustDeliver("webhook", sms("SM0001", customer, "one"))
	e.mustDeliver("webhook", sms("SM0002", customer, "two"))
	ms := e.messages()
	if len(ms) != 2 || ms[0].ConversationID != ms[1].ConversationID {
		t.Fatalf("messages %+v: want two in one conversation", ms)
	}
	resolved := store.StatusResolved
	if _, _, err := e.st.UpdateConversation(context.Background(), e.ws.ID, ms[0].ConversationID, store.ConversationUpdate{Status: &resolved}); err != nil {
		t.Fatal(err)
	}
	e.mustDeliver("webhook", sms("SM0003", customer, "three"))
	e.mustDeliver("webhook", sms("SM0004", "+447700900123", "another customer"))
	ms = e.messages()
	if len(ms) != 4 || ms[2].ConversationID == ms[0].ConversationID || ms[3].ConversationID == ms[2].ConversationID {
		t.Fatalf("conversations %d %d %d %d: want a new one after resolving, and one per number", ms[0].ConversationID, ms[1].ConversationID, ms[2].ConversationID, ms[3].ConversationID)
	}
}

func TestDuplicateDeliveryStoresOneMessage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		body := fixture(t, "sms.form")
		first := e.mustDeliver("webhook", body)
		again := e.mustDeliver("webhook", body)
		if first != (twilio.Result{Messages: 1}) || again != (twilio.Result{Duplicates: 1}) {
			t.Fatalf("first %+v, again %+v: want 1 message then 1 duplicate", first, again)
		}
		// The same message under its legacy SmsMessageSid name only.
		legacy := form("SmsMessageSid", "SM3f4a8c1d2e5b6a7980c1d2e3f4a5b6c7", "AccountSid", accountSID, "From", customer, "To", inboxNumber, "Body", "Hi!")
		if res := e.mustDeliver("webhook", legacy); res != (twilio.Result{Duplicates: 1}) {
			t.Fatalf("legacy-named retry %+v, want a duplicate", res)
		}
		// Concurrent retries race CreateMessage's own dedup.
		race := sms("SMRACE", customer, "race")
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				resp := e.deliver("webhook", race)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("concurrent delivery answered %d %s", resp.StatusCode, readAll(t, resp))
				}
			})
		}
		wg.Wait()
		if n := len(e.messages()); n != 2 {
			t.Fatalf("stored %d messages, want 2", n)
		}
		if n := len(e.commits()); n != 2 {
			t.Errorf("OnCommit called %d times, want 2 (duplicates change nothing)", n)
		}
	})
}

// flakyStore fails the first CreateMessage, as a database restarting
// between Twilio's request and the commit would.
type flakyStore struct {
	twilio.Store
	failed atomic.Bool
}

var errDown = errors.New("database is down")

func (f *flakyStore) CreateMessage(ctx context.Context, ws int64, m store.NewMessage) (store.CreatedMessage, error) {
	if f.failed.CompareAndSwap(false, true) {
		return store.CreatedMessage{}, errDown
	}
	return f.Store.CreateMessage(ctx, ws, m)
}

func TestCrashBeforeCommitIsRetried(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{wrap: func(s twilio.Store) twilio.Store { return &flakyStore{Store: s} }})
		body := fixture(t, "mms.form")
		resp := e.deliver("webhook", body)
		answer := readAll(t, resp)
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(answer, errDown.Error()) || strings.Contains(answer, "Response") {
			t.Fatalf("failed commit answered %d %s, want a 500 without TwiML or the cause", resp.StatusCode, answer)
		}
		if n := len(e.messages()); n != 0 {
			t.Fatalf("%d messages after the failed commit, want 0", n)
		}
		if res := e.mustDeliver("webhook", body); res != (twilio.Result{Messages: 1}) {
			t.Fatalf("Twilio's retry: %+v, want the message stored", res)
		}
		if res := e.mustDeliver("webhook", body); res != (twilio.Result{Duplicates: 1}) {
			t.Fatalf("a second retry: %+v, want a duplicate", res)
		}
		if n := len(e.messages()); n != 1 {
			t.Fatalf("stored %d messages, want exactly 1", n)
		}
	})
}

// failingStore fails one kind of write for good.
type failingStore struct {
	twilio.Store
	failStatuses, failDeadLetters bool
}

func (f failingStore) UpdateMessageStatus(ctx context.Context, ws, id int64, s store.DeliveryStatus, e string) (store.Message, store.Event, error) {
	if f.failStatuses {
		return store.Message{}, store.Event{}, errDown
	}
	return f.Store.UpdateMessageStatus(ctx, ws, id, s, e)
}

func (f failingStore) CreateDeadLetter(ctx context.Context, ws int64, d store.NewDeadLetter) (store.DeadLetter, error) {
	if f.failDeadLetters {
		return store.DeadLetter{}, errDown
	}
	return f.Store.CreateDeadLetter(ctx, ws, d)
}

func TestStoreFailureAsksForRetry(t *testing.T) {
	t.Run("dead letter write fails", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{wrap: func(s twilio.Store) twilio.Store { return failingStore{Store: s, failDeadLetters: true} }})
		resp := e.deliver("webhook", form("AccountSid", accountSID, "From", customer, "Body", "no sid"))
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("answered %d, want 500", resp.StatusCode)
		}
	})
	t.Run("status write fails", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{wrap: func(s twilio.Store) twilio.Store { return failingStore{Store: s, failStatuses: true} }})
		e.outbound(t, "SMb7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2")
		if resp := e.deliver("status", fixture(t, "status_delivered.form")); resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("answered %d, want 500", resp.StatusCode)
		}
	})
}

// outbound stores an outbound message as the outbox drainer leaves it
// after Twilio accepted it: sent, with Twilio's SID.
func (e *env) outbound(t testing.TB, sid string) store.Message {
	t.Helper()
	ctx := context.Background()
	if len(e.messages()) == 0 {
		e.mustDeliver("webhook", sms("SMIN"+sid, customer, "hello"))
	}
	conv := e.messages()[0].ConversationID
	created, err := e.st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: conv, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "Yes, it ships today."})
	if err != nil {
		t.Fatal(err)
	}
	return e.markSent(t, created.Message, sid)
}

func (e *env) markSent(t testing.TB, m store.Message, sid string) store.Message {
	t.Helper()
	ctx := context.Background()
	entries, err := e.st.ClaimOutbox(ctx, []store.InboxKind{store.InboxSMS}, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Message.ID == m.ID {
			sent, _, err := e.st.MarkOutboxSent(ctx, en, sid)
			if err != nil {
				t.Fatal(err)
			}
			return sent
		}
	}
	t.Fatalf("message %d not in the outbox", m.ID)
	return store.Message{}
}

func TestStatusCallbacks(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, envOptions{})
		const sid = "SMb7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2"
		m := e.outbound(t, sid)
		status := func() store.Message {
			t.Helper()
			got, err := e.st.Message(ctx, e.ws.ID, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		commits := len(e.commits())
		// "sent" is where the drainer left it: nothing changes.
		if res := e.mustDeliver("status", fixture(t, "status_sent.form")); res.Statuses != 0 {
			t.Errorf("sent again applied %+v", res)
		}
		if res := e.mustDeliver("status", fixture(t, "status_delivered.form")); res != (twilio.Result{Statuses: 1}) {
			t.Fatalf("delivered: %+v, want applied", res)
		}
		if got := status(); got.Status != store.DeliveryDelivered {
			t.Fatalf("status %s, want delivered", got.Status)
		}
		// Late and replayed callbacks never move a message back.
		for _, f := range []string{"status_sent.form", "status_delivered.form"} {
			if res := e.mustDeliver("status", fixture(t, f)); res.Statuses != 0 {
				t.Errorf("%s replayed applied %+v", f, res)
			}
		}
		if got := status(); got.Status != store.DeliveryDelivered {
			t.Fatalf("after replays %s, want delivered", got.Status)
		}
		if n := len(e.commits()) - commits; n != 1 {
			t.Errorf("OnCommit called %d times for one change", n)
		}
		// Statuses not tracked, for messages not ours, or for another
		// account change nothing and are not dead letters.
		for name, body := range map[string][]byte{
			"receiving":       form("MessageSid", sid, "MessageStatus", "receiving", "AccountSid", accountSID),
			"unknown status":  form("MessageSid", sid, "MessageStatus", "teleported", "AccountSid", accountSID),
			"unknown message": form("MessageSid", "SMffffffffffffffffffffffffffffffff", "MessageStatus", "failed", "ErrorCode", "30003", "AccountSid", accountSID),
			"other account":   form("MessageSid", sid, "MessageStatus", "failed", "ErrorCode", "30003", "AccountSid", "AC00000000000000000000000000000000"),
		} {
			if res := e.mustDeliver("status", body); res != (twilio.Result{}) {
				t.Errorf("%s: %+v, want nothing done", name, res)
			}
		}
		if got := status(); got.Status != store.DeliveryDelivered {
			t.Fatalf("after ignored callbacks %s, want delivered", got.Status)
		}

		m2 := e.outbound(t, "SMc0ffee00c0ffee00c0ffee00c0ffee00")
		undelivered := bytes.ReplaceAll(fixture(t, "status_undelivered.form"), []byte(sid), []byte(m2.ProviderMessageID))
		if res := e.mustDeliver("status", undelivered); res != (twilio.Result{Statuses: 1}) {
			t.Fatalf("undelivered: %+v, want applied", res)
		}
		got, _ := e.st.Message(ctx, e.ws.ID, m2.ID)
		if got.Status != store.DeliveryFailed || got.Error != "Twilio error 30003: Unreachable destination handset" {
			t.Fatalf("undelivered message = %s %q, want failed with Twilio's code and meaning", got.Status, got.Error)
		}
		if res := e.mustDeliver("status", undelivered); res.Statuses != 0 {
			t.Errorf("replayed failure applied %+v", res)
		}
		if res := e.mustDeliver("status", form("MessageSid", m2.ProviderMessageID, "MessageStatus", "delivered", "AccountSid", accountSID)); res.Statuses != 0 {
			t.Errorf("delivered after failed applied %+v; failed is final", res)
		}
		if n := len(e.deadLetters()); n != 0 {
			t.Errorf("%d dead letters, want none", n)
		}
	})
}

func TestSignatureFailures(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	body := fixture(t, "sms.form")
	good := e.sign("webhook", body)
	tampered := bytes.Replace(body, []byte("on+its+way"), []byte("on+its+WAY"), 1)
	added := append(append([]byte(nil), body...), "&Extra=1"...)
	f, _ := url.ParseQuery(string(body))
	tests := []struct {
		name      string
		endpoint  string
		body      []byte
		signature string
		want      string
	}{
		{"missing header", "webhook", body, "", "missing"},
		{"not base64", "webhook", body, "not base64!", "not a base64"},
		{"too short", "webhook", body, good[:20], "not a base64"},
		{"sha256 length", "webhook", body, "Jk2zdBd0sNNqwtBA0n7C2ldEdZy3aSZpw5Yu+YhvT+Q=", "not a base64"},
		{"wrong auth token", "webhook", body, twilio.Sign("another-token", e.signedURL("webhook"), f), "does not match"},
		{"tampered body", "webhook", tampered, good, "does not match"},
		{"parameter added", "webhook", added, good, "does not match"},
		{"signed for another URL", "webhook", body, twilio.Sign(authToken, e.srv.URL+"/channels/sms/999/webhook", f), "does not match"},
		{"signed for https", "webhook", body, twilio.Sign(authToken, strings.Replace(e.signedURL("webhook"), "http://", "https://", 1), f), "does not match"},
		{"webhook signature replayed on status", "status", body, good, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(tt.endpoint, tt.body, tt.signature)
			answer := readAll(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(answer, `"bad_signature"`) || !strings.Contains(answer, tt.want) {
				t.Fatalf("answered %d %s, want 401 bad_signature %q", resp.StatusCode, answer, tt.want)
			}
		})
	}
	if n := len(e.messages()) + len(e.deadLetters()); n != 0 {
		t.Fatalf("%d messages or dead letters kept from unsigned deliveries", n)
	}
	if resp := e.post("webhook", body, good); resp.StatusCode != http.StatusOK {
		t.Fatalf("good signature answered %d", resp.StatusCode)
	}
}

func TestSignedURL(t *testing.T) {
	body := sms("SMURL1", customer, "hi")
	f, _ := url.ParseQuery(string(body))
	t.Run("public URL", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{publicURL: "https://inbox.example.com"})
		if resp := e.post("webhook", body, twilio.Sign(authToken, e.srv.URL+e.path("webhook"), f)); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed for the listen address: %d, want 401 (Twilio requested the public URL)", resp.StatusCode)
		}
		if resp := e.post("webhook", body, twilio.Sign(authToken, "https://inbox.example.com:443"+e.path("webhook"), f)); resp.StatusCode != http.StatusOK {
			t.Errorf("signed with the default port: %d, want 200", resp.StatusCode)
		}
		if res := e.mustDeliver("webhook", body); res.Duplicates != 1 {
			t.Errorf("signed for the public URL: %+v", res)
		}
	})
	t.Run("query string is signed", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{publicURL: "https://inbox.example.com"})
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+e.path("webhook")+"?source=twilio", bytes.NewReader(body))
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(authToken, "https://inbox.example.com"+e.path("webhook")+"?source=twilio", f))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("answered %d, want 200", resp.StatusCode)
		}
	})
	proxied := func(e *env) string {
		return twilio.Sign(authToken, "https://inbox.example.com"+e.path("webhook"), f)
	}
	t.Run("forwarded headers ignored by default", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{})
		if resp := e.post("webhook", body, proxied(e), "X-Forwarded-Proto", "https", "X-Forwarded-Host", "inbox.example.com"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("answered %d, want 401: X-Forwarded-* are not trusted", resp.StatusCode)
		}
	})
	t.Run("forwarded headers with TrustProxy", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{trustProxy: true})
		if resp := e.post("webhook", body, proxied(e), "X-Forwarded-Proto", "https", "X-Forwarded-Host", "inbox.example.com, internal.lan"); resp.StatusCode != http.StatusOK {
			t.Fatalf("answered %d %s, want 200", resp.StatusCode, readAll(t, resp))
		}
	})
}

func TestUnknownOrUnconfiguredInbox(t *testing.T) {
	st := teststore.SQLite(t)
	e := newEnv(t, st, envOptions{})
	ctx := context.Background()
	wa, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "WhatsApp"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "Not yet configured"})
	if err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "sms.form")
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/channels/sms/999999/webhook", 404},
		{"/channels/sms/999999/status", 404},
		{"/channels/sms/abc/webhook", 404},
		{"/channels/sms/-1/webhook", 404},
		{"/channels/sms/" + strconv.FormatInt(wa.ID, 10) + "/webhook", 404},
		{"/channels/sms/" + strconv.FormatInt(bare.ID, 10) + "/webhook", 503},
		{"/channels/sms/" + strconv.FormatInt(bare.ID, 10) + "/status", 503},
	} {
		resp, err := http.Post(e.srv.URL+tt.path, "application/x-www-form-urlencoded", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		answer := readAll(t, resp)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !strings.Contains(answer, `"error"`) {
			t.Errorf("POST %s = %d %s, want %d with a JSON error", tt.path, resp.StatusCode, answer, tt.want)
		}
	}
	resp, err := http.Get(e.srv.URL + e.path("webhook"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET webhook = %d, want 405", resp.StatusCode)
	}

	// Without a secret key no inbox's credentials open: 503 naming it.
	h := twilio.New(twilio.Options{Store: st})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, e.path("webhook"), bytes.NewReader(body)))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("without a key: %d %s, want 503 naming SWITCHBOARD_SECRET_KEY", rec.Code, rec.Body)
	}
	// Under another key the sealed credentials do not open.
	other, _ := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	h = twilio.New(twilio.Options{Store: st, Box: other})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, e.path("webhook"), bytes.NewReader(body)))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), authToken) {
		t.Errorf("under another key: %d %s, want 503", rec.Code, rec.Body)
	}
}

func TestBadBodies(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	big := form("MessageSid", "SMBIG", "Body", strings.Repeat("x", 65<<10))
	if resp := e.deliver("webhook", big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body answered %d, want 413", resp.StatusCode)
	}
	for _, body := range []string{"Body=%zz&From=%2B1", "a=%", "Body=50%"} {
		resp := e.post("webhook", []byte(body), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
		if answer := readAll(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(answer, "x-www-form-urlencoded") {
			t.Errorf("%q answered %d %s, want 400", body, resp.StatusCode, answer)
		}
	}
	if n := len(e.messages()) + len(e.deadLetters()); n != 0 {
		t.Fatalf("%d rows kept from bad bodies", n)
	}
}

func TestUnusablePayloadIsDeadLettered(t *testing.T) {
	tests := []struct {
		name      string
		endpoint  string
		body      []byte
		wantError string
		messages  int
	}{
		{"empty form", "webhook", []byte(""), "no MessageSid", 0},
		{"JSON instead of a form", "webhook", []byte(`{"MessageSid":"SM1"}`), "no MessageSid", 0},
		{"no sender", "webhook", form("MessageSid", "SM1", "AccountSid", accountSID, "To", inboxNumber, "Body", "hi"), "no From", 0},
		{"no account", "webhook", form("MessageSid", "SM1", "From", customer, "To", inboxNumber, "Body", "hi"), "no AccountSid", 0},
		{"a WhatsApp sender", "webhook", form("MessageSid", "SM1", "AccountSid", accountSID, "From", "whatsapp:+14155550100", "To", "whatsapp:"+inboxNumber, "Body", "hi"), "not an SMS sender", 0},
		{"another account", "webhook", form("MessageSid", "SM1", "AccountSid", "AC00000000000000000000000000000000", "From", customer, "To", inboxNumber, "Body", "hi"), "not this inbox's", 0},
		{"another number", "webhook", form("MessageSid", "SM1", "AccountSid", accountSID, "From", customer, "To", "+14155558888", "Body", "hi"), `to "+14155558888"`, 0},
		{"empty text", "webhook", sms("SM1", customer, "   "), "no body and no media", 0},
		{"SID too long", "webhook", sms(strings.Repeat("S", 300), customer, "hi"), "provider_message_id", 0},
		{"NumMedia not a count, media kept", "webhook", form("MessageSid", "MM1", "AccountSid", accountSID, "From", customer, "To", inboxNumber, "Body", "", "NumMedia", "many", "MediaUrl0", "https://api.twilio.com/m/ME1", "MediaContentType0", "image/gif"), `NumMedia "many"`, 1},
		{"media URL not http", "webhook", form("MessageSid", "MM2", "AccountSid", accountSID, "From", customer, "To", inboxNumber, "Body", "look", "NumMedia", "2", "MediaUrl0", "javascript:alert(1)", "MediaUrl1", "https://api.twilio.com/m/ME2", "MediaContentType1", "application/pdf"), "MediaUrl0", 1},
		{"status without SID", "status", form("MessageStatus", "delivered", "AccountSid", accountSID), "no MessageSid", 0},
		{"status without status", "status", form("MessageSid", "SM1", "AccountSid", accountSID), "no MessageStatus", 0},
	}
	// One inbox for all: each case adds exactly one dead letter.
	e := newEnv(t, teststore.SQLite(t), envOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			letters, messages := len(e.deadLetters()), len(e.messages())
			res := e.mustDeliver(tt.endpoint, tt.body)
			if !res.DeadLettered || res.Messages != tt.messages {
				t.Fatalf("result %+v: want dead-lettered with %d messages", res, tt.messages)
			}
			all := e.deadLetters()
			if len(all) != letters+1 {
				t.Fatalf("%d dead letters, want %d", len(all), letters+1)
			}
			var dl store.DeadLetter
			for _, d := range all {
				if bytes.Equal(d.Body, tt.body) {
					dl = d
				}
			}
			if dl.Provider != "twilio" || dl.InboxID != e.inbox.ID || !strings.Contains(dl.Error, tt.wantError) {
				t.Fatalf("dead letter %+v: want one with the raw body and %q", dl, tt.wantError)
			}
			if n := len(e.messages()) - messages; n != tt.messages {
				t.Fatalf("stored %d messages, want %d", n, tt.messages)
			}
		})
	}
}

func TestNoStorableCharacterIsRefused(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, envOptions{})
		// NUL and invalid UTF-8, which Postgres keeps in neither text nor
		// JSONB, in the body, the sender and a parameter name.
		body := []byte(string(sms("SMNUL", customer, "a\x00b")) + "&Fr%FFom=x%FFy")
		res := e.mustDeliver("webhook", body)
		if res != (twilio.Result{Messages: 1}) {
			t.Fatalf("result %+v, want the message stored", res)
		}
		if m := e.messages()[0]; m.Body != "a\ufffdb" {
			t.Errorf("body %q", m.Body)
		}
		res = e.mustDeliver("webhook", form("MessageSid", "SMBADFROM", "AccountSid", accountSID, "From", "+1\xff", "To", inboxNumber, "Body", "hi"))
		if res != (twilio.Result{Messages: 1}) {
			t.Fatalf("invalid UTF-8 sender: %+v, want stored", res)
		}
	})
}

func TestMessagingServiceInbox(t *testing.T) {
	const service = "MG0a1b2c3d4e5f60718293a4b5c6d7e8f9"
	through := func(sid, svc, to string) []byte {
		return form("MessageSid", sid, "AccountSid", accountSID, "MessagingServiceSid", svc, "From", customer, "To", to, "Body", "hi")
	}
	t.Run("service only", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{cfg: &twilio.Config{AccountSID: accountSID, AuthToken: authToken, MessagingServiceSID: service}})
		// The service's numbers are the inbox's: any To, this service.
		if res := e.mustDeliver("webhook", fixture(t, "mms.form")); res != (twilio.Result{Messages: 1}) {
			t.Fatalf("message through the service: %+v", res)
		}
		if res := e.mustDeliver("webhook", sms("SMNOSVC", customer, "no service named")); res != (twilio.Result{Messages: 1}) {
			t.Fatalf("message naming no service: %+v", res)
		}
		if res := e.mustDeliver("webhook", through("SMOTHER", "MG00000000000000000000000000000000", "+14155551111")); !res.DeadLettered || res.Messages != 0 {
			t.Fatalf("message through another service: %+v, want dead-lettered", res)
		}
	})
	t.Run("number and service", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), envOptions{cfg: &twilio.Config{AccountSID: accountSID, AuthToken: authToken, PhoneNumber: inboxNumber, MessagingServiceSID: service}})
		for sid, body := range map[string][]byte{
			"to the number":            sms("SM1", customer, "hi"),
			"to another pool number":   through("SM2", service, "+14155551111"),
			"to the number, other svc": through("SM3", "MG00000000000000000000000000000000", inboxNumber),
		} {
			if res := e.mustDeliver("webhook", body); res != (twilio.Result{Messages: 1}) {
				t.Errorf("%s: %+v, want stored", sid, res)
			}
		}
		for sid, body := range map[string][]byte{
			"another number, no service": sms("SM4", customer, "hi"),
			"another number and service": through("SM5", "MG00000000000000000000000000000000", "+14155551111"),
		} {
			body = bytes.Replace(body, []byte(url.QueryEscape(inboxNumber)), []byte(url.QueryEscape("+14155551111")), 1)
			if res := e.mustDeliver("webhook", body); !res.DeadLettered {
				t.Errorf("%s: %+v, want dead-lettered", sid, res)
			}
		}
	})
}
