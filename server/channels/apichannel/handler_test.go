package apichannel_test

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
	"sync/atomic"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const (
	inboundToken  = "in-tok-0123456789abcdef0123456789abcdef"
	webhookSecret = "whsec-0123456789abcdef0123456789abcdef"
)

// env is an API inbox on a real store behind the handler.
type env struct {
	t     testing.TB
	st    store.Store
	box   *secretbox.Box
	ws    store.Workspace
	owner store.Agent
	inbox store.Inbox
	srv   *httptest.Server

	mu        sync.Mutex
	committed []int64
}

func newBox(t testing.TB) *secretbox.Box {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{42}, secretbox.KeySize))
	must(t, err)
	return box
}

// newEnv opens an API inbox configured with inboundToken and, when
// webhookURL is not empty, that webhook. wrap, when not nil, wraps the
// store the handler sees.
func newEnv(t testing.TB, st store.Store, webhookURL string, wrap func(apichannel.Store) apichannel.Store) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: st, box: newBox(t)}
	var err error
	e.ws, e.owner, err = st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	must(t, err)
	e.inbox = e.newInbox("Website chat", apichannel.Config{InboundToken: inboundToken, WebhookURL: webhookURL, WebhookSecret: webhookSecret})
	var hs apichannel.Store = st
	if wrap != nil {
		hs = wrap(st)
	}
	h := apichannel.New(apichannel.Options{Store: hs, Box: e.box, MaxBodyBytes: 100 << 10, OnCommit: func(id int64) {
		e.mu.Lock()
		e.committed = append(e.committed, id)
		e.mu.Unlock()
	}})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// newInbox creates and configures another API inbox in the workspace.
func (e *env) newInbox(name string, cfg apichannel.Config) store.Inbox {
	e.t.Helper()
	ctx := context.Background()
	in, err := e.st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: name})
	must(e.t, err)
	settings, sealed, err := apichannel.Seal(e.box, in.ID, cfg)
	must(e.t, err)
	in, err = e.st.ConfigureInbox(ctx, e.ws.ID, in.ID, settings, sealed)
	must(e.t, err)
	return in
}

func (e *env) url(inboxID int64, what string) string {
	return e.srv.URL + "/channels/api/" + strconv.FormatInt(inboxID, 10) + "/" + what
}

// do sends a request and returns the status, the decoded error (if the
// answer is one) and the raw answer.
func (e *env) do(method, url, auth, contentType string, body []byte) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	must(e.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(e.t, err)
	return resp.StatusCode, resp.Header, string(b)
}

// post sends body to the inbox's messages endpoint with the right token.
func (e *env) post(body []byte) (int, string) {
	e.t.Helper()
	code, _, answer := e.do(http.MethodPost, e.url(e.inbox.ID, "messages"), "Bearer "+inboundToken, "application/json", body)
	return code, answer
}

func (e *env) mustPost(body []byte, wantCode int) apichannel.Filed {
	e.t.Helper()
	code, answer := e.post(body)
	if code != wantCode {
		e.t.Fatalf("POST answered %d %s, want %d", code, answer, wantCode)
	}
	var f apichannel.Filed
	dec := json.NewDecoder(strings.NewReader(answer))
	dec.DisallowUnknownFields()
	must(e.t, dec.Decode(&f))
	return f
}

