package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// published records what the drafts service publishes.
type published struct {
	mu     sync.Mutex
	events []hub.Event
}

func (p *published) Publish(_ context.Context, _ *hub.App, ev hub.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev)
	return nil
}

// testAI runs a drafts service over st until the test ends.
func testAI(t testing.TB, st store.Store) *drafts.Service {
	t.Helper()
	return testAIWith(t, st, &published{})
}

func testAIWith(t testing.TB, st store.Store, pub drafts.Publisher) *drafts.Service {
	t.Helper()
	s := drafts.New(st, pub, drafts.Options{Box: testBox(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// knowledgeBase is a small help centre.
var knowledgeBase = []store.NewKnowledgeArticle{
	{Title: "Shipping times and costs", Body: "We ship every order from our Lisbon warehouse within one business day. Standard shipping to Europe takes 3 to 5 business days and costs 4.90 EUR."},
	{Title: "Returns and refunds", Body: "You can return any unworn item within 30 days of delivery. We refund the original payment method within 5 business days."},
	{Title: "Resetting your password", Body: "On the sign-in page choose Forgot password and enter your email address. We send a reset link that is valid for 1 hour."},
}

func newArticle(t testing.TB, st store.Store, workspaceID int64) store.KnowledgeArticle {
	t.Helper()
	a, err := st.CreateKnowledgeArticle(ctx(t), workspaceID, store.NewKnowledgeArticle{Title: unique("Article "), Body: "Body text."})
	must(t, err)
	return a
}

// TestKnowledgeArticles: the CRUD of the knowledge base, its bad input,
// and another workspace's articles answering 404.
func TestKnowledgeArticles(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}

		var list struct {
			KnowledgeArticles []store.KnowledgeArticle `json:"knowledge_articles"`
		}
		ca.do("GET", "/api/v1/knowledge_articles", "").ok(t, 200, &list)
		if list.KnowledgeArticles == nil || len(list.KnowledgeArticles) != 0 {
			t.Fatalf("a new workspace lists %+v", list)
		}
		var art store.KnowledgeArticle
		ca.do("POST", "/api/v1/knowledge_articles", `{"title":" Shipping ","body":"We ship in 2 days."}`).ok(t, 201, &art)
		if art.ID == 0 || art.Title != "Shipping" || art.Body != "We ship in 2 days." || art.WorkspaceID != a.ws.ID {
			t.Fatalf("created %+v", art)
		}
		path := fmt.Sprintf("/api/v1/knowledge_articles/%d", art.ID)
		var got store.KnowledgeArticle
		ca.do("GET", path, "").ok(t, 200, &got)
		if got.ID != art.ID || got.Title != art.Title {
			t.Fatalf("read %+v", got)
		}
		ca.do("PATCH", path, `{"body":"We ship in 3 days."}`).ok(t, 200, &got)
		if got.Body != "We ship in 3 days." || got.Title != "Shipping" {
			t.Fatalf("patched %+v", got)
		}
		ca.do("GET", "/api/v1/knowledge_articles", "").ok(t, 200, &list)
		if len(list.KnowledgeArticles) != 1 || list.KnowledgeArticles[0].ID != art.ID {
			t.Fatalf("listed %+v", list)
		}

		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"no title", "POST", "/api/v1/knowledge_articles", `{"body":"x"}`, 400, "invalid", "title"},
			{"blank body", "POST", "/api/v1/knowledge_articles", `{"title":"t","body":"  "}`, 400, "invalid", "body"},
			{"long title", "POST", "/api/v1/knowledge_articles", fmt.Sprintf(`{"title":%q,"body":"b"}`, strings.Repeat("t", 201)), 400, "invalid", "title"},
			{"unknown field", "POST", "/api/v1/knowledge_articles", `{"title":"t","body":"b","tags":[]}`, 400, "unknown_field", "tags"},
			{"malformed", "POST", "/api/v1/knowledge_articles", `{"title":`, 400, "malformed_json", ""},
			{"null title", "PATCH", path, `{"title":null}`, 400, "invalid", "title"},
			{"wrong type", "PATCH", path, `{"body":7}`, 400, "invalid", "body"},
			{"nothing to change", "PATCH", path, `{}`, 400, "invalid", ""},
			{"bad id", "GET", "/api/v1/knowledge_articles/abc", "", 404, "not_found", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ca.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}

		// Another workspace sees none of it.
		cb.do("GET", path, "").wantError(t, 404, "not_found", "")
		cb.do("PATCH", path, `{"body":"mine"}`).wantError(t, 404, "not_found", "")
		cb.do("DELETE", path, "").wantError(t, 404, "not_found", "")
		cb.do("GET", "/api/v1/knowledge_articles", "").ok(t, 200, &list)
		if len(list.KnowledgeArticles) != 0 {
			t.Fatalf("another workspace lists %+v", list)
		}

		ca.do("DELETE", path, "").ok(t, 204, nil)
		ca.do("GET", path, "").wantError(t, 404, "not_found", "")
		ca.do("DELETE", path, "").wantError(t, 404, "not_found", "")
	})
}

