package messenger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const (
	appSecret   = "meta-app-secret"
	verifyToken = "verify-me-please"
	appID       = "1517776481860111"
	suiteAppID  = "263902037430900" // Meta Business Suite's app
	pageID      = "1477823465785462"
	igID        = "17841405822304914"
	ada         = "6783961241632418"
	grace       = "7229465410393126"
	igCustomer  = "1914223215685731"
)

// env is a Messenger or Instagram inbox on a real store behind the
// handler.
type env struct {
	t         testing.TB
	kind      store.InboxKind
	st        store.Store
	box       *secretbox.Box
	ws        store.Workspace
	inbox     store.Inbox
	srv       *httptest.Server
	mu        sync.Mutex
	committed []int64
}

func testBox(t testing.TB) *secretbox.Box {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{42}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func testConfig(kind store.InboxKind) messenger.Config {
	cfg := messenger.Config{PageID: pageID, AppID: appID, AppSecret: appSecret, VerifyToken: verifyToken, PageAccessToken: "EAAG-page-token"}
	if kind == store.InboxInstagram {
		cfg.PageID, cfg.InstagramAccountID = "", igID
	}
	return cfg
}

func newEnv(t testing.TB, st store.Store, kind store.InboxKind, wrap func(messenger.Store) messenger.Store) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, kind: kind, st: st, box: testBox(t)}
	var err error
	e.ws, _, err = st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	e.inbox, err = st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: kind, Name: "Acme on " + string(kind)})
	if err != nil {
		t.Fatal(err)
	}
	settings, sealed, err := messenger.SealFor(e.box, kind, e.inbox.ID, testConfig(kind))
	if err != nil {
		t.Fatal(err)
	}
	if e.inbox, err = st.ConfigureInbox(ctx, e.ws.ID, e.inbox.ID, settings, sealed); err != nil {
		t.Fatal(err)
	}
	var ms messenger.Store = st
	if wrap != nil {
		ms = wrap(st)
	}
	h := messenger.New(messenger.Options{Kind: kind, Store: ms, Box: e.box, OnCommit: func(id int64) {
		e.mu.Lock()
		e.committed = append(e.committed, id)
		e.mu.Unlock()
	}, MaxBodyBytes: 64 << 10})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) url() string {
	return e.srv.URL + "/channels/" + string(e.kind) + "/" + strconv.FormatInt(e.inbox.ID, 10) + "/webhook"
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

func (e *env) mustDeliver(body []byte) messenger.Result {
	e.t.Helper()
	code, answer := e.deliver(body)
	if code != http.StatusOK {
		e.t.Fatalf("delivery answered %d %s, want 200", code, answer)
	}
	var res messenger.Result
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
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (e *env) message(id int64) store.Message {
	e.t.Helper()
	m, err := e.st.Message(context.Background(), e.ws.ID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) deadLetters() []store.DeadLetter {
	e.t.Helper()
	d, err := e.st.ListDeadLetters(context.Background(), e.ws.ID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// sentMessage stores an outbound message the page sent with mid, as a
// reply Switchboard sent would be once the outbox recorded it.
func (e *env) sentMessage(convID int64, mid string) store.Message {
	e.t.Helper()
	c, err := e.st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{
		ConversationID: convID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem,
		Body: "reply " + mid, ProviderMessageID: mid, Sent: true,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Message
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is a stored message as a test expects it; a ProviderMessageID
// ending in ":" is a prefix (ids derived for reactions and deletions).
type want struct {
	dir  store.Direction
	typ  store.MessageType
	body string
	pmid string
}

func in(typ store.MessageType, body, pmid string) want {
	return want{store.DirectionIn, typ, body, pmid}
}

func checkMessages(t *testing.T, kind store.InboxKind, got []store.Message, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, g := range got {
			t.Logf("stored %s %s %q %s", g.Direction, g.Type, g.Body, g.ProviderMessageID)
		}
		t.Fatalf("stored %d messages, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		idOK := g.ProviderMessageID == w.pmid || (strings.HasSuffix(w.pmid, ":") && strings.HasPrefix(g.ProviderMessageID, w.pmid))
		if g.Direction != w.dir || g.Type != w.typ || g.Body != w.body || !idOK {
			t.Errorf("message %d = %s %s %q %s\nwant %s %s %q %s", i, g.Direction, g.Type, g.Body, g.ProviderMessageID, w.dir, w.typ, w.body, w.pmid)
		}
		wantStatus, wantAuthor := store.DeliveryReceived, store.AuthorContact
		if w.dir == store.DirectionOut {
			wantStatus, wantAuthor = store.DeliverySent, store.AuthorSystem
		}
		if g.Status != wantStatus || g.AuthorKind != wantAuthor {
			t.Errorf("message %d: status %s author %s, want %s %s", i, g.Status, g.AuthorKind, wantStatus, wantAuthor)
		}
		var c struct {
			Provider  string          `json:"provider"`
			Event     string          `json:"event"`
			Echo      bool            `json:"echo"`
			Messaging json.RawMessage `json:"messaging"`
		}
		if err := json.Unmarshal(g.Content, &c); err != nil || c.Provider != string(kind) || c.Event == "" || !bytes.Contains(c.Messaging, []byte(`"sender"`)) || c.Echo != (w.dir == store.DirectionOut) {
			t.Errorf("message %d content %s: want the raw %s event", i, g.Content, kind)
		}
	}
}

func TestInboundFixtures(t *testing.T) {
	out := func(typ store.MessageType, body, pmid string) want { return want{store.DirectionOut, typ, body, pmid} }
	tests := []struct {
		kind    store.InboxKind
		fixture string
		want    []want
		res     messenger.Result
		// contacts are the identities the payload's customers get.
		contacts []string
	}{
		{store.InboxMessenger, "messenger_text.json", []want{
			in(store.TypeText, "Hi! Is my order on its way?", "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"),
		}, messenger.Result{Messages: 1}, []string{ada}},
		{store.InboxMessenger, "messenger_attachments.json", []want{
			in(store.TypeMedia, "[image]\n[video]", "m_ATTACH_IMAGE"),
			in(store.TypeMedia, "[audio]", "m_ATTACH_AUDIO"),
			in(store.TypeMedia, "Here is the invoice\n[file] invoice-0423.pdf", "m_ATTACH_FILE"),
			in(store.TypeText, "[location] Pinned Location, (40.78291, -73.959076)", "m_ATTACH_LOCATION"),
			in(store.TypeText, "look at this\n[link] Our summer collection https://example.com/summer", "m_ATTACH_FALLBACK"),
			in(store.TypeMedia, "[sticker]", "m_ATTACH_STICKER"),
			in(store.TypeText, "[quick reply] Red (payload: PICK_COLOR_RED)", "m_QUICK_REPLY"),
			in(store.TypeText, "[button] Talk to a human (payload: HUMAN_HANDOFF)", "m_POSTBACK_1"),
			in(store.TypeText, "[reaction] ❤️", "reaction:"),
			in(store.TypeText, "[template] Order #1234", "m_ATTACH_TEMPLATE"),
			in(store.TypeText, "[unsupported Messenger message]", "m_UNSUPPORTED"),
		}, messenger.Result{Messages: 11}, []string{ada}},
		{store.InboxMessenger, "messenger_multi.json", []want{
			in(store.TypeText, "First from Ada", "m_MULTI_1"),
			in(store.TypeText, "First from Grace", "m_MULTI_2"),
			in(store.TypeText, "Second from Ada", "m_MULTI_3"),
			in(store.TypeText, "[message deleted]", "deleted:"),
			in(store.TypeText, "Grace again, while another app had the thread", "m_MULTI_4"),
		}, messenger.Result{Messages: 5}, []string{ada, grace}},
		{store.InboxInstagram, "instagram_text.json", []want{
			in(store.TypeText, "Do you ship to Lisbon?", "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTk0MjA1MTI1MzAxNjg1MzozMTU1NjU0MjM1MDE2MDE4NjUwNDg3NjE2MDI4NTA5MzA1NgZDZD"),
		}, messenger.Result{Messages: 1}, []string{igCustomer}},
		{store.InboxInstagram, "instagram_mixed.json", []want{
			in(store.TypeMedia, "[shared post]", "aWdfIG_SHARE"),
			in(store.TypeMedia, "[story mention]", "aWdfIG_STORY"),
			in(store.TypeText, "[reaction] ❤️", "reaction:"),
			in(store.TypeText, "[reaction removed]", "reaction:"),
			in(store.TypeText, "[button] Track my order (payload: ICEBREAKER_TRACK)", "aWdfIG_POSTBACK"),
			in(store.TypeText, "[unsupported Instagram message]", "aWdfIG_UNSUPPORTED"),
			out(store.TypeText, "Yes, we ship to Lisbon in 3 days.", "aWdfIG_ECHO_APP"),
		}, messenger.Result{Messages: 6, Echoes: 1}, []string{igCustomer}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			teststore.Each(t, func(t *testing.T, st store.Store) {
				e := newEnv(t, st, tt.kind, nil)
				if res := e.mustDeliver(fixture(t, tt.fixture)); res != tt.res {
					t.Fatalf("result %+v, want %+v", res, tt.res)
				}
				checkMessages(t, tt.kind, e.messages(), tt.want)
				page, err := st.ListContacts(context.Background(), e.ws.ID, store.ContactFilter{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, c := range page.Contacts {
					for _, id := range c.Identities {
						if id.Channel != string(tt.kind) {
							t.Errorf("contact %d has identity %+v, want channel %s", c.ID, id, tt.kind)
						}
						ids = append(ids, id.ExternalID)
					}
				}
				if len(ids) != len(tt.contacts) {
					t.Errorf("contact identities %v, want %v", ids, tt.contacts)
				}
				for _, want := range tt.contacts {
					found := false
					for _, id := range ids {
						found = found || id == want
					}
					if !found {
						t.Errorf("no contact with %s identity %s (have %v)", tt.kind, want, ids)
					}
				}
				e.mu.Lock()
				defer e.mu.Unlock()
				if len(e.committed) != 1 || e.committed[0] != e.ws.ID {
					t.Errorf("OnCommit calls %v, want one for workspace %d", e.committed, e.ws.ID)
				}
			})
		})
	}
}

func TestEchoes(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, store.InboxMessenger, nil)
		e.mustDeliver(fixture(t, "messenger_text.json"))
		conv := e.messages()[0].ConversationID

		res := e.mustDeliver(fixture(t, "messenger_echoes.json"))
		if res.Echoes != 2 || res.Duplicates != 1 || res.Messages != 0 || res.DeadLettered {
			t.Fatalf("result %+v: want 2 echoes stored and Switchboard's own skipped", res)
		}
		ms := e.messages()
		checkMessages(t, store.InboxMessenger, ms[1:], []want{
			{store.DirectionOut, store.TypeText, "Hi Ada, this is Sam from the shop, replying from Business Suite.", "m_ECHO_SUITE"},
			{store.DirectionOut, store.TypeMedia, "[image]", "m_ECHO_PHOTO"},
		})
		for _, m := range ms[1:] {
			if m.ConversationID != conv {
				t.Errorf("echo %s in conversation %d, want the customer's %d", m.ProviderMessageID, m.ConversationID, conv)
			}
		}
		// Replayed, everything is a duplicate.
		if res := e.mustDeliver(fixture(t, "messenger_echoes.json")); res.Echoes != 0 || res.Duplicates != 3 {
			t.Fatalf("replayed echoes: %+v, want 3 duplicates", res)
		}

		// Switchboard's own send, echoed without an app id: before the
		// outbox recorded its mid (still queued), by its text; after,
		// by its mid.
		ctx := context.Background()
		queued, err := st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: conv, Direction: store.DirectionOut, AuthorKind: store.AuthorAI, Body: "Your parcel left the warehouse."})
		if err != nil {
			t.Fatal(err)
		}
		recorded := e.sentMessage(conv, "m_RECORDED")
		echo := func(mid, text string) []byte {
			return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":1,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":1,"message":{"is_echo":true,"mid":%q,"text":%q}}]}]}`,
				pageID, pageID, ada, mid, text))
		}
		if res := e.mustDeliver(echo("m_QUEUED_ECHO", "Your parcel left the warehouse.")); res.Echoes != 0 || res.Duplicates != 1 {
			t.Errorf("echo of a queued send: %+v, want a duplicate", res)
		}
		if res := e.mustDeliver(echo("m_RECORDED", recorded.Body)); res.Echoes != 0 || res.Duplicates != 1 {
			t.Errorf("echo of a recorded send: %+v, want a duplicate", res)
		}
		if n := len(e.messages()); n != 5 {
			t.Errorf("%d messages, want 5 (inbound, 2 echoes, queued, recorded)", n)
		}
		if m := e.message(queued.Message.ID); m.Status != store.DeliveryQueued {
			t.Errorf("queued send is %s", m.Status)
		}
		// An agent's file, still queued, echoed without an app id as an
		// image: Switchboard's own too, whatever its caption.
		file, err := st.CreateMessage(ctx, e.ws.ID, store.NewMessage{ConversationID: conv, Direction: store.DirectionOut, AuthorKind: store.AuthorAI,
			Type: store.TypeMedia, Body: "The label", Media: []store.NewMedia{{Provider: store.ProviderUpload, Source: []byte(`{}`),
				MimeType: "image/jpeg", Filename: "label.jpg", Stored: &store.StoredBlob{Key: "k", Size: 1}}}})
		if err != nil {
			t.Fatal(err)
		}
		imageEcho := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":1,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":1,"message":{"is_echo":true,"mid":"m_FILE_ECHO","attachments":[{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/label.jpg"}}]}}]}]}`,
			pageID, pageID, ada))
		if res := e.mustDeliver(imageEcho); res.Echoes != 0 || res.Duplicates != 1 {
			t.Errorf("echo of a queued file: %+v, want a duplicate", res)
		}
		if m := e.message(file.Message.ID); m.Status != store.DeliveryQueued {
			t.Errorf("queued file is %s", m.Status)
		}

		// An echo to a customer with no conversation opens one.
		other := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":1,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":1,"message":{"is_echo":true,"app_id":%s,"mid":"m_PROACTIVE","text":"Your table is ready"}}]}]}`,
			pageID, pageID, grace, suiteAppID))
		if res := e.mustDeliver(other); res.Echoes != 1 {
			t.Fatalf("echo to a new customer: %+v", res)
		}
		last := e.messages()[6] // after the queued file
		if last.ConversationID == conv || last.Direction != store.DirectionOut || last.Status != store.DeliverySent {
			t.Errorf("echo to a new customer = %+v, want a sent outbound message in a new conversation", last)
		}
	})
}

func TestOneConversationPerContactUntilResolved(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), store.InboxMessenger, nil)
	send := func(id, text string) {
		body, err := messenger.TextPayload(store.InboxMessenger, messenger.TextMessage{AccountID: pageID, From: ada, Text: text, ID: id})
		if err != nil {
			t.Fatal(err)
		}
		e.mustDeliver(body)
	}
	send("m_A", "one")
	send("m_B", "two")
	ms := e.messages()
	if len(ms) != 2 || ms[0].ConversationID != ms[1].ConversationID {
		t.Fatalf("messages %+v: want two in one conversation", ms)
	}
	status := store.StatusResolved
	if _, _, err := e.st.UpdateConversation(context.Background(), e.ws.ID, ms[0].ConversationID, store.ConversationUpdate{Status: &status}); err != nil {
		t.Fatal(err)
	}
	send("m_C", "three")
	ms = e.messages()
	if len(ms) != 3 || ms[2].ConversationID == ms[0].ConversationID {
		t.Fatalf("after resolving, a new message went to conversation %d: want a new one", ms[2].ConversationID)
	}
}

func TestDuplicateDeliveryStoresOneMessage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, store.InboxMessenger, nil)
		body := fixture(t, "messenger_attachments.json")
		first := e.mustDeliver(body)
		again := e.mustDeliver(body)
		if first.Messages != 11 || again.Messages != 0 || again.Duplicates != 11 {
			t.Fatalf("first %+v, again %+v: want 11 messages then 11 duplicates", first, again)
		}
		if n := len(e.messages()); n != 11 {
			t.Fatalf("stored %d messages, want 11", n)
		}
		// Concurrent retries race CreateMessage's own dedup.
		var wg sync.WaitGroup
		race, _ := messenger.TextPayload(store.InboxMessenger, messenger.TextMessage{AccountID: pageID, From: grace, Text: "race", ID: "m_RACE"})
		for range 5 {
			wg.Go(func() {
				if code, answer := e.deliver(race); code != http.StatusOK {
					t.Errorf("concurrent delivery answered %d %s", code, answer)
				}
			})
		}
		wg.Wait()
		if n := len(e.messages()); n != 12 {
			t.Fatalf("stored %d messages after concurrent retries, want 12", n)
		}
	})
}

// flakyStore fails the nth CreateMessage once, as a crash between
// receiving a payload and committing all of it would.
type flakyStore struct {
	messenger.Store
	mu     sync.Mutex
	calls  int
	failAt int
}

var errDown = errors.New("database is down")

func (f *flakyStore) CreateMessage(ctx context.Context, ws int64, m store.NewMessage) (store.CreatedMessage, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls == f.failAt
	f.mu.Unlock()
	if fail {
		return store.CreatedMessage{}, errDown
	}
	return f.Store.CreateMessage(ctx, ws, m)
}

func TestCrashBeforeCommitIsRetriedExactlyOnce(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		// The second of five messages fails: the first is committed, the
		// answer is a 5xx, and Meta's retry of the whole payload stores
		// the other four and drops the first as a duplicate.
		e := newEnv(t, st, store.InboxMessenger, func(s messenger.Store) messenger.Store { return &flakyStore{Store: s, failAt: 2} })
		body := fixture(t, "messenger_multi.json")
		code, answer := e.deliver(body)
		if code != http.StatusInternalServerError || strings.Contains(answer, errDown.Error()) {
			t.Fatalf("answered %d %s, want 500 that does not leak the cause", code, answer)
		}
		if n := len(e.messages()); n != 1 {
			t.Fatalf("%d messages after the failure, want the 1 committed before it", n)
		}
		res := e.mustDeliver(body)
		if res.Messages != 4 || res.Duplicates != 1 {
			t.Fatalf("retry: %+v, want 4 new and 1 duplicate", res)
		}
		ms := e.messages()
		seen := map[string]int{}
		for _, m := range ms {
			seen[m.ProviderMessageID]++
		}
		if len(ms) != 5 || len(seen) != 5 {
			t.Fatalf("after the retry %d messages, %d distinct ids: want exactly 5", len(ms), len(seen))
		}
	})
}

func TestReceipts(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, store.InboxMessenger, nil)
		e.mustDeliver(fixture(t, "messenger_text.json"))
		conv := e.messages()[0].ConversationID
		out1, out2, out3 := e.sentMessage(conv, "m_OUT_1"), e.sentMessage(conv, "m_OUT_2"), e.sentMessage(conv, "m_OUT_3")
		queued, err := st.CreateMessage(context.Background(), e.ws.ID, store.NewMessage{ConversationID: conv, Direction: store.DirectionOut, AuthorKind: store.AuthorAI, Body: "not sent yet"})
		if err != nil {
			t.Fatal(err)
		}
		failed := e.sentMessage(conv, "m_OUT_FAILED")
		if _, _, err := st.UpdateMessageStatus(context.Background(), e.ws.ID, failed.ID, store.DeliveryFailed, "refused"); err != nil {
			t.Fatal(err)
		}
		status := func(m store.Message) store.DeliveryStatus { return e.message(m.ID).Status }

		// The fixture's delivery lists two mids; its watermarks are from
		// before these messages were stored, so they move nothing else.
		if res := e.mustDeliver(fixture(t, "messenger_receipts.json")); res.Statuses != 2 || res.DeadLettered {
			t.Fatalf("result %+v: want the 2 listed mids delivered", res)
		}
		if status(out1) != store.DeliveryDelivered || status(out2) != store.DeliveryDelivered || status(out3) != store.DeliverySent {
			t.Fatalf("after delivery: %s %s %s, want delivered delivered sent", status(out1), status(out2), status(out3))
		}

		receipt := func(kind string, watermark time.Time) []byte {
			return []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":1,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":1,%q:{"watermark":%d}}]}]}`,
				pageID, ada, pageID, kind, watermark.UnixMilli()))
		}
		// A read watermark after them reads all three; the queued one was
		// never sent and stays queued, the failed one stays failed.
		if res := e.mustDeliver(receipt("read", time.Now().Add(time.Hour))); res.Statuses != 3 {
			t.Fatalf("read: %+v, want 3 statuses", res)
		}
		for _, m := range []store.Message{out1, out2, out3} {
			if status(m) != store.DeliveryRead {
				t.Errorf("%s is %s after the read, want read", m.ProviderMessageID, status(m))
			}
		}
		if status(queued.Message) != store.DeliveryQueued || status(failed) != store.DeliveryFailed {
			t.Errorf("queued message is %s, failed one %s: want them left so", status(queued.Message), status(failed))
		}
		// Late and replayed receipts move nothing back.
		if res := e.mustDeliver(receipt("delivery", time.Now().Add(time.Hour))); res.Statuses != 0 {
			t.Errorf("late delivery: %+v, want nothing moved", res)
		}
		if res := e.mustDeliver(fixture(t, "messenger_receipts.json")); res.Statuses != 0 {
			t.Errorf("replayed receipts: %+v, want nothing moved", res)
		}
		if status(out1) != store.DeliveryRead {
			t.Errorf("m_OUT_1 is %s after late receipts, want read", status(out1))
		}
		// A receipt from a customer with no conversation moves nothing.
		stranger := []byte(fmt.Sprintf(`{"object":"page","entry":[{"id":%q,"time":1,"messaging":[{"sender":{"id":"999"},"recipient":{"id":%q},"timestamp":1,"read":{"watermark":%d}}]}]}`,
			pageID, pageID, time.Now().Add(time.Hour).UnixMilli()))
		if res := e.mustDeliver(stranger); res.Statuses != 0 || res.DeadLettered {
			t.Errorf("stranger's read: %+v", res)
		}
	})
}