// messages returns every message of the workspace, oldest first.
func (e *env) messages() []store.Message {
	e.t.Helper()
	ctx := context.Background()
	page, err := e.st.ListConversations(ctx, e.ws.ID, store.ConversationFilter{Limit: 100})
	must(e.t, err)
	var out []store.Message
	for _, c := range page.Conversations {
		ms, err := e.st.ListMessages(ctx, e.ws.ID, c.ID, store.MessageFilter{Limit: 100})
		must(e.t, err)
		out = append(out, ms...)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (e *env) commits() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.committed...)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func message(contactID, id, text string) []byte {
	b, _ := json.Marshal(map[string]any{"contact": map[string]string{"id": contactID}, "message": map[string]string{"id": id, "text": text}})
	return b
}

func TestInboundMessage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, "", nil)
		ctx := context.Background()
		first := e.mustPost(fixture(t, "message_text.json"), http.StatusCreated)
		if first.Duplicate || first.MessageID == 0 || first.ConversationID == 0 || first.ContactID == 0 {
			t.Fatalf("answer %+v: want the new ids", first)
		}
		ms := e.messages()
		if len(ms) != 1 {
			t.Fatalf("stored %d messages, want 1", len(ms))
		}
		m := ms[0]
		if m.ID != first.MessageID || m.ConversationID != first.ConversationID || m.InboxID != e.inbox.ID ||
			m.Direction != store.DirectionIn || m.Type != store.TypeText || m.Status != store.DeliveryReceived ||
			m.Body != "Hi! My order #1043 has not arrived yet." || m.ProviderMessageID != "in:msg-7f3c9a" {
			t.Fatalf("stored %+v", m)
		}
		c, err := st.Contact(ctx, e.ws.ID, first.ContactID)
		must(t, err)
		want := store.Identity{Channel: store.IdentityChannelForInbox(e.inbox.ID), ExternalID: "user-42"}
		if c.Name != "Ada Lovelace" || c.Email != "ada@example.com" || c.Phone != "+44 20 7946 0958" || len(c.Identities) != 1 || c.Identities[0] != want {
			t.Fatalf("contact %+v, want Ada known as %+v", c, want)
		}

		// The same message again: the first one's ids, nothing stored.
		again := e.mustPost(fixture(t, "message_text.json"), http.StatusOK)
		if !again.Duplicate || again.MessageID != first.MessageID || again.ConversationID != first.ConversationID || again.ContactID != first.ContactID {
			t.Fatalf("repeat answered %+v, want the duplicate of %+v", again, first)
		}
		// The next message of the same contact joins the conversation.
		next := e.mustPost(message("user-42", "msg-2", "Any news?"), http.StatusCreated)
		if next.ConversationID != first.ConversationID || next.ContactID != first.ContactID {
			t.Fatalf("next message %+v, want it in conversation %d", next, first.ConversationID)
		}
		if n := len(e.messages()); n != 2 {
			t.Fatalf("stored %d messages, want 2", n)
		}
		if got := e.commits(); len(got) != 2 || got[0] != e.ws.ID || got[1] != e.ws.ID {
			t.Fatalf("OnCommit calls %v, want two (not one for the duplicate)", got)
		}
		// The same user id in another API inbox is another contact.
		other := e.newInbox("Other site", apichannel.Config{InboundToken: strings.Repeat("o", 40)})
		code, _, answer := e.do(http.MethodPost, e.url(other.ID, "messages"), "Bearer "+strings.Repeat("o", 40), "", message("user-42", "msg-7f3c9a", "hello"))
		var f apichannel.Filed
		if code != http.StatusCreated || json.Unmarshal([]byte(answer), &f) != nil || f.Duplicate || f.ContactID == first.ContactID {
			t.Fatalf("other inbox answered %d %s: want a new message from a new contact", code, answer)
		}
	})
}

func TestInboundAttachments(t *testing.T) {
	tests := []struct {
		fixture string
		body    string
		urls    []string
	}{
		{"message_attachments.json", "[image: box.jpg] [file: invoice-1043.pdf] Here is the damaged box and the invoice.",
			[]string{"https://files.example.com/uploads/box.jpg", "https://files.example.com/uploads/invoice-1043.pdf"}},
		{"message_attachment_only.json", "[audio]", []string{"https://files.example.com/uploads/note.ogg"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), "", nil)
			e.mustPost(fixture(t, tt.fixture), http.StatusCreated)
			ms := e.messages()
			if len(ms) != 1 || ms[0].Type != store.TypeMedia || ms[0].Body != tt.body {
				t.Fatalf("stored %+v, want one media message %q", ms, tt.body)
			}
			var content struct {
				Provider    string                  `json:"provider"`
				MessageID   string                  `json:"message_id"`
				Attachments []apichannel.Attachment `json:"attachments"`
			}
			must(t, json.Unmarshal(ms[0].Content, &content))
			if content.Provider != "api" || content.MessageID == "" || len(content.Attachments) != len(tt.urls) {
				t.Fatalf("content %s", ms[0].Content)
			}
			for i, u := range tt.urls {
				if content.Attachments[i].URL != u {
					t.Errorf("attachment %d url %q, want %q", i, content.Attachments[i].URL, u)
				}
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), "", nil)
	other := e.newInbox("Other site", apichannel.Config{InboundToken: strings.Repeat("x", 40)})
	body := fixture(t, "message_text.json")
	tests := []struct {
		name, auth string
	}{
		{"no header", ""},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic " + inboundToken},
		{"token without scheme", inboundToken},
		{"wrong token", "Bearer " + strings.Repeat("w", len(inboundToken))},
		{"token prefix", "Bearer " + inboundToken[:len(inboundToken)-1]},
		{"token with suffix", "Bearer " + inboundToken + "x"},
		{"another inbox's token", "Bearer " + strings.Repeat("x", 40)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, what := range []string{"messages", "statuses"} {
				code, h, answer := e.do(http.MethodPost, e.url(e.inbox.ID, what), tt.auth, "application/json", body)
				if code != http.StatusUnauthorized || !strings.Contains(answer, `"code":"unauthorized"`) || h.Get("WWW-Authenticate") == "" {
					t.Fatalf("%s answered %d %s, want 401 unauthorized with WWW-Authenticate", what, code, answer)
				}
				if strings.Contains(answer, inboundToken) {
					t.Fatalf("answer %s leaks the token", answer)
				}
			}
		})
	}
	if n := len(e.messages()); n != 0 {
		t.Fatalf("%d messages stored from unauthenticated requests", n)
	}
	// The scheme is case-insensitive (RFC 7235).
	code, _, answer := e.do(http.MethodPost, e.url(e.inbox.ID, "messages"), "bearer "+inboundToken, "", body)
	if code != http.StatusCreated {
		t.Fatalf("lower-case scheme answered %d %s", code, answer)
	}
	// The other inbox's own token works there.
	code, _, answer = e.do(http.MethodPost, e.url(other.ID, "messages"), "Bearer "+strings.Repeat("x", 40), "", body)
	if code != http.StatusCreated {
		t.Fatalf("other inbox answered %d %s", code, answer)
	}
}

