package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/retention"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// testRetention is a retention job over st and blobs on the real clock.
func testRetention(t testing.TB, st store.Store, blobs *media.Dir) *retention.Job {
	t.Helper()
	return testRetentionAt(t, st, blobs, 0)
}

// testRetentionAt is a retention job whose clock runs ahead by skew.
func testRetentionAt(t testing.TB, st store.Store, blobs *media.Dir, skew time.Duration) *retention.Job {
	t.Helper()
	return retention.New(retention.Options{Store: st, Blobs: blobs, Pause: time.Millisecond,
		Now: func() time.Time { return store.Now().Add(skew) }})
}

type retentionRun struct {
	DryRun bool `json:"dry_run"`
	store.RetentionCounts
}

// TestRetentionSettingsAPI: GET answers the defaults until a PUT saves
// settings (fields left out kept), which the audit log records; bad
// input is a 400 naming the field, and changes nothing; another
// workspace keeps its own; agents are refused.
func TestRetentionSettingsAPI(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServerWith(t, st, api.Options{MaxBodyBytes: 256})
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}

		var got store.RetentionSettings
		ca.do("GET", "/api/v1/retention", "").ok(t, 200, &got)
		if got != store.DefaultRetentionSettings() {
			t.Fatalf("a new workspace's settings %+v, want the defaults", got)
		}
		ca.do("PUT", "/api/v1/retention", `{"message_days":365,"event_days":7}`).ok(t, 200, &got)
		if got.MessageDays != 365 || got.MediaDays != 30 || got.EventDays != 7 || got.UpdatedAt == nil {
			t.Fatalf("saved %+v, want 365/30/7 days", got)
		}
		// What GET answers can be PUT back.
		r := ca.do("GET", "/api/v1/retention", "")
		ca.do("PUT", "/api/v1/retention", string(r.body)).ok(t, 200, &got)
		if got.MessageDays != 365 || got.EventDays != 7 {
			t.Fatalf("after a PUT of what GET answered: %+v", got)
		}
		page, err := st.ListAudit(ctx(t), a.ws.ID, store.AuditFilter{Action: store.AuditRetentionUpdated, Limit: 10})
		must(t, err)
		if len(page.Entries) != 2 || page.Entries[0].ActorID != a.agent.ID {
			t.Fatalf("audit entries %+v, want two retention.updated by the owner", page.Entries)
		}
		var details map[string]int
		must(t, json.Unmarshal(page.Entries[0].Details, &details))
		if details["message_days"] != 365 || details["media_days"] != 30 || details["event_days"] != 7 {
			t.Fatalf("audit details %s, want the saved settings", page.Entries[0].Details)
		}

		for _, tc := range []struct {
			name, body  string
			status      int
			code, field string
		}{
			{"message days zero", `{"message_days":0}`, 400, "invalid", "message_days"},
			{"message days too many", `{"message_days":3651}`, 400, "invalid", "message_days"},
			{"media days too many", `{"media_days":181}`, 400, "invalid", "media_days"},
			{"media days negative", `{"media_days":-1}`, 400, "invalid", "media_days"},
			{"event days zero", `{"event_days":0}`, 400, "invalid", "event_days"},
			{"days not a number", `{"message_days":"ninety"}`, 400, "invalid", "message_days"},
			{"days fractional", `{"message_days":1.5}`, 400, "invalid", "message_days"},
			{"unknown field", `{"message_dayz":30}`, 400, "unknown_field", "message_dayz"},
			{"malformed JSON", `{"message_days":`, 400, "malformed_json", ""},
			{"not an object", `[30]`, 400, "invalid", ""},
			{"too large", `{"message_days":30,"updated_at":"` + strings.Repeat("x", 300) + `"}`, 413, "payload_too_large", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ca.do("PUT", "/api/v1/retention", tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		ca.do("PUT", "/api/v1/retention", `{"message_days":30}`, "Content-Type", "text/plain").wantError(t, 415, "unsupported_media_type", "")
		ca.do("GET", "/api/v1/retention", "").ok(t, 200, &got)
		if got.MessageDays != 365 || got.MediaDays != 30 || got.EventDays != 7 {
			t.Fatalf("after refused changes: %+v, want them unchanged", got)
		}
		got = store.RetentionSettings{}
		cb.do("GET", "/api/v1/retention", "").ok(t, 200, &got)
		if got != store.DefaultRetentionSettings() {
			t.Fatalf("the other workspace's settings %+v, want the defaults", got)
		}

		_, agentToken := member(t, st, a, store.RoleAgent, "")
		agent := client{t: t, base: base, token: agentToken}
		agent.do("GET", "/api/v1/retention", "").wantError(t, http.StatusForbidden, "forbidden", "")
		agent.do("PUT", "/api/v1/retention", `{"message_days":1}`).wantError(t, http.StatusForbidden, "forbidden", "")
		agent.do("POST", "/api/v1/retention/run", `{"dry_run":true}`).wantError(t, http.StatusForbidden, "forbidden", "")
	})
}

