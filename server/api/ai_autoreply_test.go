package api_test

import (
	"fmt"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type inboxAIJSON struct {
	InboxID       int64   `json:"inbox_id"`
	AutoReply     bool    `json:"auto_reply"`
	MinConfidence float64 `json:"min_confidence"`
	UpdatedAt     *string `json:"updated_at"`
}

// TestInboxAI: an inbox's auto-reply settings default to off at 0.8, are
// changed field by field and audited; bad input is refused by field; an
// unknown inbox or another workspace's is 404.
func TestInboxAI(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}
		path := fmt.Sprintf("/api/v1/inboxes/%d/ai", a.inbox.ID)

		var s inboxAIJSON
		ca.do("GET", path, "").ok(t, 200, &s)
		if s.AutoReply || s.MinConfidence != store.DefaultMinConfidence || s.InboxID != a.inbox.ID || s.UpdatedAt != nil {
			t.Fatalf("default settings %+v", s)
		}
		ca.do("PUT", path, `{"auto_reply":true}`).ok(t, 200, &s)
		if !s.AutoReply || s.MinConfidence != store.DefaultMinConfidence || s.UpdatedAt == nil {
			t.Fatalf("after turning on %+v", s)
		}
		r := ca.do("PUT", path, `{"min_confidence":0.6}`)
		r.ok(t, 200, &s)
		if !s.AutoReply || s.MinConfidence != 0.6 {
			t.Fatalf("after lowering the threshold %+v", s)
		}
		// PUT back what was read.
		ca.do("PUT", path, string(r.body)).ok(t, 200, &s)
		if !s.AutoReply || s.MinConfidence != 0.6 {
			t.Fatalf("a round trip changed %+v", s)
		}
		audit, err := st.ListAudit(ctx(t), a.ws.ID, store.AuditFilter{Action: store.AuditInboxAIUpdated})
		must(t, err)
		if len(audit.Entries) != 3 || audit.Entries[0].TargetID != a.inbox.ID {
			t.Fatalf("audit entries %+v, want the three changes", audit.Entries)
		}

		for _, tc := range []struct {
			name, body  string
			status      int
			code, field string
		}{
			{"above 1", `{"min_confidence":1.5}`, 400, "invalid", "min_confidence"},
			{"negative", `{"min_confidence":-0.1}`, 400, "invalid", "min_confidence"},
			{"wrong type", `{"auto_reply":"yes"}`, 400, "invalid", "auto_reply"},
			{"unknown field", `{"confidence":0.5}`, 400, "unknown_field", "confidence"},
			{"malformed", `{"auto_reply":`, 400, "malformed_json", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ca.do("PUT", path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		ca.do("GET", path, "").ok(t, 200, &s)
		if !s.AutoReply || s.MinConfidence != 0.6 {
			t.Fatalf("refused changes were saved: %+v", s)
		}

		// Another workspace's inbox, and an unknown one.
		cb.do("GET", path, "").wantError(t, 404, "not_found", "")
		cb.do("PUT", path, `{"auto_reply":false}`).wantError(t, 404, "not_found", "")
		ca.do("GET", "/api/v1/inboxes/999999999/ai", "").wantError(t, 404, "not_found", "")
		ca.do("GET", path, "").ok(t, 200, &s)
		if !s.AutoReply {
			t.Fatalf("another workspace changed the settings: %+v", s)
		}
	})
}
