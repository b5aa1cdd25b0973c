package storetest

import (
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testKnowledgeArticles: articles are created, listed, updated and deleted
// within their workspace only; bad input is refused by field; the
// knowledge version changes with every change.
func testKnowledgeArticles(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)

	list, err := s.ListKnowledgeArticles(c, f.ws.ID)
	must(t, err)
	if list == nil || len(list) != 0 {
		t.Fatalf("a new workspace lists %#v, want an empty list", list)
	}
	v0, err := s.KnowledgeVersion(c, f.ws.ID)
	must(t, err)

	for _, tc := range []struct {
		name  string
		in    store.NewKnowledgeArticle
		field string
	}{
		{"no title", store.NewKnowledgeArticle{Title: "  ", Body: "x"}, "title"},
		{"long title", store.NewKnowledgeArticle{Title: strings.Repeat("t", store.MaxArticleTitleBytes+1), Body: "x"}, "title"},
		{"no body", store.NewKnowledgeArticle{Title: "Shipping", Body: " \n"}, "body"},
		{"long body", store.NewKnowledgeArticle{Title: "Shipping", Body: strings.Repeat("b", store.MaxArticleBodyBytes+1)}, "body"},
		{"bad utf-8", store.NewKnowledgeArticle{Title: "Shipping", Body: "\xff"}, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateKnowledgeArticle(c, f.ws.ID, tc.in)
			wantInvalid(t, err, tc.field)
		})
	}

	a, err := s.CreateKnowledgeArticle(c, f.ws.ID, store.NewKnowledgeArticle{Title: " Shipping times ", Body: "We ship within 2 days."})
	must(t, err)
	if a.ID == 0 || a.WorkspaceID != f.ws.ID || a.Title != "Shipping times" || a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
		t.Fatalf("created %+v", a)
	}
	v1, err := s.KnowledgeVersion(c, f.ws.ID)
	must(t, err)
	if v1 == v0 {
		t.Fatalf("version %q did not change on create", v1)
	}
	got, err := s.KnowledgeArticle(c, f.ws.ID, a.ID)
	must(t, err)
	if got != a {
		t.Fatalf("read back %+v, want %+v", got, a)
	}
	_, err = s.KnowledgeArticle(c, other.ws.ID, a.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.UpdateKnowledgeArticle(c, other.ws.ID, a.ID, store.KnowledgeArticleUpdate{Title: ptr("x")})
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteKnowledgeArticle(c, other.ws.ID, a.ID), store.ErrNotFound)
	if l, err := s.ListKnowledgeArticles(c, other.ws.ID); err != nil || len(l) != 0 {
		t.Fatalf("another workspace lists %v, %v", l, err)
	}
	if _, err := s.CreateKnowledgeArticle(c, 1<<40, store.NewKnowledgeArticle{Title: "a", Body: "b"}); err == nil {
		t.Fatal("an article was created in a workspace that does not exist")
	}

	u, err := s.UpdateKnowledgeArticle(c, f.ws.ID, a.ID, store.KnowledgeArticleUpdate{Body: ptr("We ship within 3 days.")})
	must(t, err)
	if u.Title != a.Title || u.Body != "We ship within 3 days." || u.UpdatedAt.Before(a.UpdatedAt) || !u.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("updated %+v", u)
	}
	_, err = s.UpdateKnowledgeArticle(c, f.ws.ID, a.ID, store.KnowledgeArticleUpdate{Title: ptr("")})
	wantInvalid(t, err, "title")
	v2, err := s.KnowledgeVersion(c, f.ws.ID)
	must(t, err)
	if v2 == v1 {
		t.Fatalf("version %q did not change on update", v2)
	}
	b, err := s.CreateKnowledgeArticle(c, f.ws.ID, store.NewKnowledgeArticle{Title: "Returns", Body: "Returns are free for 30 days."})
	must(t, err)
	list, err = s.ListKnowledgeArticles(c, f.ws.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("listed %+v, want the two articles oldest first", list)
	}
	must(t, s.DeleteKnowledgeArticle(c, f.ws.ID, a.ID))
	wantErr(t, s.DeleteKnowledgeArticle(c, f.ws.ID, a.ID), store.ErrNotFound)
	_, err = s.KnowledgeArticle(c, f.ws.ID, a.ID)
	wantErr(t, err, store.ErrNotFound)
	v3, err := s.KnowledgeVersion(c, f.ws.ID)
	must(t, err)
	if v3 == v2 {
		t.Fatalf("version %q did not change on delete", v3)
	}
}