type aiSettingsJSON struct {
	Enabled      bool    `json:"enabled"`
	Provider     string  `json:"provider"`
	BaseURL      string  `json:"base_url"`
	Model        string  `json:"model"`
	Instructions string  `json:"instructions"`
	BrandVoice   string  `json:"brand_voice"`
	Redact       bool    `json:"redact"`
	APIKeySet    bool    `json:"api_key_set"`
	UpdatedAt    *string `json:"updated_at"`
}

// TestAISettings: the defaults; a PUT keeps what it leaves out; the key
// is write-only; bad settings are refused by field; without a secret key
// or a drafts service no key can be stored; workspaces are separate.
func TestAISettings(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServerWith(t, st, api.Options{AI: testAI(t, st)})
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}

		var s aiSettingsJSON
		ca.do("GET", "/api/v1/ai/settings", "").ok(t, 200, &s)
		if !s.Enabled || s.Provider != "offline" || !s.Redact || s.APIKeySet || s.UpdatedAt != nil {
			t.Fatalf("default settings %+v", s)
		}
		const key = "sk-test-0123456789abcdef"
		r := ca.do("PUT", "/api/v1/ai/settings", `{"provider":"openai","base_url":"https://llm.example.com/v1","model":"gpt-4o-mini","api_key":"`+key+`","brand_voice":"short"}`)
		r.ok(t, 200, &s)
		if strings.Contains(string(r.body), key) || strings.Contains(string(r.body), `"api_key"`) {
			t.Fatalf("the answer shows the key: %s", r.body)
		}
		if !s.Enabled || s.Provider != "openai" || s.Model != "gpt-4o-mini" || s.BrandVoice != "short" || !s.Redact || !s.APIKeySet || s.UpdatedAt == nil {
			t.Fatalf("saved %+v", s)
		}
		stored, err := st.AISettings(ctx(t), a.ws.ID)
		must(t, err)
		if len(stored.APIKey) == 0 || strings.Contains(string(stored.APIKey), key) {
			t.Fatalf("the stored key is %q, want it sealed", stored.APIKey)
		}
		r = ca.do("GET", "/api/v1/ai/settings", "")
		r.ok(t, 200, &s)
		if strings.Contains(string(r.body), key) || !s.APIKeySet {
			t.Fatalf("GET shows %s", r.body)
		}
		// PUT back what was read: the key stays.
		ca.do("PUT", "/api/v1/ai/settings", string(r.body)).ok(t, 200, &s)
		if !s.APIKeySet || s.Model != "gpt-4o-mini" {
			t.Fatalf("a round trip changed %+v", s)
		}
		ca.do("PUT", "/api/v1/ai/settings", `{"api_key":null,"enabled":false}`).ok(t, 200, &s)
		if s.APIKeySet || s.Enabled || s.Provider != "openai" {
			t.Fatalf("after removing the key and turning off: %+v", s)
		}
		audit, err := st.ListAudit(ctx(t), a.ws.ID, store.AuditFilter{Action: store.AuditAISettingsUpdated})
		must(t, err)
		if len(audit.Entries) != 3 || audit.Entries[0].ActorID != a.agent.ID {
			t.Fatalf("audit entries %+v, want the three changes", audit.Entries)
		}
		for _, e := range audit.Entries {
			if strings.Contains(string(e.Details), key) {
				t.Fatalf("an audit entry holds the key: %s", e.Details)
			}
		}

		for _, tc := range []struct {
			name, body  string
			status      int
			code, field string
		}{
			{"unknown provider", `{"provider":"skynet"}`, 400, "invalid", "provider"},
			{"bad base url", `{"base_url":"localhost:11434"}`, 400, "invalid", "base_url"},
			{"credentials in the url", `{"base_url":"https://u:p@llm.example.com/v1"}`, 400, "invalid", "base_url"},
			{"long instructions", fmt.Sprintf(`{"instructions":%q}`, strings.Repeat("i", store.MaxAIInstructionsBytes+1)), 400, "invalid", "instructions"},
			{"wrong type", `{"enabled":"yes"}`, 400, "invalid", "enabled"},
			{"key of the wrong type", `{"api_key":42}`, 400, "invalid", "api_key"},
			{"unknown field", `{"temperature":2}`, 400, "unknown_field", "temperature"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ca.do("PUT", "/api/v1/ai/settings", tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}

		s = aiSettingsJSON{}
		cb.do("GET", "/api/v1/ai/settings", "").ok(t, 200, &s)
		if !s.Enabled || s.Provider != "offline" || s.UpdatedAt != nil {
			t.Fatalf("another workspace's settings are %+v", s)
		}

		// No drafts service: settings without a key still save.
		bare, _ := newServer(t, st)
		cbare := client{t: t, base: bare, token: a.token}
		cbare.do("PUT", "/api/v1/ai/settings", `{"api_key":"sk-x"}`).wantError(t, 503, "ai_unavailable", "")
		cbare.do("PUT", "/api/v1/ai/settings", `{"enabled":true}`).ok(t, 200, &s)

		// A service without SWITCHBOARD_SECRET_KEY cannot seal a key.
		nobox := drafts.New(st, &published{}, drafts.Options{})
		nb, _ := newServerWith(t, st, api.Options{AI: nobox})
		client{t: t, base: nb, token: a.token}.do("PUT", "/api/v1/ai/settings", `{"api_key":"sk-x"}`).wantError(t, 503, "secret_key_unset", "api_key")
	})
}

