package messenger_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// graphRequest is what the fake Send API received.
type graphRequest struct {
	Path          string
	Authorization string
	Body          struct {
		Recipient struct {
			ID string `json:"id"`
		} `json:"recipient"`
		MessagingType string `json:"messaging_type"`
		Tag           string `json:"tag"`
		Message       struct {
			Text       string `json:"text"`
			Attachment *struct {
				Type    string `json:"type"`
				Payload struct {
					URL        string `json:"url"`
					IsReusable bool   `json:"is_reusable"`
				} `json:"payload"`
			} `json:"attachment"`
		} `json:"message"`
	}
}

// fakeGraph is a Send API answering status and body, recording what it
// was sent.
type fakeGraph struct {
	mu     sync.Mutex
	status int
	body   string
	got    []graphRequest
	srv    *httptest.Server
}

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{status: 200}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var gr graphRequest
		gr.Path, gr.Authorization = r.Method+" "+r.URL.Path, r.Header.Get("Authorization")
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &gr.Body); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("send request %s: not JSON: %v", raw, err)
		}
		f.mu.Lock()
		f.got = append(f.got, gr)
		status, body := f.status, f.body
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) answer(status int, body string) {
	f.mu.Lock()
	f.status, f.body = status, body
	f.mu.Unlock()
}

func (f *fakeGraph) requests() []graphRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]graphRequest(nil), f.got...)
}

// sendEnv is an inbox with one conversation the customer opened, and a
// Sender pointed at a fake Send API with a settable clock.
type sendEnv struct {
	*env
	graph  *fakeGraph
	sender *messenger.Sender
	conv   store.Conversation
	now    time.Time
}

