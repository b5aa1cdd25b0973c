package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const (
	appSecret     = "meta-app-secret"
	verifyToken   = "verify-me-please"
	phoneNumberID = "106540352242922"
)

// env is a WhatsApp inbox on a real SQLite store behind the handler.
type env struct {
	t         testing.TB
	st        store.Store
	box       *secretbox.Box
	ws        store.Workspace
	inbox     store.Inbox
	srv       *httptest.Server
	mu        sync.Mutex
	committed []int64
}

func newEnv(t testing.TB, st store.Store, wrap func(whatsapp.Store) whatsapp.Store) *env {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{42}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, box: box}
	e.ws, _, err = st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e.inbox, err = st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support line"})
	if err != nil {
		t.Fatal(err)
	}
	settings, sealed, err := whatsapp.Seal(box, e.inbox.ID, whatsapp.Config{PhoneNumberID: phoneNumberID, VerifyToken: verifyToken, AppSecret: appSecret, AccessToken: "EAAG-token"})
	if err != nil {
		t.Fatal(err)
	}
	if e.inbox, err = st.ConfigureInbox(ctx, e.ws.ID, e.inbox.ID, settings, sealed); err != nil {
		t.Fatal(err)
	}
	var ws whatsapp.Store = st
	if wrap != nil {
		ws = wrap(st)
	}
	h := whatsapp.New(whatsapp.Options{Store: ws, Box: box, OnCommit: func(id int64) {
		e.mu.Lock()
		e.committed = append(e.committed, id)
		e.mu.Unlock()
	}, MaxBodyBytes: 64 << 10})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) url() string {
	return e.srv.URL + "/channels/whatsapp/" + strconv.FormatInt(e.inbox.ID, 10) + "/webhook"
}