type contactAIJSON struct {
	ContactID int64   `json:"contact_id"`
	Enabled   bool    `json:"enabled"`
	OffAt     *string `json:"off_at"`
}

// TestContactAI: turning AI off and on for a contact, with consent
// records; bad input; another workspace's contact is 404.
func TestContactAI(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}
		path := fmt.Sprintf("/api/v1/contacts/%d/ai", a.contact.ID)

		var v contactAIJSON
		ca.do("GET", path, "").ok(t, 200, &v)
		if !v.Enabled || v.OffAt != nil || v.ContactID != a.contact.ID {
			t.Fatalf("a new contact: %+v", v)
		}
		ca.do("POST", path, `{"enabled":false}`).ok(t, 200, &v)
		if v.Enabled || v.OffAt == nil {
			t.Fatalf("after turning off: %+v", v)
		}
		ca.do("POST", path, `{"enabled":false}`).ok(t, 200, &v)
		ca.do("POST", path, `{"enabled":true}`).ok(t, 200, &v)
		if !v.Enabled || v.OffAt != nil {
			t.Fatalf("after turning on: %+v", v)
		}
		var consent struct {
			Records []store.ConsentRecord `json:"records"`
		}
		ca.do("GET", fmt.Sprintf("/api/v1/contacts/%d/consent", a.contact.ID), "").ok(t, 200, &consent)
		if len(consent.Records) != 2 || consent.Records[0].Kind != store.ConsentAIOff || consent.Records[1].Kind != store.ConsentAIOn ||
			consent.Records[0].Source != fmt.Sprintf("agent:%d", a.agent.ID) {
			t.Fatalf("consent records %+v", consent.Records)
		}

		ca.do("POST", path, `{}`).wantError(t, 400, "invalid", "enabled")
		ca.do("POST", path, `{"enabled":"no"}`).wantError(t, 400, "invalid", "enabled")
		ca.do("POST", path, `{"enabled":false`).wantError(t, 400, "malformed_json", "")
		cb.do("GET", path, "").wantError(t, 404, "not_found", "")
		cb.do("POST", path, `{"enabled":false}`).wantError(t, 404, "not_found", "")
		ca.do("GET", path, "").ok(t, 200, &v)
		if !v.Enabled {
			t.Fatal("another workspace turned the contact's AI off")
		}
	})
}