func TestUnknownOrUnavailableInbox(t *testing.T) {
	st := teststore.SQLite(t)
	e := newEnv(t, st, "", nil)
	ctx := context.Background()
	wa, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "WhatsApp"})
	must(t, err)
	bare, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "Not yet configured"})
	must(t, err)
	body := fixture(t, "message_text.json")
	auth := "Bearer " + inboundToken
	tests := []struct {
		name, path, auth string
		want             int
		code             string
	}{
		{"unknown inbox", "/channels/api/999999/messages", auth, 404, "not_found"},
		{"unknown inbox, statuses", "/channels/api/999999/statuses", auth, 404, "not_found"},
		{"not a number", "/channels/api/abc/messages", auth, 404, "not_found"},
		{"negative", "/channels/api/-1/messages", auth, 404, "not_found"},
		{"a WhatsApp inbox", "/channels/api/" + strconv.FormatInt(wa.ID, 10) + "/messages", auth, 404, "not_found"},
		{"unconfigured inbox", "/channels/api/" + strconv.FormatInt(bare.ID, 10) + "/messages", auth, 503, "unavailable"},
		// Without a token nothing is looked up: an unknown inbox looks
		// like any other.
		{"unknown inbox without a token", "/channels/api/999999/messages", "", 401, "unauthorized"},
		{"unknown endpoint", "/channels/api/" + strconv.FormatInt(e.inbox.ID, 10) + "/webhook", auth, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, answer := e.do(http.MethodPost, e.srv.URL+tt.path, tt.auth, "", body)
			if code != tt.want || !strings.Contains(answer, `"code":"`+tt.code+`"`) {
				t.Fatalf("answered %d %s, want %d %s", code, answer, tt.want, tt.code)
			}
		})
	}
	path := "/channels/api/" + strconv.FormatInt(e.inbox.ID, 10) + "/messages"
	serve := func(h http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// Without a secret key no inbox's credentials open: 503 naming it.
	if rec := serve(apichannel.New(apichannel.Options{Store: st})); rec.Code != 503 || !strings.Contains(rec.Body.String(), "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("without a key: %d %s, want 503 naming SWITCHBOARD_SECRET_KEY", rec.Code, rec.Body)
	}
	// Under another key the sealed credentials do not open.
	otherKey, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	must(t, err)
	if rec := serve(apichannel.New(apichannel.Options{Store: st, Box: otherKey})); rec.Code != 503 || strings.Contains(rec.Body.String(), inboundToken) {
		t.Errorf("under another key: %d %s, want 503", rec.Code, rec.Body)
	}
	if n := len(e.messages()); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), "", nil)
	long := strings.Repeat("a", apichannel.MaxIDBytes+1)
	att := func(a string) string {
		return `{"contact":{"id":"u"},"message":{"id":"m","attachments":[` + a + `]}}`
	}
	tests := []struct {
		name, body string
		status     int
		code, text string
	}{
		{"empty body", ``, 400, "bad_request", "body is empty"},
		{"not json", `contact=user-42&text=hi`, 400, "bad_request", "invalid JSON"},
		{"cut short", `{"contact":{"id":"u"},"message":{"id":`, 400, "bad_request", "ends early"},
		{"an array", `[{"contact":{"id":"u"}}]`, 400, "bad_request", "must be a JSON object"},
		{"trailing data", `{"contact":{"id":"u"},"message":{"id":"m","text":"hi"}} {"again":1}`, 400, "bad_request", "trailing data"},
		{"trailing garbage", `{"contact":{"id":"u"},"message":{"id":"m","text":"hi"}}xyz`, 400, "bad_request", "trailing data"},
		{"unknown top-level field", `{"contact":{"id":"u"},"message":{"id":"m","text":"hi"},"channel":"web"}`, 400, "bad_request", `unknown field "channel"`},
		{"unknown nested field", `{"contact":{"id":"u","avatar":"x"},"message":{"id":"m","text":"hi"}}`, 400, "bad_request", `unknown field "avatar"`},
		{"id as a number", `{"contact":{"id":42},"message":{"id":"m","text":"hi"}}`, 400, "bad_request", "contact.id: must be a JSON string"},
		{"attachments as an object", `{"contact":{"id":"u"},"message":{"id":"m","attachments":{"url":"https://x"}}}`, 400, "bad_request", "message.attachments: must be a JSON array"},
		{"no contact", `{"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.id: is required"},
		{"blank contact id", `{"contact":{"id":"  "},"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.id: is required"},
		{"long contact id", `{"contact":{"id":"` + long + `"},"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.id: is longer than"},
		{"contact id with a newline", `{"contact":{"id":"u\n1"},"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.id: must not contain control"},
		{"long name", `{"contact":{"id":"u","name":"` + strings.Repeat("n", 256) + `"},"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.name: is longer than"},
		{"bad email", `{"contact":{"id":"u","email":"not an email"},"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.email: is not an email address"},
		{"email with a display name", `{"contact":{"id":"u","email":"Ada <ada@example.com>"},"message":{"id":"m","text":"hi"}}`, 422, "invalid", "contact.email"},
		{"no message id", `{"contact":{"id":"u"},"message":{"text":"hi"}}`, 422, "invalid", "message.id: is required"},
		{"long message id", `{"contact":{"id":"u"},"message":{"id":"` + long + `","text":"hi"}}`, 422, "invalid", "message.id: is longer than"},
		{"no text, no attachments", `{"contact":{"id":"u"},"message":{"id":"m"}}`, 422, "invalid", "message.text: is required"},
		{"blank text", `{"contact":{"id":"u"},"message":{"id":"m","text":" \n "}}`, 422, "invalid", "message.text: is required"},
		{"text too long", `{"contact":{"id":"u"},"message":{"id":"m","text":"` + strings.Repeat("t", store.MaxBodyBytes+1) + `"}}`, 422, "invalid", "message.text: is longer than"},
		{"attachment without url", att(`{"filename":"a.png"}`), 422, "invalid", "message.attachments[0].url: is required"},
		{"relative attachment url", att(`{"url":"/uploads/a.png"}`), 422, "invalid", "message.attachments[0].url: must be an absolute http or https URL"},
		{"javascript attachment url", att(`{"url":"https://x/a.png"},{"url":"javascript:alert(1)"}`), 422, "invalid", "message.attachments[1].url"},
		{"bad content type", att(`{"url":"https://x/a","content_type":"not a type"}`), 422, "invalid", "message.attachments[0].content_type"},
		{"too many attachments", att(strings.TrimSuffix(strings.Repeat(`{"url":"https://x/a"},`, apichannel.MaxAttachments+1), ",")), 422, "invalid", "message.attachments: has more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, answer := e.post([]byte(tt.body))
			var eb connector.ErrorBody
			if code != tt.status || json.Unmarshal([]byte(answer), &eb) != nil || eb.Error.Code != tt.code || !strings.Contains(eb.Error.Message, tt.text) {
				t.Fatalf("answered %d %s, want %d %s containing %q", code, answer, tt.status, tt.code, tt.text)
			}
		})
	}
	if n := len(e.messages()); n != 0 {
		t.Fatalf("%d messages stored from bad requests", n)
	}
	// Nothing is kept as a dead letter: the caller had its answer.
	dl, err := e.st.ListDeadLetters(context.Background(), e.ws.ID, 10)
	must(t, err)
	if len(dl) != 0 {
		t.Fatalf("%d dead letters kept, want none", len(dl))
	}
}

func TestRequestLimits(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), "", nil)
	auth := "Bearer " + inboundToken
	msgs := e.url(e.inbox.ID, "messages")
	big := message("u", "m", strings.Repeat("x", 101<<10))
	tests := []struct {
		name, method, url, contentType string
		body                           []byte
		status                         int
		code                           string
	}{
		{"oversized body", http.MethodPost, msgs, "application/json", big, 413, "too_large"},
		{"oversized status", http.MethodPost, e.url(e.inbox.ID, "statuses"), "application/json", big, 413, "too_large"},
		{"form content type", http.MethodPost, msgs, "application/x-www-form-urlencoded", message("u", "m", "hi"), 415, "unsupported_media_type"},
		{"bad content type", http.MethodPost, msgs, ";;", message("u", "m", "hi"), 415, "unsupported_media_type"},
		{"GET", http.MethodGet, msgs, "", nil, 405, "method_not_allowed"},
		{"PUT statuses", http.MethodPut, e.url(e.inbox.ID, "statuses"), "", nil, 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, answer := e.do(tt.method, tt.url, auth, tt.contentType, tt.body)
			if code != tt.status || !strings.Contains(answer, `"code":"`+tt.code+`"`) {
				t.Fatalf("answered %d %s, want %d %s", code, answer, tt.status, tt.code)
			}
		})
	}
	// A JSON content type with parameters is fine.
	code, _, answer := e.do(http.MethodPost, msgs, auth, "application/json; charset=utf-8", message("u", "m", "hi"))
	if code != http.StatusCreated {
		t.Fatalf("answered %d %s", code, answer)
	}
}

