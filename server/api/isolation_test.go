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
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestIsolation checks that an agent of workspace B can neither reach nor
// see anything of workspace A: every id-bearing endpoint answers 404 for
// A's conversation exactly as for an id that does not exist, and A's rows
// never appear in B's lists, search or events.
func TestIsolation(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
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
		aContact := fmt.Sprintf("/api/v1/contacts/%d", a.contact.ID)
		bContact := fmt.Sprintf("/api/v1/contacts/%d", b.contact.ID)
		// A contact without conversations: a delete would not be refused
		// for that reason.
		aLone, _, err := st.CreateContact(ctx(t), a.ws.ID, store.NewContact{Name: "Lone " + secretWord, Attributes: []byte(`{"k":"v"}`)}, nil)
		must(t, err)
		aLonePath := fmt.Sprintf("/api/v1/contacts/%d", aLone.ID)
		aTeam, err := st.CreateTeam(ctx(t), a.ws.ID, store.NewTeam{Name: "Team " + secretWord})
		must(t, err)
		must(t, st.AddTeamMember(ctx(t), a.ws.ID, aTeam.ID, a.agent.ID))
		aLabel, err := st.CreateLabel(ctx(t), a.ws.ID, store.NewLabel{Name: "label-" + secretWord})
		must(t, err)
		aCanned, err := st.CreateCannedResponse(ctx(t), a.ws.ID, store.CannedResponse{ShortCode: secretWord, Content: "the " + secretWord + " reply"})
		must(t, err)
		aInvitation, err := st.CreateInvitation(ctx(t), a.ws.ID, store.NewInvitation{Email: secretWord + "@example.com"}, store.Actor{})
		must(t, err)
		aToken, _, err := st.CreateAPIToken(ctx(t), a.ws.ID, store.NewAPIToken{AgentID: a.agent.ID, Name: "token " + secretWord})
		must(t, err)
		must(t, st.RecordAudit(ctx(t), a.ws.ID, store.AuditEntry{ActorID: a.agent.ID, Action: store.AuditSignIn, Details: []byte(`{"word":"` + secretWord + `"}`)}))
		aMember := fmt.Sprintf("/api/v1/members/%d", a.agent.ID)
		aTeamPath := fmt.Sprintf("/api/v1/teams/%d", aTeam.ID)
		aLabelPath := fmt.Sprintf("/api/v1/labels/%d", aLabel.ID)
		aCannedPath := fmt.Sprintf("/api/v1/canned_responses/%d", aCanned.ID)

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
			{"GET", aContact, ""},
			{"GET", aLonePath, ""},
			{"PATCH", aLonePath, `{"name":"pwned","attributes":{"k":null}}`},
			{"DELETE", aLonePath, ""},
			{"DELETE", aContact, ""},
			{"GET", aContact + "/conversations", ""},
			{"POST", aContact + "/merge", fmt.Sprintf(`{"from_id":%d}`, aLone.ID)},
			{"POST", aLonePath + "/merge", fmt.Sprintf(`{"from_id":%d}`, b.contact.ID)},
			{"POST", bContact + "/merge", fmt.Sprintf(`{"from_id":%d}`, aLone.ID)},
			{"GET", aTeamPath, ""},
			{"PATCH", aTeamPath, `{"name":"pwned"}`},
			{"DELETE", aTeamPath, ""},
			{"PUT", fmt.Sprintf("%s/members/%d", aTeamPath, b.agent.ID), ""},
			{"PUT", fmt.Sprintf("%s/members/%d", aTeamPath, a.agent.ID), ""},
			{"DELETE", fmt.Sprintf("%s/members/%d", aTeamPath, a.agent.ID), ""},
			{"PATCH", aLabelPath, `{"name":"pwned","color":"#000000"}`},
			{"DELETE", aLabelPath, ""},
			{"PATCH", aCannedPath, `{"content":"pwned"}`},
			{"DELETE", aCannedPath, ""},
			{"PATCH", aMember, `{"role":"agent"}`},
			{"DELETE", aMember, ""},
			{"DELETE", fmt.Sprintf("/api/v1/invitations/%d", aInvitation.ID), ""},
			{"DELETE", fmt.Sprintf("/api/v1/tokens/%d", aToken.ID), ""},
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
			lone, err := st.Contact(ctx(t), a.ws.ID, aLone.ID)
			must(t, err)
			if lone.Name != aLone.Name || string(lone.Attributes) == "{}" {
				t.Errorf("A's contact changed: %+v", lone)
			}
			page, err := st.ListConversations(ctx(t), a.ws.ID, store.ConversationFilter{ContactID: a.contact.ID})
			must(t, err)
			if len(page.Conversations) != 1 || page.Conversations[0].ID != a.conv.ID {
				t.Errorf("A's contact's conversations moved: %v", page.Conversations)
			}
			if own, err := st.Contact(ctx(t), b.ws.ID, b.contact.ID); err != nil || len(own.Identities) != 1 {
				t.Errorf("B's contact after refused merges: %+v, %v", own, err)
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

		t.Run("A's teams, labels and canned responses unchanged", func(t *testing.T) {
			team, err := st.Team(ctx(t), a.ws.ID, aTeam.ID)
			must(t, err)
			if team.Name != aTeam.Name || !slices.Equal(team.AgentIDs, []int64{a.agent.ID}) {
				t.Errorf("A's team changed: %+v", team)
			}
			labels, err := st.ListLabels(ctx(t), a.ws.ID)
			must(t, err)
			if !slices.ContainsFunc(labels, func(l store.Label) bool { return l.ID == aLabel.ID && l.Name == aLabel.Name && l.Color == "" }) {
				t.Errorf("A's label changed: %+v", labels)
			}
			replies, err := st.ListCannedResponses(ctx(t), a.ws.ID, secretWord)
			must(t, err)
			if len(replies) != 1 || replies[0].Content != aCanned.Content {
				t.Errorf("A's canned response changed: %+v", replies)
			}
		})

		t.Run("A's members, invitations and tokens unchanged", func(t *testing.T) {
			if ag, err := st.Agent(ctx(t), a.ws.ID, a.agent.ID); err != nil || ag.Role != store.RoleOwner {
				t.Errorf("A's owner %+v, %v", ag, err)
			}
			if invs, err := st.ListInvitations(ctx(t), a.ws.ID); err != nil || len(invs) != 1 || invs[0].RevokedAt != nil {
				t.Errorf("A's invitations %+v, %v", invs, err)
			}
			if tok, err := st.APIToken(ctx(t), a.ws.ID, aToken.ID); err != nil || tok.RevokedAt != nil {
				t.Errorf("A's token %+v, %v", tok, err)
			}
			ca.do("GET", "/api/v1/me", "").ok(t, http.StatusOK, nil)
		})

		t.Run("B cannot mint a token for A's agent", func(t *testing.T) {
			cb.do("POST", "/api/v1/tokens", fmt.Sprintf(`{"name":"x","agent_id":%d}`, a.agent.ID)).wantError(t, http.StatusBadRequest, "invalid", "agent_id")
		})

		t.Run("B cannot put A's agent on its team", func(t *testing.T) {
			bTeam, err := st.CreateTeam(ctx(t), b.ws.ID, store.NewTeam{Name: "B team"})
			must(t, err)
			cb.do("PUT", fmt.Sprintf("/api/v1/teams/%d/members/%d", bTeam.ID, a.agent.ID), "").wantError(t, http.StatusBadRequest, "invalid", "agent_id")
			bConv := fmt.Sprintf("/api/v1/conversations/%d", b.conv.ID)
			cb.do("PATCH", bConv, fmt.Sprintf(`{"team_id":%d}`, aTeam.ID)).wantError(t, http.StatusBadRequest, "invalid", "team_id")
		})

		t.Run("B's members, invitations, tokens, audit log, teams, labels and canned responses", func(t *testing.T) {
			for _, path := range []string{"/api/v1/agents", "/api/v1/teams", "/api/v1/labels", "/api/v1/canned_responses", "/api/v1/canned_responses?prefix=" + secretWord,
				"/api/v1/members", "/api/v1/invitations", "/api/v1/tokens", fmt.Sprintf("/api/v1/tokens?agent_id=%d", a.agent.ID),
				"/api/v1/audit?limit=100", "/api/v1/workspace"} {
				r := cb.do("GET", path, "")
				r.ok(t, http.StatusOK, nil)
				if bytes.Contains(r.body, []byte(secretWord)) || bytes.Contains(r.body, []byte(a.agent.Email)) {
					t.Errorf("%s shows A's rows: %s", path, r.body)
				}
			}
		})

		t.Run("B's contacts", func(t *testing.T) {
			for _, q := range []string{"", "?limit=100", "?q=" + secretWord, "?q=" + url.QueryEscape(a.contact.Name)} {
				for _, ct := range cb.contacts("/api/v1/contacts" + q).Contacts {
					if ct.WorkspaceID != b.ws.ID {
						t.Errorf("%q lists A's contact %d", q, ct.ID)
					}
				}
			}
			if got := cb.list(bContact + "/conversations"); !slices.Equal(got, []int64{b.conv.ID}) {
				t.Errorf("B's contact's conversations: %v", got)
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