// TestStartDraft: a draft starts with 202 and streams on the
// conversation's presence channel; AI off for the workspace or the
// contact is 409 with its code; another workspace's conversation is 404;
// a server without drafts answers 503.
func TestStartDraft(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		pub := &published{}
		base, _ := newServerWith(t, st, api.Options{AI: testAIWith(t, st, pub)})
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}
		for _, na := range knowledgeBase {
			_, err := st.CreateKnowledgeArticle(ctx(t), a.ws.ID, na)
			must(t, err)
		}
		inbound(t, st, a.ws.ID, a.conv.ID, "How long does shipping to Europe take?")
		path := fmt.Sprintf("/api/v1/conversations/%d/draft", a.conv.ID)

		var started struct {
			DraftID string `json:"draft_id"`
			Channel string `json:"channel"`
		}
		ca.do("POST", path, "").ok(t, 202, &started)
		if started.DraftID == "" || started.Channel != fmt.Sprintf("presence-conversation-%d", a.conv.ID) {
			t.Fatalf("started %+v", started)
		}
		var completed struct {
			DraftID string `json:"draft_id"`
			Text    string `json:"text"`
		}
		waitFor(t, "draft.completed", func() bool {
			pub.mu.Lock()
			defer pub.mu.Unlock()
			for _, ev := range pub.events {
				if ev.Name == "draft.completed" && ev.Channels[0] == started.Channel {
					must(t, json.Unmarshal([]byte(ev.Data), &completed))
					return true
				}
			}
			for _, ev := range pub.events {
				if ev.Name == "draft.failed" {
					t.Fatalf("the draft failed: %s", ev.Data)
				}
			}
			return false
		})
		if completed.DraftID != started.DraftID || !strings.Contains(completed.Text, "3 to 5 business days") {
			t.Fatalf("completed %+v", completed)
		}

		cb.do("POST", path, "").wantError(t, 404, "not_found", "")
		ca.do("POST", "/api/v1/conversations/999999999/draft", "").wantError(t, 404, "not_found", "")

		ca.do("POST", fmt.Sprintf("/api/v1/contacts/%d/ai", a.contact.ID), `{"enabled":false}`).ok(t, 200, nil)
		ca.do("POST", path, "").wantError(t, 409, "contact_ai_off", "")
		ca.do("POST", fmt.Sprintf("/api/v1/contacts/%d/ai", a.contact.ID), `{"enabled":true}`).ok(t, 200, nil)
		ca.do("PUT", "/api/v1/ai/settings", `{"enabled":false}`).ok(t, 200, nil)
		ca.do("POST", path, "").wantError(t, 409, "ai_disabled", "")

		bare, _ := newServer(t, st)
		client{t: t, base: bare, token: b.token}.do("POST", fmt.Sprintf("/api/v1/conversations/%d/draft", b.conv.ID), "").wantError(t, 503, "ai_unavailable", "")
	})
}

// TestSendAIAssisted: a reply sent from a draft records AI assistance.
func TestSendAIAssisted(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		ca := client{t: t, base: base, token: a.token}
		inbound(t, st, a.ws.ID, a.conv.ID, "Hello?")
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID)
		for _, tc := range []struct {
			body string
			want bool
		}{
			{`{"body":"typed by hand"}`, false},
			{`{"body":"from a draft","ai_assisted":true}`, true},
			{`{"body":"from draft drf_1","draft_id":"drf_1"}`, true},
		} {
			var m store.Message
			ca.do("POST", path, tc.body).ok(t, 201, &m)
			if m.AIAssisted != tc.want {
				t.Errorf("%s: ai_assisted %v, want %v", tc.body, m.AIAssisted, tc.want)
			}
		}
		ca.do("POST", path, `{"body":"x","ai_assisted":"yes"}`).wantError(t, 400, "invalid", "ai_assisted")
	})
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (a hang, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