// TestRetentionRunAPI: a dry run reports what expired and deletes
// nothing; a real run then deletes exactly that: the conversation is
// gone, search no longer finds its message, conversation.deleted is in
// the event log, and another workspace is untouched.
func TestRetentionRunAPI(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		blobs := newMediaDir(t)
		// The job's clock is two days ahead: with one day of message
		// retention, today's conversations have expired.
		base, _ := newServerWith(t, st, api.Options{Retention: testRetentionAt(t, st, blobs, 48*time.Hour)})
		a, b := newTenant(t, st), newTenant(t, st)
		ca, cb := client{t: t, base: base, token: a.token}, client{t: t, base: base, token: b.token}
		word := unique("quokka")
		inbound(t, st, a.ws.ID, a.conv.ID, "expiring "+word)
		inbound(t, st, b.ws.ID, b.conv.ID, "kept "+word)
		ca.do("PUT", "/api/v1/retention", `{"message_days":1}`).ok(t, 200, nil)
		conv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)

		var dry retentionRun
		ca.do("POST", "/api/v1/retention/run", `{"dry_run":true}`).ok(t, 200, &dry)
		if !dry.DryRun || dry.Conversations != 1 || dry.Messages != 1 || dry.Media != 0 {
			t.Fatalf("dry run %+v, want the conversation and its message", dry)
		}
		ca.do("GET", conv, "").ok(t, 200, nil)

		var run retentionRun
		ca.do("POST", "/api/v1/retention/run", `{"dry_run":false}`).ok(t, 200, &run)
		if run.DryRun || run.RetentionCounts != dry.RetentionCounts {
			t.Fatalf("run %+v, want what the dry run reported, %+v", run, dry)
		}
		ca.do("GET", conv, "").wantError(t, 404, "not_found", "")
		var found struct {
			Messages []store.Message `json:"messages"`
		}
		ca.do("GET", "/api/v1/search?q="+word, "").ok(t, 200, &found)
		if len(found.Messages) != 0 {
			t.Fatalf("search finds deleted messages: %+v", found.Messages)
		}
		var events struct {
			Events []store.Event `json:"events"`
		}
		ca.do("GET", "/api/v1/events", "").ok(t, 200, &events)
		if last := events.Events[len(events.Events)-1]; last.Kind != store.EventConversationDeleted || last.ConversationID != a.conv.ID {
			t.Fatalf("last event %+v, want conversation.deleted of %d", last, a.conv.ID)
		}

		// b keeps the default 90 days.
		cb.do("GET", fmt.Sprintf("/api/v1/conversations/%d", b.conv.ID), "").ok(t, 200, nil)
		cb.do("GET", "/api/v1/search?q="+word, "").ok(t, 200, &found)
		if len(found.Messages) != 1 {
			t.Fatalf("the other workspace's search finds %d messages, want 1", len(found.Messages))
		}

		for _, tc := range []struct {
			name, body  string
			code, field string
		}{
			{"dry_run missing", `{}`, "invalid", "dry_run"},
			{"dry_run null", `{"dry_run":null}`, "invalid", "dry_run"},
			{"dry_run not a boolean", `{"dry_run":"yes"}`, "invalid", "dry_run"},
			{"unknown field", `{"dry_run":true,"now":1}`, "unknown_field", "now"},
			{"malformed JSON", `{"dry_run":`, "malformed_json", ""},
			{"empty body", ``, "malformed_json", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ca.do("POST", "/api/v1/retention/run", tc.body, "Content-Type", "application/json").wantError(t, 400, tc.code, tc.field)
			})
		}
	})
}

// TestRetentionRunUnavailable: without a retention job the run answers
// 503; the settings still work.
func TestRetentionRunUnavailable(t *testing.T) {
	st := teststore.SQLite(t)
	base, _ := newServer(t, st)
	a := newTenant(t, st)
	ca := client{t: t, base: base, token: a.token}
	ca.do("POST", "/api/v1/retention/run", `{"dry_run":true}`).wantError(t, http.StatusServiceUnavailable, "retention_unavailable", "")
	ca.do("GET", "/api/v1/retention", "").ok(t, 200, nil)
}

// FuzzRetentionBodies: whatever the body of PUT /retention or POST
// /retention/run, the answer is a success with settings in range (or
// counts) or a 4xx JSON error, never a 5xx.
func FuzzRetentionBodies(f *testing.F) {
	for _, seed := range []string{
		`{"message_days":365}`, `{"media_days":180,"event_days":1}`, `{"message_days":0}`, `{"dry_run":true}`,
		`{"dry_run":false}`, `{}`, `[]`, `null`, `{"message_days":1e309}`, `{"event_days":-9223372036854775808}`, `{"dry_run":`,
	} {
		f.Add(seed)
	}
	st := teststore.SQLite(f)
	base, _ := newServerWith(f, st, api.Options{Retention: testRetention(f, st, newMediaDir(f))})
	tn := newTenant(f, st)
	f.Fuzz(func(t *testing.T, body string) {
		c := client{t: t, base: base, token: tn.token}
		for _, path := range []string{"/api/v1/retention", "/api/v1/retention/run"} {
			method := "PUT"
			if strings.HasSuffix(path, "/run") {
				method = "POST"
			}
			r := c.do(method, path, body, "Content-Type", "application/json")
			switch {
			case r.status == 200 && method == "PUT":
				var s store.RetentionSettings
				must(t, json.Unmarshal(r.body, &s))
				if err := s.Validate(); err != nil {
					t.Fatalf("PUT %q saved %+v: %v", body, s, err)
				}
			case r.status == 200:
			case r.status >= 400 && r.status < 500:
				var e apiError
				if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Fatalf("%s %s %q: status %d with body %s, want a JSON error", method, path, body, r.status, r.body)
				}
			default:
				t.Fatalf("%s %s %q: status %d, body %s", method, path, body, r.status, r.body)
			}
		}
	})
}