func TestInstagramSeen(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, store.InboxInstagram, nil)
		e.mustDeliver(fixture(t, "instagram_text.json"))
		conv := e.messages()[0].ConversationID
		out1, out2, out3 := e.sentMessage(conv, "aWdfIG_OUT_1"), e.sentMessage(conv, "aWdfIG_OUT_2"), e.sentMessage(conv, "aWdfIG_OUT_3")
		// messaging_seen names the last message read: it and those
		// before it are read, the later one is not.
		if res := e.mustDeliver(fixture(t, "instagram_seen.json")); res.Statuses != 2 || res.DeadLettered {
			t.Fatalf("seen: %+v, want 2 statuses", res)
		}
		for _, c := range []struct {
			m    store.Message
			want store.DeliveryStatus
		}{{out1, store.DeliveryRead}, {out2, store.DeliveryRead}, {out3, store.DeliverySent}} {
			if got := e.message(c.m.ID).Status; got != c.want {
				t.Errorf("%s is %s, want %s", c.m.ProviderMessageID, got, c.want)
			}
		}
		unknown := bytes.Replace(fixture(t, "instagram_seen.json"), []byte("aWdfIG_OUT_2"), []byte("aWdfIG_NOT_OURS"), 1)
		if res := e.mustDeliver(unknown); res.Statuses != 0 || res.DeadLettered {
			t.Errorf("seen of an unknown mid: %+v, want nothing", res)
		}
	})
}

