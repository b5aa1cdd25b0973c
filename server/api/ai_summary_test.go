package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/inbox"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestConversationSummary: POST computes, stores and returns a summary,
// GET reads it back (404 before); AI off for the contact or the workspace
// is 409 with its code and stores nothing; another workspace's
// conversation is 404; a server without AI answers 503.
func TestConversationSummary(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServerWith(t, st, api.Options{AI: testAI(t, st)})
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}
		path := fmt.Sprintf("/api/v1/conversations/%d/summary", a.conv.ID)

		ca.do("GET", path, "").wantError(t, 404, "not_found", "")
		inbound(t, st, a.ws.ID, a.conv.ID, "Hello! What does the enterprise plan cost for 40 agents?")
		var sum store.ConversationSummary
		ca.do("POST", path, "").ok(t, 200, &sum)
		if sum.ConversationID != a.conv.ID || sum.Summary != "Hello! What does the enterprise plan cost for 40 agents?" ||
			sum.Intent != "question" || !sum.Lead || sum.Sentiment != "neutral" || sum.Model == "" || sum.CreatedAt.IsZero() {
			t.Fatalf("summary %+v", sum)
		}
		var got store.ConversationSummary
		ca.do("GET", path, "").ok(t, 200, &got)
		if got != sum {
			t.Fatalf("GET %+v, POST %+v", got, sum)
		}

		// Another workspace sees neither the conversation nor its summary.
		cb.do("GET", path, "").wantError(t, 404, "not_found", "")
		cb.do("POST", path, "").wantError(t, 404, "not_found", "")
		ca.do("POST", "/api/v1/conversations/999999999/summary", "").wantError(t, 404, "not_found", "")
		ca.do("GET", "/api/v1/conversations/0/summary", "").wantError(t, 404, "not_found", "")

		// AI off: 409, and the stored summary is left as it was.
		inbound(t, st, a.ws.ID, a.conv.ID, "Please cancel my account, this is terrible.")
		ca.do("POST", fmt.Sprintf("/api/v1/contacts/%d/ai", a.contact.ID), `{"enabled":false}`).ok(t, 200, nil)
		ca.do("POST", path, "").wantError(t, 409, "contact_ai_off", "")
		ca.do("POST", fmt.Sprintf("/api/v1/contacts/%d/ai", a.contact.ID), `{"enabled":true}`).ok(t, 200, nil)
		ca.do("PUT", "/api/v1/ai/settings", `{"enabled":false}`).ok(t, 200, nil)
		ca.do("POST", path, "").wantError(t, 409, "ai_disabled", "")
		ca.do("GET", path, "").ok(t, 200, &got)
		if got != sum {
			t.Fatalf("with AI off the summary became %+v", got)
		}
		// Reading a stored summary needs no AI.
		bpath := fmt.Sprintf("/api/v1/conversations/%d/summary", b.conv.ID)
		bare, _ := newServer(t, st)
		client{t: t, base: bare, token: b.token}.do("POST", bpath, "").wantError(t, 503, "ai_unavailable", "")
		client{t: t, base: bare, token: a.token}.do("GET", path, "").ok(t, 200, nil)
	})
}

// TestSummaryOnResolve: resolving a conversation through the API
// summarizes it in the background, once the relay publishes the change.
func TestSummaryOnResolve(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		svc := testAI(t, st)
		relay := inbox.NewRelay(st, &published{}, inbox.RelayOptions{Interval: 20 * time.Millisecond, OnEvents: svc.OnEvents})
		c, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { relay.Run(c) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		base, _ := newServerWith(t, st, api.Options{AI: svc, OnCommit: relay.Notify})
		a := newTenant(t, st)
		ca := client{t: t, base: base, token: a.token}
		inbound(t, st, a.ws.ID, a.conv.ID, "I want to cancel my subscription.")

		ca.do("PATCH", fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID), `{"status":"resolved"}`).ok(t, 200, nil)
		path := fmt.Sprintf("/api/v1/conversations/%d/summary", a.conv.ID)
		var sum store.ConversationSummary
		waitFor(t, "the summary of the resolved conversation", func() bool {
			_, err := st.ConversationSummary(ctx(t), a.ws.ID, a.conv.ID)
			return err == nil
		})
		ca.do("GET", path, "").ok(t, 200, &sum)
		if sum.Intent != "cancellation" || sum.Summary != "I want to cancel my subscription." {
			t.Fatalf("summary on resolve %+v", sum)
		}
	})
}