// testAISettings: a workspace starts with the defaults; saved settings
// read back exactly, the sealed key included, in that workspace only;
// invalid ones are refused by field.
func testAISettings(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)

	got, err := s.AISettings(c, f.ws.ID)
	must(t, err)
	if want := store.DefaultAISettings(f.ws.ID); got.Enabled != want.Enabled || got.Provider != want.Provider ||
		got.Redact != want.Redact || got.UpdatedAt != nil || got.APIKey != nil {
		t.Fatalf("default settings %+v, want %+v", got, want)
	}
	_, err = s.AISettings(c, 1<<40)
	wantErr(t, err, store.ErrNotFound)

	for _, tc := range []struct {
		name  string
		in    store.AISettings
		field string
	}{
		{"unknown provider", store.AISettings{Provider: "claude"}, "provider"},
		{"relative url", store.AISettings{Provider: "openai", BaseURL: "/v1"}, "base_url"},
		{"ftp url", store.AISettings{Provider: "openai", BaseURL: "ftp://example.com/v1"}, "base_url"},
		{"url with credentials", store.AISettings{Provider: "openai", BaseURL: "https://user:pw@example.com/v1"}, "base_url"},
		{"long instructions", store.AISettings{Provider: "offline", Instructions: strings.Repeat("i", store.MaxAIInstructionsBytes+1)}, "instructions"},
		{"long brand voice", store.AISettings{Provider: "offline", BrandVoice: strings.Repeat("v", store.MaxAIBrandVoiceBytes+1)}, "brand_voice"},
		{"long model", store.AISettings{Provider: "openai", Model: strings.Repeat("m", store.MaxAIModelBytes+1)}, "model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SetAISettings(c, f.ws.ID, tc.in)
			wantInvalid(t, err, tc.field)
		})
	}

	in := store.AISettings{
		Enabled: true, Provider: store.AIProviderOpenAI, BaseURL: "https://llm.example.com/v1", Model: "gpt-4o-mini",
		APIKey: []byte{1, 2, 3, 0, 255}, Instructions: "We ship from Lisbon.", BrandVoice: "friendly, short", Redact: false,
	}
	saved, err := s.SetAISettings(c, f.ws.ID, in)
	must(t, err)
	got, err = s.AISettings(c, f.ws.ID)
	must(t, err)
	for _, a := range []store.AISettings{saved, got} {
		if a.WorkspaceID != f.ws.ID || !a.Enabled || a.Provider != in.Provider || a.BaseURL != in.BaseURL || a.Model != in.Model ||
			string(a.APIKey) != string(in.APIKey) || a.Instructions != in.Instructions || a.BrandVoice != in.BrandVoice ||
			a.Redact || a.UpdatedAt == nil {
			t.Fatalf("saved %+v, want %+v", a, in)
		}
	}
	in.Enabled, in.Provider, in.APIKey = false, store.AIProviderOffline, nil
	got, err = s.SetAISettings(c, f.ws.ID, in)
	must(t, err)
	if got.Enabled || got.Provider != store.AIProviderOffline || got.APIKey != nil {
		t.Fatalf("saved again %+v", got)
	}
	if o, err := s.AISettings(c, other.ws.ID); err != nil || !o.Enabled || o.UpdatedAt != nil {
		t.Fatalf("another workspace's settings changed: %+v, %v", o, err)
	}
	_, err = s.SetAISettings(c, 1<<40, in)
	wantErr(t, err, store.ErrNotFound)
}