// post sends body with the given signature header ("" for none).
func (e *env) post(body []byte, signature string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url(), bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if signature != "" {
		req.Header.Set(connector.MetaSignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) deliver(body []byte) (int, string) {
	e.t.Helper()
	return e.post(body, connector.MetaSign(body, appSecret))
}

func (e *env) mustDeliver(body []byte) whatsapp.Result {
	e.t.Helper()
	code, answer := e.deliver(body)
	if code != http.StatusOK {
		e.t.Fatalf("delivery answered %d %s, want 200", code, answer)
	}
	var res whatsapp.Result
	if err := json.Unmarshal([]byte(answer), &res); err != nil {
		e.t.Fatal(err)
	}
	return res
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
	// by id, oldest first
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

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInboundFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    []store.Message // Type, Body, ProviderMessageID compared
		names   map[string]string
	}{
		{"text.json", []store.Message{{Type: store.TypeText, Body: "Does it come in another color?", ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="}},
			map[string]string{"16505551234": "Sheena Nelson"}},
		{"image.json", []store.Message{{Type: store.TypeMedia, Body: "[image] This is the one with the scratch", ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgB="}}, nil},
		{"location.json", []store.Message{{Type: store.TypeText, Body: "[location] Solomon R. Guggenheim Museum, 1071 5th Ave, New York, NY 10128, (40.782910059774, -73.959075808525)", ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgC="}}, nil},
		{"reaction.json", []store.Message{{Type: store.TypeText, Body: "[reaction] 👍", ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgD="}}, nil},
		{"interactive.json", []store.Message{
			{Type: store.TypeText, Body: "[button] Cancel my order", ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgE="},
			{Type: store.TypeText, Body: "[list reply] Express Shipping — Next-day delivery", ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgF="},
		}, nil},
		{"multi.json", []store.Message{
			{Type: store.TypeText, Body: "First from Sheena", ProviderMessageID: "wamid.MULTI1"},
			{Type: store.TypeMedia, Body: "[document: invoice-0423.pdf] Invoice attached", ProviderMessageID: "wamid.MULTI2"},
			{Type: store.TypeText, Body: "[contact] Barbara J. Johnson +1 (940) 555-1234", ProviderMessageID: "wamid.MULTI3"},
			{Type: store.TypeMedia, Body: "[voice message]", ProviderMessageID: "wamid.MULTI4"},
			{Type: store.TypeText, Body: `[unsupported WhatsApp message type "unsupported"] 131051 Message type unknown: Message type is currently not supported.`, ProviderMessageID: "wamid.MULTI5"},
		}, map[string]string{"16505551234": "Sheena Nelson", "16505559876": "Pablo Morales"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), nil)
			res := e.mustDeliver(fixture(t, tt.fixture))
			if res.Messages != len(tt.want) || res.DeadLettered {
				t.Fatalf("result %+v, want %d messages and no dead letter", res, len(tt.want))
			}
			got := e.messages()
			if len(got) != len(tt.want) {
				t.Fatalf("stored %d messages, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Type != w.Type || g.Body != w.Body || g.ProviderMessageID != w.ProviderMessageID || g.Direction != store.DirectionIn || g.Status != store.DeliveryReceived {
					t.Errorf("message %d = %s %q %s %s %s\nwant %s %q %s", i, g.Type, g.Body, g.ProviderMessageID, g.Direction, g.Status, w.Type, w.Body, w.ProviderMessageID)
				}
				var content struct {
					Provider string          `json:"provider"`
					Message  json.RawMessage `json:"message"`
				}
				if err := json.Unmarshal(g.Content, &content); err != nil || content.Provider != "whatsapp" || !bytes.Contains(content.Message, []byte(w.ProviderMessageID)) {
					t.Errorf("message %d content %s: want the raw WhatsApp message", i, g.Content)
				}
			}
			for waID, name := range tt.names {
				page, err := e.st.ListContacts(context.Background(), e.ws.ID, store.ContactFilter{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, c := range page.Contacts {
					for _, id := range c.Identities {
						if id.Channel == "whatsapp" && id.ExternalID == waID {
							found = true
							if c.Name != name || c.Phone != "+"+waID {
								t.Errorf("contact %s = %q %q, want %q", waID, c.Name, c.Phone, name)
							}
						}
					}
				}
				if !found {
					t.Errorf("no contact with whatsapp identity %s", waID)
				}
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if len(e.committed) != 1 || e.committed[0] != e.ws.ID {
				t.Errorf("OnCommit calls %v, want one for workspace %d", e.committed, e.ws.ID)
			}
		})
	}
}

func TestOneConversationPerContactUntilResolved(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), nil)
	send := func(id, text string) {
		body, err := whatsapp.TextPayload(whatsapp.TextMessage{PhoneNumberID: phoneNumberID, From: "+1 555 0100", Name: "Ann", Text: text, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		e.mustDeliver(body)
	}
	send("wamid.A", "one")
	send("wamid.B", "two")
	ms := e.messages()
	if len(ms) != 2 || ms[0].ConversationID != ms[1].ConversationID {
		t.Fatalf("messages %+v: want two in one conversation", ms)
	}
	status := store.StatusResolved
	if _, _, err := e.st.UpdateConversation(context.Background(), e.ws.ID, ms[0].ConversationID, store.ConversationUpdate{Status: &status}); err != nil {
		t.Fatal(err)
	}
	send("wamid.C", "three")
	ms = e.messages()
	if len(ms) != 3 || ms[2].ConversationID == ms[0].ConversationID {
		t.Fatalf("after resolving, a new message went to conversation %d: want a new one", ms[2].ConversationID)
	}
}

func TestDuplicateDeliveryStoresOneMessage(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), nil)
	body := fixture(t, "text.json")
	first := e.mustDeliver(body)
	again := e.mustDeliver(body)
	if first.Messages != 1 || again.Messages != 0 || again.Duplicates != 1 {
		t.Fatalf("first %+v, again %+v: want 1 message then 1 duplicate", first, again)
	}
	if n := len(e.messages()); n != 1 {
		t.Fatalf("stored %d messages, want 1", n)
	}
	// Concurrent retries race CreateMessage's own dedup.
	var wg sync.WaitGroup
	body2, _ := whatsapp.TextPayload(whatsapp.TextMessage{From: "16505551234", Text: "race", ID: "wamid.RACE"})
	for range 5 {
		wg.Go(func() {
			if code, answer := e.deliver(body2); code != http.StatusOK {
				t.Errorf("concurrent delivery answered %d %s", code, answer)
			}
		})
	}
	wg.Wait()
	if n := len(e.messages()); n != 2 {
		t.Fatalf("stored %d messages after concurrent retries, want 2", n)
	}
}

func TestStatuses(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), nil)
	ctx := context.Background()
	// An inbound message first gives a conversation.
	e.mustDeliver(fixture(t, "text.json"))
	conv := e.messages()[0].ConversationID
	var ids []int64
	for _, pid := range []string{"wamid.OUT1", "wamid.OUT2"} {
		// Outbound messages will carry Meta's id once sent (the outbound
		// slice); until then a row with the id stands in for one, and
		// its status is what the receipts move.
		m, err := e.st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: conv, Direction: store.DirectionIn, Body: "stand-in", ProviderMessageID: pid})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Message.ID)
	}
	res := e.mustDeliver(fixture(t, "statuses.json"))
	if res.Statuses != 4 || res.DeadLettered {
		t.Fatalf("result %+v: want 4 statuses applied (sent, delivered, read, failed), none dead-lettered", res)
	}
	m1, _ := e.st.Message(ctx, e.ws.ID, ids[0])
	m2, _ := e.st.Message(ctx, e.ws.ID, ids[1])
	if m1.Status != store.DeliveryRead {
		t.Errorf("OUT1 status %s, want read", m1.Status)
	}
	if m2.Status != store.DeliveryFailed || !strings.Contains(m2.Error, "131047 Re-engagement message") || !strings.Contains(m2.Error, "24 hours") {
		t.Errorf("OUT2 = %s %q, want failed with code, title and details", m2.Status, m2.Error)
	}
	// Replayed, nothing moves back: read stays read.
	if res := e.mustDeliver(fixture(t, "statuses.json")); res.Statuses != 0 {
		t.Errorf("replayed statuses applied %d, want 0", res.Statuses)
	}
	if m1, _ = e.st.Message(ctx, e.ws.ID, ids[0]); m1.Status != store.DeliveryRead {
		t.Errorf("OUT1 after replay %s, want read", m1.Status)
	}
}

func TestSignatureFailures(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), nil)
	body := fixture(t, "text.json")
	good := connector.MetaSign(body, appSecret)
	altered := bytes.Replace(body, []byte("another color"), []byte("another colour"), 1)
	tests := []struct {
		name      string
		body      []byte
		signature string
	}{
		{"missing header", body, ""},
		{"wrong prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256=")},
		{"no prefix", body, strings.TrimPrefix(good, "sha256=")},
		{"bad hex", body, "sha256=" + strings.Repeat("zz", 32)},
		{"short digest", body, good[:len(good)-2]},
		{"wrong secret", body, connector.MetaSign(body, "another-secret")},
		{"body altered", altered, good},
		{"upper-case prefix", body, "SHA256=" + strings.TrimPrefix(good, "sha256=")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, answer := e.post(tt.body, tt.signature)
			if code != http.StatusUnauthorized || !strings.Contains(answer, `"bad_signature"`) {
				t.Fatalf("answered %d %s, want 401 bad_signature", code, answer)
			}
		})
	}
	if n := len(e.messages()); n != 0 {
		t.Fatalf("%d messages stored from unsigned deliveries", n)
	}
	if code, _ := e.post(body, good); code != http.StatusOK {
		t.Fatalf("good signature answered %d", code)
	}
}

func TestVerification(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), nil)
	get := func(query string) (int, string) {
		resp, err := http.Get(e.url() + "?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verifyToken); code != 200 || body != "1158201444" {
		t.Fatalf("verification answered %d %q, want 200 and the challenge", code, body)
	}
	for _, q := range []string{
		"hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
		"hub.mode=subscribe&hub.challenge=1",
		"hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=" + verifyToken,
		"hub.challenge=1&hub.verify_token=" + verifyToken,
	} {
		if code, body := get(q); code != http.StatusForbidden || strings.Contains(body, verifyToken) {
			t.Errorf("%s answered %d %s, want 403", q, code, body)
		}
	}
}

func TestUnknownOrUnconfiguredInbox(t *testing.T) {
	st := teststore.SQLite(t)
	e := newEnv(t, st, nil)
	ctx := context.Background()
	api, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "API"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Not yet configured"})
	if err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "text.json")
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/channels/whatsapp/999999/webhook", 404},
		{"/channels/whatsapp/abc/webhook", 404},
		{"/channels/whatsapp/" + strconv.FormatInt(api.ID, 10) + "/webhook", 404},
		{"/channels/whatsapp/" + strconv.FormatInt(bare.ID, 10) + "/webhook", 503},
	} {
		resp, err := http.Post(e.srv.URL+tt.path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("POST %s = %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
	}

	// Without a secret key no inbox's credentials open: 503 naming the setting.
	h := whatsapp.New(whatsapp.Options{Store: st})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/channels/whatsapp/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook", bytes.NewReader(body)))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("without a key: %d %s, want 503 naming SWITCHBOARD_SECRET_KEY", rec.Code, rec.Body)
	}
	// Under another key the sealed credentials do not open.
	other, _ := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	h = whatsapp.New(whatsapp.Options{Store: st, Box: other})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/channels/whatsapp/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook", bytes.NewReader(body)))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), appSecret) {
		t.Errorf("under another key: %d %s, want 503", rec.Code, rec.Body)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), nil)
	big := bytes.Repeat([]byte(" "), 65<<10)
	if code, _ := e.deliver(big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body answered %d, want 413", code)
	}
}