// failOnce fails the first CreateMessage, as a database going away between
// receiving a message and committing it would.
type failOnce struct {
	apichannel.Store
	failed atomic.Bool
}

var errDown = errors.New("database is down")

func (f *failOnce) CreateMessage(ctx context.Context, ws int64, m store.NewMessage) (store.CreatedMessage, error) {
	if f.failed.CompareAndSwap(false, true) {
		return store.CreatedMessage{}, errDown
	}
	return f.Store.CreateMessage(ctx, ws, m)
}

func TestStoreFailureThenRetry(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, "", func(s apichannel.Store) apichannel.Store { return &failOnce{Store: s} })
		body := fixture(t, "message_text.json")
		code, answer := e.post(body)
		if code != http.StatusInternalServerError || strings.Contains(answer, errDown.Error()) || !strings.Contains(answer, "retry") {
			t.Fatalf("answered %d %s, want a 500 asking for a retry, not leaking the cause", code, answer)
		}
		if n := len(e.messages()); n != 0 {
			t.Fatalf("%d messages stored by the failed request", n)
		}
		if got := e.commits(); len(got) != 0 {
			t.Fatalf("OnCommit %v after a failure", got)
		}
		f := e.mustPost(body, http.StatusCreated)
		if f.Duplicate {
			t.Fatal("the retry is the first stored copy, not a duplicate")
		}
		e.mustPost(body, http.StatusOK)
		if n := len(e.messages()); n != 1 {
			t.Fatalf("stored %d messages, want exactly 1", n)
		}
	})
}