// testContactAI: turning a contact's AI off and on keeps ai_off/ai_on
// consent records; repeating a state writes nothing; another workspace's
// contact is not found.
func testContactAI(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)

	off, err := s.ContactAIOffAt(c, f.ws.ID, f.contact.ID)
	must(t, err)
	if off != nil {
		t.Fatalf("a new contact has AI off since %v", off)
	}
	changed, err := s.SetContactAI(c, f.ws.ID, f.contact.ID, store.AIConsentChange{Enabled: true, Channel: "api", Source: "agent:1"})
	must(t, err)
	if changed {
		t.Fatal("turning AI on for a contact with AI on changed something")
	}
	changed, err = s.SetContactAI(c, f.ws.ID, f.contact.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)
	if !changed {
		t.Fatal("turning AI off changed nothing")
	}
	off, err = s.ContactAIOffAt(c, f.ws.ID, f.contact.ID)
	must(t, err)
	if off == nil {
		t.Fatal("AI is still on")
	}
	changed, err = s.SetContactAI(c, f.ws.ID, f.contact.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)
	if changed {
		t.Fatal("turning AI off twice changed something")
	}
	_, err = s.SetContactAI(c, other.ws.ID, f.contact.ID, store.AIConsentChange{Enabled: true, Channel: "api", Source: "agent:2"})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ContactAIOffAt(c, other.ws.ID, f.contact.ID)
	wantErr(t, err, store.ErrNotFound)
	changed, err = s.SetContactAI(c, f.ws.ID, f.contact.ID, store.AIConsentChange{Enabled: true, Channel: "api", Source: "agent:1"})
	must(t, err)
	if !changed {
		t.Fatal("turning AI back on changed nothing")
	}
	if off, err := s.ContactAIOffAt(c, f.ws.ID, f.contact.ID); err != nil || off != nil {
		t.Fatalf("AI off since %v, %v after turning it on", off, err)
	}
	recs, err := s.ConsentRecords(c, f.ws.ID, f.contact.ID)
	must(t, err)
	if len(recs) != 2 || recs[0].Kind != store.ConsentAIOff || recs[1].Kind != store.ConsentAIOn ||
		recs[0].Channel != "api" || recs[0].Source != "agent:1" {
		t.Fatalf("consent records %+v, want ai_off then ai_on", recs)
	}
}

// testPastReplies: a resolved conversation yields its customer question
// and first agent reply (notes skipped); open conversations, conversations
// without a reply and contacts with AI off yield nothing.
func testPastReplies(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	agent := func(convID int64, typ store.MessageType, body string) {
		t.Helper()
		_, err := s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: convID, Direction: store.DirectionOut,
			AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID, Type: typ, Body: body})
		must(t, err)
	}
	resolve := func(convID int64) {
		t.Helper()
		_, _, err := s.UpdateConversation(c, f.ws.ID, convID, store.ConversationUpdate{Status: ptr(store.StatusResolved)})
		must(t, err)
	}
	inbound(t, s, f.ws.ID, f.conv.ID, "Where is my order?", unique("wamid"))
	inbound(t, s, f.ws.ID, f.conv.ID, "It is #1234", unique("wamid"))
	agent(f.conv.ID, store.TypeNote, "checking the warehouse")
	agent(f.conv.ID, store.TypeText, "Hi Carol, it ships today.")
	agent(f.conv.ID, store.TypeText, "Anything else?")
	resolve(f.conv.ID)

	open := newConversation(t, s, f.ws.ID, f.inbox.ID, f.contact.ID)
	inbound(t, s, f.ws.ID, open.ID, "Open question", unique("wamid"))
	agent(open.ID, store.TypeText, "Open answer")

	unanswered := newConversation(t, s, f.ws.ID, f.inbox.ID, newContact(t, s, f.ws.ID, "Una").ID)
	inbound(t, s, f.ws.ID, unanswered.ID, "Hello?", unique("wamid"))
	resolve(unanswered.ID)

	private := newContact(t, s, f.ws.ID, "Pia Private")
	pconv := newConversation(t, s, f.ws.ID, f.inbox.ID, private.ID)
	inbound(t, s, f.ws.ID, pconv.ID, "Secret question", unique("wamid"))
	agent(pconv.ID, store.TypeText, "Secret answer")
	resolve(pconv.ID)
	_, err := s.SetContactAI(c, f.ws.ID, private.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)

	got, err := s.PastReplies(c, f.ws.ID, 10)
	must(t, err)
	if len(got) != 1 || got[0].ConversationID != f.conv.ID || got[0].Question != "Where is my order?\nIt is #1234" ||
		got[0].Answer != "Hi Carol, it ships today." {
		t.Fatalf("past replies %+v", got)
	}
	other := newFixture(t, s)
	if got, err := s.PastReplies(c, other.ws.ID, 10); err != nil || len(got) != 0 {
		t.Fatalf("another workspace has past replies %+v, %v", got, err)
	}
}