func TestUnparseablePayloadIsDeadLettered(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantError string
		messages  int
	}{
		{"not json", `{"object":"whatsapp_business_account","entry":[`, "decode payload", 0},
		{"not whatsapp", `{"object":"page","entry":[]}`, "not a whatsapp_business_account", 0},
		{"entry of the wrong shape", `{"object":"whatsapp_business_account","entry":{"id":1}}`, "decode payload", 0},
		{"one bad message among good ones", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"messages":[
			{"from":"15550001","id":"wamid.GOOD","timestamp":"1","type":"text","text":{"body":"kept"}},
			{"from":"15550001","timestamp":"1","type":"text","text":{"body":"no id"}},
			{"from":"15550001","id":"wamid.EMPTY","timestamp":"1","type":"text","text":{"body":"   "}},
			{"from":"15550001","id":"wamid.BADSHAPE","timestamp":1,"type":"text"}]}}]}]}`, "messages[1]: no id or from", 1},
		{"another number's message", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"999"},"messages":[
			{"from":"15550001","id":"wamid.OTHER","timestamp":"1","type":"text","text":{"body":"hi"}}]}}]}]}`, `phone number id "999"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), nil)
			res := e.mustDeliver([]byte(tt.body))
			if !res.DeadLettered || res.Messages != tt.messages {
				t.Fatalf("result %+v: want dead-lettered with %d messages", res, tt.messages)
			}
			dl := e.deadLetters()
			if len(dl) != 1 || string(dl[0].Body) != tt.body || dl[0].Provider != "whatsapp" || dl[0].InboxID != e.inbox.ID || !strings.Contains(dl[0].Error, tt.wantError) {
				t.Fatalf("dead letters %+v: want one with the raw body and %q", dl, tt.wantError)
			}
			if n := len(e.messages()); n != tt.messages {
				t.Fatalf("stored %d messages, want %d", n, tt.messages)
			}
		})
	}
}

// failingStore fails one kind of write, as a database going away would.
type failingStore struct {
	whatsapp.Store
	failMessages, failStatuses, failDeadLetters bool
}

var errDown = errors.New("database is down")

func (f failingStore) CreateMessage(ctx context.Context, ws int64, m store.NewMessage) (store.CreatedMessage, error) {
	if f.failMessages {
		return store.CreatedMessage{}, errDown
	}
	return f.Store.CreateMessage(ctx, ws, m)
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
	tests := []struct {
		name string
		fs   failingStore
		body string
	}{
		{"message write fails", failingStore{failMessages: true}, "text.json"},
		{"dead letter write fails", failingStore{failDeadLetters: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), func(s whatsapp.Store) whatsapp.Store { tt.fs.Store = s; return tt.fs })
			body := []byte(`not json`)
			if tt.body != "" {
				body = fixture(t, tt.body)
			}
			code, answer := e.deliver(body)
			if code < 500 || strings.Contains(answer, errDown.Error()) {
				t.Fatalf("answered %d %s, want a 5xx that does not leak the cause", code, answer)
			}
		})
	}
	t.Run("status write fails", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), func(s whatsapp.Store) whatsapp.Store { return failingStore{Store: s, failStatuses: true} })
		e.mustDeliver(fixture(t, "text.json"))
		conv := e.messages()[0].ConversationID
		if _, err := e.st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{ConversationID: conv, Direction: store.DirectionIn, Body: "x", ProviderMessageID: "wamid.OUT1"}); err != nil {
			t.Fatal(err)
		}
		if code, _ := e.deliver(fixture(t, "statuses.json")); code != http.StatusInternalServerError {
			t.Fatalf("answered %d, want 500", code)
		}
	})
}

// TestOptOutKeywords: a customer's STOP opts them out (the message is
// still filed for agents to see) and replies are refused until START.
func TestOptOutKeywords(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, nil)
		ctx := context.Background()
		send := func(id, text string) {
			body, err := whatsapp.TextPayload(whatsapp.TextMessage{PhoneNumberID: phoneNumberID, From: "+1 555 0100", Name: "Ann", Text: text, ID: id})
			if err != nil {
				t.Fatal(err)
			}
			e.mustDeliver(body)
		}
		reply := func() error {
			_, err := e.st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: e.messages()[0].ConversationID,
				Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "Anything else?"})
			return err
		}
		send("wamid.1", "Thanks, that fixed it")
		if err := reply(); err != nil {
			t.Fatalf("reply inside the window: %v", err)
		}
		send("wamid.2", "Stop.")
		send("wamid.2", "Stop.") // Meta's retry: nothing more
		ms := e.messages()
		if len(ms) != 3 || ms[2].Body != "Stop." {
			t.Fatalf("messages %+v, want the STOP filed once", ms)
		}
		var pe *store.PolicyError
		if err := reply(); !errors.As(err, &pe) || pe.Code != store.CodeOptedOut {
			t.Fatalf("reply after STOP: %v, want %s", err, store.CodeOptedOut)
		}
		contact, err := e.st.Contact(ctx, e.ws.ID, mustConversation(t, e, ms[0].ConversationID).ContactID)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := e.st.ConsentRecords(ctx, e.ws.ID, contact.ID)
		if err != nil || len(recs) != 1 || recs[0].Source != "STOP" || recs[0].Channel != "whatsapp" || contact.OptedOutAt == nil {
			t.Fatalf("consent %+v %v, contact %+v", recs, err, contact)
		}
		send("wamid.3", "please stop the order")
		if err := reply(); !errors.As(err, &pe) {
			t.Fatalf("a sentence with stop in it opted back in: %v", err)
		}
		send("wamid.4", "START")
		if err := reply(); err != nil {
			t.Fatalf("reply after START: %v", err)
		}
	})
}

func mustConversation(t testing.TB, e *env, id int64) store.Conversation {
	t.Helper()
	c, err := e.st.Conversation(context.Background(), e.ws.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