func TestSignatureFailures(t *testing.T) {
	for _, kind := range []store.InboxKind{store.InboxMessenger, store.InboxInstagram} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), kind, nil)
			body := fixture(t, string(kind)+"_text.json")
			good := connector.MetaSign(body, appSecret)
			altered := bytes.Replace(body, []byte(`?"`), []byte(`!"`), 1)
			tests := []struct {
				name      string
				body      []byte
				signature string
			}{
				{"missing header", body, ""},
				{"sha1 prefix", body, "sha1=" + strings.TrimPrefix(good, "sha256=")},
				{"no prefix", body, strings.TrimPrefix(good, "sha256=")},
				{"bad hex", body, "sha256=" + strings.Repeat("zz", 32)},
				{"short digest", body, good[:len(good)-2]},
				{"wrong secret", body, connector.MetaSign(body, "another-secret")},
				{"body tampered", altered, good},
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
		})
	}
}

func TestVerification(t *testing.T) {
	for _, kind := range []store.InboxKind{store.InboxMessenger, store.InboxInstagram} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), kind, nil)
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
		})
	}
}

func TestUnknownOrWrongKindInbox(t *testing.T) {
	st := teststore.SQLite(t)
	e := newEnv(t, st, store.InboxMessenger, nil)
	ctx := context.Background()
	other := func(kind store.InboxKind) string {
		in, err := st.CreateInbox(ctx, e.ws.ID, store.NewInbox{Kind: kind, Name: string(kind)})
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(in.ID, 10)
	}
	wa, ig, bare := other(store.InboxWhatsApp), other(store.InboxInstagram), other(store.InboxMessenger)
	body := fixture(t, "messenger_text.json")
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/channels/messenger/999999/webhook", 404},
		{"/channels/messenger/abc/webhook", 404},
		{"/channels/messenger/-1/webhook", 404},
		{"/channels/messenger/" + wa + "/webhook", 404},
		{"/channels/messenger/" + ig + "/webhook", 404},
		{"/channels/instagram/" + strconv.FormatInt(e.inbox.ID, 10) + "/webhook", 404}, // not served by a Messenger handler
		{"/channels/messenger/" + bare + "/webhook", 503},
	} {
		resp, err := http.Post(e.srv.URL+tt.path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("POST %s = %d %s, want %d", tt.path, resp.StatusCode, b, tt.want)
		}
		if tt.want == 404 && tt.path != "/channels/instagram/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook" && !strings.Contains(string(b), `"not_found"`) {
			t.Errorf("POST %s answered %s, want a not_found JSON error", tt.path, b)
		}
	}

	// An Instagram handler refuses the Messenger inbox.
	igh := messenger.New(messenger.Options{Kind: store.InboxInstagram, Store: st, Box: e.box})
	rec := httptest.NewRecorder()
	igh.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/channels/instagram/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook", bytes.NewReader(body)))
	if rec.Code != http.StatusNotFound {
		t.Errorf("Messenger inbox on the Instagram path: %d, want 404", rec.Code)
	}
	// Without a secret key no inbox's credentials open: 503 naming the setting.
	h := messenger.New(messenger.Options{Store: st})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/channels/messenger/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook", bytes.NewReader(body)))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("without a key: %d %s, want 503 naming SWITCHBOARD_SECRET_KEY", rec.Code, rec.Body)
	}
	// Under another key the sealed credentials do not open.
	otherBox, _ := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	h = messenger.New(messenger.Options{Store: st, Box: otherBox})
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/channels/messenger/"+strconv.FormatInt(e.inbox.ID, 10)+"/webhook", bytes.NewReader(body)))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), appSecret) {
		t.Errorf("under another key: %d %s, want 503", rec.Code, rec.Body)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, teststore.SQLite(t), store.InboxInstagram, nil)
	big := bytes.Repeat([]byte(" "), 65<<10)
	code, answer := e.deliver(big)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(answer, `"too_large"`) {
		t.Fatalf("oversized body answered %d %s, want 413 too_large", code, answer)
	}
}

