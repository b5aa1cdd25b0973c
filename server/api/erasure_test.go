package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type exported struct {
	Contact       store.Contact         `json:"contact"`
	Consent       []store.ConsentRecord `json:"consent"`
	AIOffAt       *time.Time            `json:"ai_off_at"`
	Conversations []struct {
		ID       int64 `json:"id"`
		Summary  *store.ConversationSummary
		Messages []struct {
			ID    int64  `json:"id"`
			Type  string `json:"type"`
			Body  string `json:"body"`
			Media []struct {
				ID  int64  `json:"id"`
				URL string `json:"url"`
			} `json:"media"`
		} `json:"messages"`
	} `json:"conversations"`
}

// TestContactExportAPI: an owner or admin exports a contact as JSON (its
// identities, attributes, consent records with time and channel, AI off,
// conversations with messages, notes, summary and media links) or as CSV
// (one row per message, documented columns); every export is an audit
// entry without personal data; agents are refused, another workspace's
// contact is 404 and a bad format 400.
func TestContactExportAPI(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a, b := newTenant(t, st), newTenant(t, st)
		_, adminToken := member(t, st, a, store.RoleAdmin, "")
		_, agentToken := member(t, st, a, store.RoleAgent, "")
		owner := client{t: t, base: base, token: a.token}
		c := ctx(t)
		ws := a.ws.ID

		_, _, err := st.UpdateContact(c, ws, a.contact.ID, store.ContactUpdate{Attributes: json.RawMessage(`{"plan":"gold"}`)})
		must(t, err)
		inbound(t, st, ws, a.conv.ID, "=cmd|' /C calc'!A0 where is my parcel")
		md := newMedia(t, st, a, "image/jpeg", "receipt.jpg")
		_, err = st.CreateMessage(c, ws, store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent,
			AuthorAgentID: a.agent.ID, Type: store.TypeNote, Body: "VIP, handle with care"})
		must(t, err)
		_, err = st.SetConversationSummary(c, ws, a.conv.ID, store.ConversationSummary{Summary: "Lost parcel", Sentiment: "negative", Intent: "complaint", Model: "offline"})
		must(t, err)
		_, _, err = st.SetContactOptOut(c, ws, a.contact.ID, store.ConsentChange{OptedOut: true, Channel: "whatsapp", Source: "STOP"})
		must(t, err)
		_, err = st.SetContactAI(c, ws, a.contact.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
		must(t, err)

		path := fmt.Sprintf("/api/v1/contacts/%d/export", a.contact.ID)
		r := owner.do("GET", path, "")
		var got exported
		r.ok(t, 200, &got)
		if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, fmt.Sprintf("contact-%d.json", a.contact.ID)) {
			t.Errorf("Content-Disposition %q", cd)
		}
		if got.Contact.ID != a.contact.ID || len(got.Contact.Identities) != 1 || string(got.Contact.Attributes) != `{"plan":"gold"}` {
			t.Fatalf("contact %+v", got.Contact)
		}
		if len(got.Consent) != 2 || got.Consent[0].Kind != "opt_out" || got.Consent[0].Channel != "whatsapp" || got.Consent[0].CreatedAt.IsZero() ||
			got.Consent[1].Kind != "ai_off" || got.AIOffAt == nil {
			t.Fatalf("consent %+v, ai off %v", got.Consent, got.AIOffAt)
		}
		if len(got.Conversations) != 1 || got.Conversations[0].Summary == nil || got.Conversations[0].Summary.Summary != "Lost parcel" {
			t.Fatalf("conversations %+v", got.Conversations)
		}
		msgs := got.Conversations[0].Messages
		if len(msgs) != 3 || !strings.Contains(msgs[0].Body, "where is my parcel") || msgs[2].Type != "note" {
			t.Fatalf("messages %+v, want the inbound text, the media message and the note, oldest first", msgs)
		}
		if len(msgs[1].Media) != 1 || msgs[1].Media[0].URL != fmt.Sprintf("/api/v1/media/%d", md.ID) {
			t.Fatalf("media %+v, want a link to /api/v1/media/%d", msgs[1].Media, md.ID)
		}

		r = client{t: t, base: base, token: adminToken}.do("GET", path+"?format=csv", "")
		r.ok(t, 200, nil)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("Content-Type %q", ct)
		}
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		must(t, err)
		if len(rows) != 4 || strings.Join(rows[0], ",") != "contact_id,contact_name,conversation_id,inbox_id,message_id,created_at,direction,author_kind,author_agent_id,type,status,body,media_urls" {
			t.Fatalf("csv rows %q", rows)
		}
		if rows[1][11] != "'=cmd|' /C calc'!A0 where is my parcel" {
			t.Fatalf("formula cell %q, want it defused with a leading quote", rows[1][11])
		}
		if rows[2][12] != fmt.Sprintf("/api/v1/media/%d", md.ID) || rows[3][9] != "note" {
			t.Fatalf("csv rows %q", rows[2:])
		}

		page, err := st.ListAudit(c, ws, store.AuditFilter{Action: store.AuditContactExported, Limit: 10})
		must(t, err)
		if len(page.Entries) != 2 || page.Entries[0].TargetID != a.contact.ID || page.Entries[1].ActorID != a.agent.ID {
			t.Fatalf("audit %+v, want two contact.exported", page.Entries)
		}
		for _, e := range page.Entries {
			if strings.Contains(string(e.Details), a.contact.Name) || strings.Contains(string(e.Details), "parcel") {
				t.Fatalf("audit details %s carry personal data", e.Details)
			}
		}
		var d map[string]any
		must(t, json.Unmarshal(page.Entries[0].Details, &d))
		if d["format"] != "csv" || d["messages"] != 3.0 || d["media"] != 1.0 || d["conversations"] != 1.0 {
			t.Fatalf("audit details %v", d)
		}

		client{t: t, base: base, token: agentToken}.do("GET", path, "").wantError(t, 403, "forbidden", "")
		owner.do("GET", fmt.Sprintf("/api/v1/contacts/%d/export", b.contact.ID), "").wantError(t, 404, "not_found", "")
		owner.do("GET", "/api/v1/contacts/999999999/export", "").wantError(t, 404, "not_found", "")
		owner.do("GET", "/api/v1/contacts/abc/export", "").wantError(t, 404, "not_found", "")
		owner.do("GET", path+"?format=xml", "").wantError(t, 400, "invalid", "format")
		if page, err := st.ListAudit(c, ws, store.AuditFilter{Action: store.AuditContactExported, Limit: 10}); err != nil || len(page.Entries) != 2 {
			t.Fatalf("refused exports were audited: %+v, %v", page.Entries, err)
		}
	})
}