func newSendEnv(t *testing.T, kind store.InboxKind) *sendEnv {
	t.Helper()
	e := newEnv(t, teststore.SQLite(t), kind, nil)
	e.mustDeliver(fixture(t, string(kind)+"_text.json"))
	conv, err := e.st.Conversation(context.Background(), e.ws.ID, e.messages()[0].ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.LastInboundAt == nil {
		t.Fatal("the store did not record the customer's last message")
	}
	se := &sendEnv{env: e, graph: newFakeGraph(t), conv: conv, now: *conv.LastInboundAt}
	se.sender = messenger.NewSender(messenger.SenderOptions{
		Store: e.st, Box: e.box, GraphURL: se.graph.srv.URL + "/", Now: func() time.Time { return se.now },
	})
	return se
}

// reply queues an outbound text in the conversation.
func (se *sendEnv) reply(text string) store.Message {
	se.t.Helper()
	c, err := se.st.CreateMessage(context.Background(), se.ws.ID, store.NewMessage{
		ConversationID: se.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAI, Body: text,
	})
	if err != nil {
		se.t.Fatal(err)
	}
	return c.Message
}

func TestSendWithinWindows(t *testing.T) {
	for _, tt := range []struct {
		kind      store.InboxKind
		path      string
		recipient string
	}{
		{store.InboxMessenger, "POST /v23.0/" + pageID + "/messages", ada},
		{store.InboxInstagram, "POST /v23.0/" + igID + "/messages", igCustomer},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			se := newSendEnv(t, tt.kind)
			se.graph.answer(200, `{"recipient_id":"`+tt.recipient+`","message_id":"m_SENT_1"}`)
			m := se.reply("Yes, it left this morning.")

			se.now = se.now.Add(2 * time.Hour)
			id, err := se.sender.Send(context.Background(), m)
			if err != nil || id != "m_SENT_1" {
				t.Fatalf("send within 24h: %q, %v; want m_SENT_1", id, err)
			}
			se.now = se.now.Add(3 * 24 * time.Hour)
			if _, err := se.sender.Send(context.Background(), m); err != nil {
				t.Fatalf("send after 3 days: %v", err)
			}
			got := se.graph.requests()
			if len(got) != 2 {
				t.Fatalf("%d requests, want 2", len(got))
			}
			for i, want := range []struct{ typ, tag string }{{"RESPONSE", ""}, {"MESSAGE_TAG", "HUMAN_AGENT"}} {
				g := got[i]
				if g.Path != tt.path || g.Authorization != "Bearer EAAG-page-token" || g.Body.Recipient.ID != tt.recipient ||
					g.Body.Message.Text != "Yes, it left this morning." || g.Body.MessagingType != want.typ || g.Body.Tag != want.tag {
					t.Errorf("request %d = %+v, want %s to %s as %s %s", i, g, tt.path, tt.recipient, want.typ, want.tag)
				}
			}

			// After 7 days nothing is sent: a permanent error saying why.
			se.now = se.now.Add(5 * 24 * time.Hour)
			_, err = se.sender.Send(context.Background(), m)
			var serr *messenger.SendError
			if !errors.As(err, &serr) || !serr.Permanent() || !strings.Contains(err.Error(), "messaging window is closed") {
				t.Fatalf("send after 8 days: %v, want a permanent window error", err)
			}
			if n := len(se.graph.requests()); n != 2 {
				t.Fatalf("%d requests after the window closed, want still 2", n)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		permanent bool
		text      string
	}{
		{"throttled", 429, `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"A1"}}`, false, "Messenger error 613: Calls to this api have exceeded the rate limit."},
		{"page throttled on a 400", 400, `{"error":{"message":"(#32) Page request limit reached","type":"OAuthException","code":32}}`, false, "Messenger error 32: Page request limit reached"},
		{"app throttled", 400, `{"error":{"message":"(#4) Application request limit reached","code":4}}`, false, "Messenger error 4: Application request limit reached"},
		{"user throttled", 403, `{"error":{"message":"(#17) User request limit reached","code":17}}`, false, "Messenger error 17: User request limit reached"},
		{"server error", 500, `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2}}`, false, "Messenger error 2: An unexpected error has occurred. Please retry your request later."},
		{"not json", 502, `<html>Bad Gateway</html>`, false, "Messenger API answered HTTP 502: Bad Gateway"},
		{"outside the window", 400, `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"B2"}}`, true, "Messenger error 10 (subcode 2018278): This message is sent outside of allowed window."},
		{"no such user", 400, `{"error":{"message":"(#100) No matching user found","type":"OAuthException","code":100,"error_subcode":2018001}}`, true, "Messenger error 100 (subcode 2018001): No matching user found"},
		{"expired token", 401, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463}}`, true, "Messenger error 190 (subcode 463): Error validating access token: Session has expired"},
	}
	se := newSendEnv(t, store.InboxMessenger)
	m := se.reply("hello")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se.graph.answer(tt.status, tt.body)
			id, err := se.sender.Send(context.Background(), m)
			var serr *messenger.SendError
			if id != "" || !errors.As(err, &serr) {
				t.Fatalf("got %q, %v; want a *SendError", id, err)
			}
			if serr.Permanent() != tt.permanent || err.Error() != tt.text {
				t.Fatalf("permanent %v %q, want %v %q", serr.Permanent(), err.Error(), tt.permanent, tt.text)
			}
		})
	}
	t.Run("accepted without an id", func(t *testing.T) {
		se.graph.answer(200, `{}`)
		if id, err := se.sender.Send(context.Background(), m); id != "" || err != nil {
			t.Fatalf("got %q, %v; want sent without an id (not sent again)", id, err)
		}
	})
	t.Run("network failure", func(t *testing.T) {
		down := messenger.NewSender(messenger.SenderOptions{Store: se.st, Box: se.box, GraphURL: "http://127.0.0.1:1", Now: func() time.Time { return se.now }})
		_, err := down.Send(context.Background(), m)
		var serr *messenger.SendError
		if !errors.As(err, &serr) || serr.Permanent() || strings.Contains(err.Error(), "EAAG-page-token") {
			t.Fatalf("unreachable API: %v, want a retryable error without the token", err)
		}
	})
}

func TestSendRefusals(t *testing.T) {
	se := newSendEnv(t, store.InboxInstagram)
	ctx := context.Background()
	permanent := func(t *testing.T, m store.Message, sender *messenger.Sender, want string) {
		t.Helper()
		_, err := sender.Send(ctx, m)
		var serr *messenger.SendError
		if !errors.As(err, &serr) || !serr.Permanent() || !strings.Contains(err.Error(), want) {
			t.Fatalf("send: %v, want a permanent error with %q", err, want)
		}
	}
	t.Run("media without an attachment", func(t *testing.T) {
		m := se.reply("x")
		m.Type = store.TypeMedia
		permanent(t, m, se.sender, "no attachment")
	})
	t.Run("template", func(t *testing.T) {
		m := se.reply("x")
		m.Type = store.TypeTemplate
		permanent(t, m, se.sender, "cannot be sent to Instagram")
	})
	t.Run("media without a media store", func(t *testing.T) {
		m := se.reply("x")
		m.Type, m.Media = store.TypeMedia, []store.MediaRef{{ID: 1, State: store.MediaStored}}
		permanent(t, m, se.sender, "cannot send attachments")
	})
	t.Run("no page access token", func(t *testing.T) {
		cfg := testConfig(store.InboxInstagram)
		cfg.PageAccessToken = ""
		settings, sealed, err := messenger.Seal(se.box, se.inbox.ID, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := se.st.ConfigureInbox(ctx, se.ws.ID, se.inbox.ID, settings, sealed); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			settings, sealed, _ := messenger.Seal(se.box, se.inbox.ID, testConfig(store.InboxInstagram))
			se.st.ConfigureInbox(ctx, se.ws.ID, se.inbox.ID, settings, sealed)
		})
		permanent(t, se.reply("x"), se.sender, "no page access token")
	})
	t.Run("no secret key", func(t *testing.T) {
		s := messenger.NewSender(messenger.SenderOptions{Store: se.st, GraphURL: se.graph.srv.URL})
		permanent(t, se.reply("y"), s, "SWITCHBOARD_SECRET_KEY")
	})
	t.Run("contact without an Instagram id", func(t *testing.T) {
		c, _, err := se.st.CreateContact(ctx, se.ws.ID, store.NewContact{Name: "Walk-in"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		conv, _, err := se.st.CreateConversation(ctx, se.ws.ID, store.NewConversation{InboxID: se.inbox.ID, ContactID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		m := se.reply("z")
		m.ConversationID = conv.ID
		// The customer never wrote there: the window never opened.
		permanent(t, m, se.sender, "has not written")
		// Once they wrote (through another channel's form, say), the
		// window is open but there is no one to send to on Instagram.
		if _, err := se.st.CreateMessage(ctx, se.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn, Body: "hi", ProviderMessageID: "walk-in-1"}); err != nil {
			t.Fatal(err)
		}
		permanent(t, m, se.sender, "no Instagram id")
	})
	if n := len(se.graph.requests()); n != 0 {
		t.Fatalf("%d requests sent for refused messages", n)
	}
}

func TestSendThroughLinkedPage(t *testing.T) {
	// An Instagram inbox connected through its Facebook Page sends through
	// the page.
	se := newSendEnv(t, store.InboxInstagram)
	cfg := testConfig(store.InboxInstagram)
	cfg.PageID = pageID
	settings, sealed, err := messenger.SealFor(se.box, store.InboxInstagram, se.inbox.ID, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := se.st.ConfigureInbox(context.Background(), se.ws.ID, se.inbox.ID, settings, sealed); err != nil {
		t.Fatal(err)
	}
	se.graph.answer(200, `{"recipient_id":"`+igCustomer+`","message_id":"aWdfSENT"}`)
	if id, err := se.sender.Send(context.Background(), se.reply("via the page")); err != nil || id != "aWdfSENT" {
		t.Fatalf("send: %q, %v", id, err)
	}
	if got := se.graph.requests(); len(got) != 1 || got[0].Path != "POST /v23.0/"+pageID+"/messages" {
		t.Fatalf("requests %+v, want one to the page", got)
	}
}