func TestConcurrentDuplicates(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, "", nil)
		// A new contact's first message, sent five times at once (a
		// source retrying on a timeout).
		body := message("user-9", "racer", "sent five times")
		var created, dup atomic.Int32
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				switch code, answer := e.post(body); code {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusOK:
					dup.Add(1)
				default:
					t.Errorf("concurrent post answered %d %s", code, answer)
				}
			})
		}
		wg.Wait()
		if created.Load() != 1 || dup.Load() != 4 {
			t.Fatalf("%d created, %d duplicates; want 1 and 4", created.Load(), dup.Load())
		}
		if n := len(e.messages()); n != 1 {
			t.Fatalf("stored %d messages, want 1", n)
		}
		page, err := st.ListContacts(context.Background(), e.ws.ID, store.ContactFilter{Limit: 10})
		must(t, err)
		if len(page.Contacts) != 1 {
			t.Fatalf("%d contacts, want 1", len(page.Contacts))
		}
		// One conversation, too: connector.File opens it with the
		// store's atomic OpenConversation.
		convs, err := st.ListConversations(context.Background(), e.ws.ID, store.ConversationFilter{Limit: 10})
		must(t, err)
		if len(convs.Conversations) != 1 {
			t.Fatalf("%d conversations, want 1", len(convs.Conversations))
		}
	})
}