// runErasures runs an erasure service over st in the background until
// the test ends.
func runErasures(t *testing.T, st store.Store) *datarights.Service {
	t.Helper()
	svc := datarights.New(datarights.Options{Store: st, Blobs: newMediaDir(t), Interval: time.Hour})
	c, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { svc.Run(c) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return svc
}

// TestEraseContactAPI: an owner's erasure request answers 202 pending,
// is carried out in the background to completed (the contact and its
// conversations are gone, the list shows it with counts); confirm is
// required; agents are refused; another workspace's contact and request
// are 404; without a worker the endpoint is 503.
func TestEraseContactAPI(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServerWith(t, st, api.Options{Erasure: runErasures(t, st)})
		a, b := newTenant(t, st), newTenant(t, st)
		_, adminToken := member(t, st, a, store.RoleAdmin, "")
		_, agentToken := member(t, st, a, store.RoleAgent, "")
		owner := client{t: t, base: base, token: a.token}
		inbound(t, st, a.ws.ID, a.conv.ID, "please forget me")
		path := fmt.Sprintf("/api/v1/contacts/%d/erase", a.contact.ID)

		for _, tc := range []struct {
			name, body  string
			status      int
			code, field string
		}{
			{"no body", "", 415, "unsupported_media_type", ""},
			{"empty object", `{}`, 400, "invalid", "confirm"},
			{"confirm false", `{"confirm":false}`, 400, "invalid", "confirm"},
			{"confirm a string", `{"confirm":"yes"}`, 400, "invalid", "confirm"},
			{"unknown field", `{"confirm":true,"now":1}`, 400, "unknown_field", "now"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				owner.do("POST", path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		client{t: t, base: base, token: agentToken}.do("POST", path, `{"confirm":true}`).wantError(t, 403, "forbidden", "")
		client{t: t, base: base, token: agentToken}.do("GET", "/api/v1/erasures", "").wantError(t, 403, "forbidden", "")
		owner.do("POST", fmt.Sprintf("/api/v1/contacts/%d/erase", b.contact.ID), `{"confirm":true}`).wantError(t, 404, "not_found", "")
		var list struct {
			Erasures []store.ErasureRequest `json:"erasures"`
		}
		owner.do("GET", "/api/v1/erasures", "").ok(t, 200, &list)
		if len(list.Erasures) != 0 {
			t.Fatalf("refused requests were recorded: %+v", list.Erasures)
		}

		var req store.ErasureRequest
		client{t: t, base: base, token: adminToken}.do("POST", path, `{"confirm":true}`).ok(t, 202, &req)
		if req.Status != store.ErasurePending || req.Source != store.ErasureByAgent || req.Code == "" || len(req.ContactIDs) != 1 || req.ContactIDs[0] != a.contact.ID {
			t.Fatalf("request %+v", req)
		}
		deadline := time.Now().Add(time.Minute)
		for req.Status == store.ErasurePending {
			if time.Now().After(deadline) {
				t.Fatalf("still pending: %+v", req)
			}
			time.Sleep(10 * time.Millisecond)
			owner.do("GET", fmt.Sprintf("/api/v1/erasures/%d", req.ID), "").ok(t, 200, &req)
		}
		if req.Status != store.ErasureCompleted || req.Counts.Contacts != 1 || req.Counts.Conversations != 1 || req.Counts.Messages != 1 || req.CompletedAt == nil {
			t.Fatalf("request %+v", req)
		}
		owner.do("GET", fmt.Sprintf("/api/v1/contacts/%d", a.contact.ID), "").wantError(t, 404, "not_found", "")
		owner.do("GET", fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID), "").wantError(t, 404, "not_found", "")
		owner.do("POST", path, `{"confirm":true}`).wantError(t, 404, "not_found", "")
		owner.do("GET", "/api/v1/erasures", "").ok(t, 200, &list)
		if len(list.Erasures) != 1 || list.Erasures[0].ID != req.ID {
			t.Fatalf("list %+v", list.Erasures)
		}
		owner.do("GET", "/api/v1/erasures?limit=0", "").wantError(t, 400, "invalid", "limit")
		client{t: t, base: base, token: b.token}.do("GET", fmt.Sprintf("/api/v1/erasures/%d", req.ID), "").wantError(t, 404, "not_found", "")
		client{t: t, base: base, token: b.token}.do("GET", "/api/v1/erasures", "").ok(t, 200, &list)
		if len(list.Erasures) != 0 {
			t.Fatalf("another workspace lists %+v", list.Erasures)
		}
		// The other workspace's contact is untouched.
		client{t: t, base: base, token: b.token}.do("GET", fmt.Sprintf("/api/v1/contacts/%d", b.contact.ID), "").ok(t, 200, nil)
	})
}

// TestEraseContactUnavailable: a server without an erasure worker
// answers 503 and records nothing.
func TestEraseContactUnavailable(t *testing.T) {
	st := teststore.SQLite(t)
	base, _ := newServer(t, st)
	a := newTenant(t, st)
	owner := client{t: t, base: base, token: a.token}
	owner.do("POST", fmt.Sprintf("/api/v1/contacts/%d/erase", a.contact.ID), `{"confirm":true}`).wantError(t, 503, "erasure_unavailable", "")
	if list, err := st.ListErasureRequests(ctx(t), a.ws.ID, 10); err != nil || len(list) != 0 {
		t.Fatalf("requests %+v, %v", list, err)
	}
}
