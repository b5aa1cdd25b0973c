package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// TestIsolation checks that an agent of workspace B can neither reach nor
// see anything of workspace A: every id-bearing endpoint answers 404 for
// A's conversation exactly as for an id that does not exist, and A's rows
// never appear in B's lists, search or events.
func TestIsolation(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a, b := newTenant(t, st), newTenant(t, st)
		ca := client{t: t, base: base, token: a.token}
		cb := client{t: t, base: base, token: b.token}
		const secretWord = "zanzibarquux"
		aConv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)
		ca.do("POST", aConv+"/labels", `{"label":"secret-a"}`).ok(t, http.StatusOK, nil)
		var aMsg store.Message
		ca.do("POST", aConv+"/messages", `{"body":"the `+secretWord+` plan"}`, "Idempotency-Key", "shared-key").ok(t, http.StatusCreated, &aMsg)
		inbound(t, st, a.ws.ID, a.conv.ID, "customer says "+secretWord)

		refused := []struct {
			method, path, body string
		}{
			{"GET", aConv, ""},
			{"PATCH", aConv, fmt.Sprintf(`{"status":"resolved","assignee_id":%d}`, b.agent.ID)},
			{"POST", aConv + "/labels", `{"label":"pwned"}`},
			{"DELETE", aConv + "/labels/secret-a", ""},
			{"POST", aConv + "/read", ""},
			{"GET", aConv + "/messages", ""},
			{"POST", aConv + "/messages", `{"body":"hello from B"}`},
			{"POST", aConv + "/messages", `{"body":"note from B","type":"note"}`},
		}
		for _, tc := range refused {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				cb.do(tc.method, tc.path, tc.body).wantError(t, http.StatusNotFound, "not_found", "")
			})
		}

		t.Run("A unchanged", func(t *testing.T) {
			got, err := st.Conversation(ctx(t), a.ws.ID, a.conv.ID)
			must(t, err)
			if got.Status != store.StatusOpen || got.AssigneeID != 0 || !slices.Equal(got.Labels, []string{"secret-a"}) {
				t.Errorf("A's conversation changed: %+v", got)
			}
			msgs, err := st.ListMessages(ctx(t), a.ws.ID, a.conv.ID, store.MessageFilter{Limit: 100})
			must(t, err)
			if len(msgs) != 2 {
				t.Errorf("A's conversation has %d messages, want 2", len(msgs))
			}
		})

		t.Run("B cannot point at A's rows", func(t *testing.T) {
			bConv := fmt.Sprintf("/api/v1/conversations/%d", b.conv.ID)
			cb.do("PATCH", bConv, fmt.Sprintf(`{"assignee_id":%d}`, a.agent.ID)).wantError(t, http.StatusBadRequest, "invalid", "assignee_id")
			cb.do("POST", bConv+"/messages", fmt.Sprintf(`{"body":"x","type":"note","mentions":[%d]}`, a.agent.ID)).wantError(t, http.StatusBadRequest, "invalid", "mentions")
			// The same idempotency key in another workspace is another
			// message, not A's.
			var bMsg store.Message
			cb.do("POST", bConv+"/messages", `{"body":"B's own"}`, "Idempotency-Key", "shared-key").ok(t, http.StatusCreated, &bMsg)
			if bMsg.ID == aMsg.ID || bMsg.WorkspaceID != b.ws.ID {
				t.Errorf("B's send answered %+v", bMsg)
			}
		})

		t.Run("B's lists", func(t *testing.T) {
			for _, q := range []string{
				"", "?assignee=any", "?assignee=unassigned", "?label=secret-a",
				"?inbox_id=" + strconv.FormatInt(a.inbox.ID, 10), "?unread=true",
			} {
				got := cb.list("/api/v1/conversations" + q)
				if slices.Contains(got, a.conv.ID) {
					t.Errorf("%q lists A's conversation", q)
				}
			}
		})

		t.Run("B's search", func(t *testing.T) {
			for _, q := range []string{secretWord, a.contact.Name} {
				var res struct {
					Messages []store.Message `json:"messages"`
					Contacts []store.Contact `json:"contacts"`
				}
				cb.do("GET", "/api/v1/search?q="+url.QueryEscape(q), "").ok(t, http.StatusOK, &res)
				if len(res.Messages) != 0 || len(res.Contacts) != 0 {
					t.Errorf("B's search for %q finds %+v", q, res)
				}
			}
		})

		t.Run("B's events", func(t *testing.T) {
			var page eventList
			r := cb.do("GET", "/api/v1/events?after=0&limit=1000", "")
			r.ok(t, http.StatusOK, &page)
			for _, e := range page.Events {
				if e.WorkspaceID != b.ws.ID || e.ConversationID == a.conv.ID {
					t.Errorf("B sees event %+v", e)
				}
			}
			if bytes.Contains(r.body, []byte(secretWord)) {
				t.Error("B's events carry A's message")
			}
		})

		t.Run("A sees its own", func(t *testing.T) {
			var res struct {
				Messages []store.Message `json:"messages"`
				Contacts []store.Contact `json:"contacts"`
			}
			ca.do("GET", "/api/v1/search?q="+secretWord, "").ok(t, http.StatusOK, &res)
			if len(res.Messages) != 2 {
				t.Errorf("A's search finds %d messages, want 2", len(res.Messages))
			}
			ca.do("GET", "/api/v1/search?q="+url.QueryEscape(a.contact.Name), "").ok(t, http.StatusOK, &res)
			if len(res.Contacts) != 1 || res.Contacts[0].ID != a.contact.ID {
				t.Errorf("A's contact search: %+v", res.Contacts)
			}
		})
	})
}