func TestUnparseablePayloadIsDeadLettered(t *testing.T) {
	ev := func(s string) string {
		return `{"object":"page","entry":[{"id":"` + pageID + `","time":1,"messaging":[` + s + `]}]}`
	}
	good := `{"sender":{"id":"` + ada + `"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"message":{"mid":"m_GOOD","text":"kept"}}`
	tests := []struct {
		name      string
		kind      store.InboxKind
		body      string
		wantError string
		messages  int
	}{
		{"not json", store.InboxMessenger, `{"object":"page","entry":[`, "decode payload", 0},
		{"not meta", store.InboxMessenger, `{"object":"whatsapp_business_account","entry":[]}`, "not a page or instagram webhook", 0},
		{"instagram payload on a messenger inbox", store.InboxMessenger, `{"object":"instagram","entry":[]}`, `object "instagram" is not for a Messenger inbox`, 0},
		{"page payload on an instagram inbox", store.InboxInstagram, ev(good), `object "page" is not for a Instagram inbox`, 0},
		{"entry of the wrong shape", store.InboxMessenger, `{"object":"page","entry":{"id":1}}`, "decode payload", 0},
		{"bad events among a good one", store.InboxMessenger, ev(good + `,
			{"sender":{"id":"` + ada + `"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"message":{"text":"no mid"}},
			{"recipient":{"id":"` + pageID + `"},"timestamp":1,"message":{"mid":"m_NOSENDER","text":"no sender"}},
			{"sender":{"id":"` + ada + `"},"recipient":{"id":"` + pageID + `"},"timestamp":"yesterday","message":{"mid":"m_BADTIME","text":"x"}},
			{"sender":{"id":"` + ada + `"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"reaction":{"action":"react","emoji":"x"}},
			{"sender":{"id":"` + ada + `"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"read":{}}`), "messaging[1]: message without a mid", 1},
		{"another page's event", store.InboxMessenger, `{"object":"page","entry":[{"id":"555","time":1,"messaging":[{"sender":{"id":"` + ada + `"},"recipient":{"id":"555"},"timestamp":1,"message":{"mid":"m_OTHER","text":"hi"}}]}]}`, `for account "555"`, 0},
		{"a provider id too long to store", store.InboxMessenger, ev(`{"sender":{"id":"` + ada + `"},"recipient":{"id":"` + pageID + `"},"timestamp":1,"message":{"mid":"` + strings.Repeat("m", 300) + `","text":"long"}}`), "provider_message_id", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), tt.kind, nil)
			res := e.mustDeliver([]byte(tt.body))
			if !res.DeadLettered || res.Messages != tt.messages {
				t.Fatalf("result %+v: want dead-lettered with %d messages", res, tt.messages)
			}
			dl := e.deadLetters()
			if len(dl) != 1 || string(dl[0].Body) != tt.body || dl[0].Provider != string(tt.kind) || dl[0].InboxID != e.inbox.ID || !strings.Contains(dl[0].Error, tt.wantError) {
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
	messenger.Store
	failStatuses, failDeadLetters, failLists bool
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

func (f failingStore) ListMessages(ctx context.Context, ws, conv int64, mf store.MessageFilter) ([]store.Message, error) {
	if f.failLists {
		return nil, errDown
	}
	return f.Store.ListMessages(ctx, ws, conv, mf)
}

func TestStoreFailureAsksForRetry(t *testing.T) {
	t.Run("dead letter write fails", func(t *testing.T) {
		e := newEnv(t, teststore.SQLite(t), store.InboxMessenger, func(s messenger.Store) messenger.Store { return failingStore{Store: s, failDeadLetters: true} })
		if code, answer := e.deliver([]byte(`not json`)); code != http.StatusInternalServerError || strings.Contains(answer, errDown.Error()) {
			t.Fatalf("answered %d %s, want a 500 that does not leak the cause", code, answer)
		}
	})
	for _, tt := range []struct {
		name string
		fs   failingStore
		body string
	}{
		{"status write fails", failingStore{failStatuses: true}, "messenger_receipts.json"},
		{"watermark look-up fails", failingStore{failLists: true}, "messenger_receipts.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, teststore.SQLite(t), store.InboxMessenger, func(s messenger.Store) messenger.Store { tt.fs.Store = s; return tt.fs })
			e.mustDeliver(fixture(t, "messenger_text.json"))
			e.sentMessage(e.messages()[0].ConversationID, "m_OUT_1")
			if code, _ := e.deliver(fixture(t, tt.body)); code != http.StatusInternalServerError {
				t.Fatalf("answered %d, want 500", code)
			}
		})
	}
}

func TestNewRefusesOtherKinds(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New with a WhatsApp kind did not panic")
		}
	}()
	messenger.New(messenger.Options{Kind: store.InboxWhatsApp})
}
