package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// member adds an agent with role to the tenant's workspace and returns
// them with a token of tokenRole ("" for their own role).
func member(t testing.TB, st store.Store, tn tenant, role, tokenRole store.Role) (store.Agent, string) {
	t.Helper()
	a, err := st.CreateAgent(ctx(t), tn.ws.ID, store.NewAgent{Email: unique(string(role)) + "@example.com", Name: "Member " + string(role), Role: role})
	must(t, err)
	_, token, err := st.CreateAPIToken(ctx(t), tn.ws.ID, store.NewAPIToken{AgentID: a.ID, Name: "test", Role: tokenRole})
	must(t, err)
	return a, token
}

func newTeam(t testing.TB, st store.Store, workspaceID int64) store.Team {
	t.Helper()
	team, err := st.CreateTeam(ctx(t), workspaceID, store.NewTeam{Name: unique("team ")})
	must(t, err)
	return team
}

func newLabel(t testing.TB, st store.Store, workspaceID int64) store.Label {
	t.Helper()
	l, err := st.CreateLabel(ctx(t), workspaceID, store.NewLabel{Name: unique("label ")})
	must(t, err)
	return l
}

func newCanned(t testing.TB, st store.Store, workspaceID int64) store.CannedResponse {
	t.Helper()
	c, err := st.CreateCannedResponse(ctx(t), workspaceID, store.CannedResponse{ShortCode: unique("code"), Content: "Hello"})
	must(t, err)
	return c
}

// TestPermissions calls every route as each role and checks it is
// answered as the route's permission says: 403 "forbidden" naming the
// permission, with nothing written, or the route's success status. The
// need column is the specification of which permission each route
// declares.
func TestPermissions(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		mediaBlobs := newMediaDir(t)
		base, _ := newServerWith(t, st, api.Options{Connectors: testConnectors(testBox(t)), AI: testAI(t, st), Media: mediaBlobs,
			Retention: testRetention(t, st, mediaBlobs), Erasure: datarights.New(datarights.Options{Store: st, Blobs: mediaBlobs})})
		a := newTenant(t, st)
		_, adminToken := member(t, st, a, store.RoleAdmin, "")
		agent, agentToken := member(t, st, a, store.RoleAgent, "")
		_, weakToken := member(t, st, a, store.RoleAdmin, store.RoleAgent)
		callers := []struct {
			name  string
			role  store.Role // effective
			token string
		}{
			{"owner", store.RoleOwner, a.token},
			{"admin", store.RoleAdmin, adminToken},
			{"agent", store.RoleAgent, agentToken},
			{"admin with an agent token", store.RoleAgent, weakToken},
		}
		conv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)
		contact := fmt.Sprintf("/api/v1/contacts/%d", a.contact.ID)
		ws := a.ws.ID
		// A member no caller is, for acting on someone else.
		other, _ := member(t, st, a, store.RoleAgent, "")
		freshMember := func() int64 { m, _ := member(t, st, a, store.RoleAgent, ""); return m.ID }
		freshToken := func() int64 {
			tok, _, err := st.CreateAPIToken(ctx(t), ws, store.NewAPIToken{AgentID: other.ID, Name: "other's"})
			must(t, err)
			return tok.ID
		}
		freshInvitation := func() int64 {
			inv, err := st.CreateInvitation(ctx(t), ws, store.NewInvitation{Email: unique("invitee") + "@example.com"}, store.Actor{})
			must(t, err)
			return inv.ID
		}

		// Each route builds its own fixture per call, so that every
		// permitted caller can succeed.
		routes := []struct {
			need   access.Action
			method string
			path   func() string
			body   string
			status int
		}{
			{access.ReadInbox, "GET", fixed("/api/v1/me"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/agents"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/conversations"), "", 200},
			{access.ReadInbox, "GET", fixed(conv), "", 200},
			{access.ReadInbox, "POST", fixed(conv + "/read"), "", 204},
			{access.ReadInbox, "GET", fixed(conv + "/messages"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/contacts"), "", 200},
			{access.ReadInbox, "GET", fixed(contact), "", 200},
			{access.ReadInbox, "GET", fixed(contact + "/conversations"), "", 200},
			{access.ReadInbox, "GET", fixed(contact + "/consent"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/teams"), "", 200},
			{access.ReadInbox, "GET", func() string { return fmt.Sprintf("/api/v1/teams/%d", newTeam(t, st, ws).ID) }, "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/labels"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/canned_responses?prefix=c"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/events"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/search?q=hello"), "", 200},
			{access.ReadInbox, "GET", func() string {
				return fmt.Sprintf("/api/v1/media/%d", storedMedia(t, st, mediaBlobs, a, "image/png", "", []byte("png")).ID)
			}, "", 200},

			{access.ReplyToConversation, "POST", fixed(conv + "/messages"), `{"body":"hello"}`, 201},
			{access.ReplyToConversation, "POST", fixed(conv + "/messages"), fmt.Sprintf(`{"body":"look","type":"note","mentions":[%d]}`, agent.ID), 201},

			{access.UpdateConversation, "PATCH", fixed(conv), `{"priority":"high"}`, 200},
			{access.UpdateConversation, "POST", fixed(conv + "/labels"), `{"label":"vip"}`, 200},
			{access.UpdateConversation, "DELETE", fixed(conv + "/labels/vip"), "", 200},

			{access.ManageContacts, "POST", fixed("/api/v1/contacts"), `{"name":"New customer"}`, 201},
			{access.ManageContacts, "PATCH", fixed(contact), `{"name":"Renamed customer"}`, 200},
			{access.ManageContacts, "POST", fixed(contact + "/consent"), `{"opted_out":false}`, 200},

			{access.ManageTeams, "POST", fixed("/api/v1/teams"), "", 201},
			{access.ManageTeams, "PATCH", func() string { return fmt.Sprintf("/api/v1/teams/%d", newTeam(t, st, ws).ID) }, `{"description":"d"}`, 200},
			{access.ManageTeams, "DELETE", func() string { return fmt.Sprintf("/api/v1/teams/%d", newTeam(t, st, ws).ID) }, "", 204},
			{access.ManageTeams, "PUT", func() string { return fmt.Sprintf("/api/v1/teams/%d/members/%d", newTeam(t, st, ws).ID, agent.ID) }, "", 200},
			{access.ManageTeams, "DELETE", func() string {
				team := newTeam(t, st, ws)
				must(t, st.AddTeamMember(ctx(t), ws, team.ID, agent.ID))
				return fmt.Sprintf("/api/v1/teams/%d/members/%d", team.ID, agent.ID)
			}, "", 200},

			{access.ManageLabels, "POST", fixed("/api/v1/labels"), "", 201},
			{access.ManageLabels, "PATCH", func() string { return fmt.Sprintf("/api/v1/labels/%d", newLabel(t, st, ws).ID) }, `{"color":"#123456"}`, 200},
			{access.ManageLabels, "DELETE", func() string { return fmt.Sprintf("/api/v1/labels/%d", newLabel(t, st, ws).ID) }, "", 204},

			{access.ManageCannedResponses, "POST", fixed("/api/v1/canned_responses"), "", 201},
			{access.ManageCannedResponses, "PATCH", func() string { return fmt.Sprintf("/api/v1/canned_responses/%d", newCanned(t, st, ws).ID) }, `{"content":"Hi"}`, 200},
			{access.ManageCannedResponses, "DELETE", func() string { return fmt.Sprintf("/api/v1/canned_responses/%d", newCanned(t, st, ws).ID) }, "", 204},

			{access.ReadInbox, "GET", fixed("/api/v1/members"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/workspace"), "", 200},
			// Every member manages its own tokens.
			{access.ReadInbox, "GET", fixed("/api/v1/tokens"), "", 200},
			{access.ReadInbox, "POST", fixed("/api/v1/tokens"), `{"name":"mine"}`, 201},

			{access.ManageAgents, "PATCH", func() string { return fmt.Sprintf("/api/v1/members/%d", freshMember()) }, `{"role":"admin"}`, 200},
			{access.ManageAgents, "DELETE", func() string { return fmt.Sprintf("/api/v1/members/%d", freshMember()) }, "", 204},
			{access.ManageAgents, "GET", fixed("/api/v1/invitations"), "", 200},
			{access.ManageAgents, "POST", fixed("/api/v1/invitations"), "", 201},
			{access.ManageAgents, "DELETE", func() string { return fmt.Sprintf("/api/v1/invitations/%d", freshInvitation()) }, "", 204},

			{access.ManageTokens, "GET", fixed(fmt.Sprintf("/api/v1/tokens?agent_id=%d", other.ID)), "", 200},
			{access.ManageTokens, "POST", fixed("/api/v1/tokens"), fmt.Sprintf(`{"name":"bot","agent_id":%d}`, other.ID), 201},
			{access.ManageTokens, "DELETE", func() string { return fmt.Sprintf("/api/v1/tokens/%d", freshToken()) }, "", 204},

			{access.ManageWorkspace, "PATCH", fixed("/api/v1/workspace"), `{"auto_join_domain":"example.com"}`, 200},
			{access.ReadInbox, "GET", fixed("/api/v1/inboxes"), "", 200},
			{access.ReadInbox, "GET", fixed(fmt.Sprintf("/api/v1/inboxes/%d", a.inbox.ID)), "", 200},
			{access.ManageWorkspace, "POST", fixed("/api/v1/inboxes"), `{"kind":"whatsapp","name":"New line"}`, 201},
			{access.ManageWorkspace, "PATCH", fixed(fmt.Sprintf("/api/v1/inboxes/%d", a.inbox.ID)), `{"name":"Renamed line"}`, 200},
			{access.ManageWorkspace, "PUT", func() string {
				in, err := st.CreateInbox(ctx(t), ws, store.NewInbox{Kind: store.InboxWhatsApp, Name: "to configure"})
				must(t, err)
				return fmt.Sprintf("/api/v1/inboxes/%d/config", in.ID)
			}, waConfig, 200},
			{access.ManageWorkspace, "GET", fixed("/api/v1/dead_letters"), "", 200},
			{access.ReadInbox, "GET", fixed("/api/v1/knowledge_articles"), "", 200},
			{access.ReadInbox, "GET", func() string { return fmt.Sprintf("/api/v1/knowledge_articles/%d", newArticle(t, st, ws).ID) }, "", 200},
			{access.ManageWorkspace, "POST", fixed("/api/v1/knowledge_articles"), `{"title":"Shipping","body":"We ship in 2 days."}`, 201},
			{access.ManageWorkspace, "PATCH", func() string { return fmt.Sprintf("/api/v1/knowledge_articles/%d", newArticle(t, st, ws).ID) }, `{"body":"3 days"}`, 200},
			{access.ManageWorkspace, "DELETE", func() string { return fmt.Sprintf("/api/v1/knowledge_articles/%d", newArticle(t, st, ws).ID) }, "", 204},
			{access.ManageWorkspace, "GET", fixed("/api/v1/ai/settings"), "", 200},
			{access.ManageWorkspace, "PUT", fixed("/api/v1/ai/settings"), `{"brand_voice":"short"}`, 200},
			{access.ManageWorkspace, "GET", fixed(fmt.Sprintf("/api/v1/inboxes/%d/ai", a.inbox.ID)), "", 200},
			{access.ManageWorkspace, "PUT", fixed(fmt.Sprintf("/api/v1/inboxes/%d/ai", a.inbox.ID)), `{"min_confidence":0.9}`, 200},
			{access.ReadInbox, "GET", fixed(contact + "/ai"), "", 200},
			{access.ManageContacts, "POST", fixed(contact + "/ai"), `{"enabled":true}`, 200},
			{access.ReplyToConversation, "POST", fixed(conv + "/draft"), "", 202},
			// POST before GET: the summary the GET reads is the POST's.
			{access.ReplyToConversation, "POST", fixed(conv + "/summary"), "", 200},
			{access.ReadInbox, "GET", fixed(conv + "/summary"), "", 200},
			{access.ViewAuditLog, "GET", fixed("/api/v1/audit"), "", 200},
			{access.ManageWorkspace, "GET", fixed("/api/v1/retention"), "", 200},
			{access.ManageWorkspace, "PUT", fixed("/api/v1/retention"), `{"message_days":365}`, 200},
			{access.ManageWorkspace, "POST", fixed("/api/v1/retention/run"), `{"dry_run":true}`, 200},
			{access.ManageWorkspace, "POST", fixed("/api/v1/retention/run"), `{"dry_run":false}`, 200},
			{access.ManageWorkspace, "GET", fixed(contact + "/export"), "", 200},
			{access.ManageWorkspace, "GET", fixed(contact + "/export?format=csv"), "", 200},
			// The erasure worker does not run here: a request stays pending.
			{access.ManageWorkspace, "POST", func() string {
				return fmt.Sprintf("/api/v1/contacts/%d/erase", newContact(t, st, ws, unique("Erin ")).ID)
			}, `{"confirm":true}`, 202},
			{access.ManageWorkspace, "GET", fixed("/api/v1/erasures"), "", 200},
			{access.ManageWorkspace, "GET", func() string {
				r, err := st.CreateErasureRequest(ctx(t), ws, store.NewErasureRequest{Source: store.ErasureByMeta})
				must(t, err)
				return fmt.Sprintf("/api/v1/erasures/%d", r.ID)
			}, "", 200},
			{access.ManageWorkspace, "GET", fixed("/api/v1/export"), "", 200},
		}
		for _, rt := range routes {
			for _, caller := range callers {
				path, body := rt.path(), rt.body
				if body == "" && rt.method == "POST" && rt.status == 201 {
					// Creations need a name nobody took yet.
					switch {
					case strings.HasSuffix(path, "/teams"), strings.HasSuffix(path, "/labels"):
						body = fmt.Sprintf(`{"name":%q}`, unique("new "))
					case strings.HasSuffix(path, "/canned_responses"):
						body = fmt.Sprintf(`{"short_code":%q,"content":"x"}`, unique("new"))
					case strings.HasSuffix(path, "/invitations"):
						body = fmt.Sprintf(`{"email":%q}`, unique("invitee")+"@example.com")
					}
				}
				t.Run(fmt.Sprintf("%s %s as %s", rt.method, path, caller.name), func(t *testing.T) {
					c := client{t: t, base: base, token: caller.token}
					before := latestSeq(t, st, ws)
					r := c.do(rt.method, path, body)
					if access.Can(caller.role, rt.need) {
						r.ok(t, rt.status, nil)
						return
					}
					e := r.wantError(t, http.StatusForbidden, "forbidden", "")
					if !strings.Contains(e.Error.Message, string(rt.need)) {
						t.Errorf("403 message %q does not name %s", e.Error.Message, rt.need)
					}
					if after := latestSeq(t, st, ws); after != before {
						t.Errorf("a refused request appended events %d..%d", before+1, after)
					}
				})
			}
		}
	})
}

func fixed(path string) func() string { return func() string { return path } }

func latestSeq(t testing.TB, st store.Store, workspaceID int64) int64 {
	t.Helper()
	page, err := st.EventsAfter(ctx(t), workspaceID, 0, 1)
	must(t, err)
	return page.LatestSeq
}

// TestPusherAuthAgentChannels: every member may subscribe to their own
// agent channel, where the relay tells them of assignments and mentions,
// and to no one else's, whatever their role.
func TestPusherAuthAgentChannels(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		srv := httptest.NewServer(api.NewPusherAuth(st, api.Options{}))
		t.Cleanup(srv.Close)
		a := newTenant(t, st)
		agent, agentToken := member(t, st, a, store.RoleAgent, "")
		const sock = "123.456"
		for _, tc := range []struct {
			name, token string
			agentID     int64
			status      int
		}{
			{"agent, own channel", agentToken, agent.ID, 200},
			{"agent, the owner's channel", agentToken, a.agent.ID, 403},
			{"owner, own channel", a.token, a.agent.ID, 200},
			{"owner, an agent's channel", a.token, agent.ID, 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ch := fmt.Sprintf("private-agent-%d", tc.agentID)
				r := postAuth(t, srv.URL, tc.token, sock, ch)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d", r.status, tc.status)
				}
				if want := a.ws.AppKey + ":" + hub.Sign(a.ws.AppSecret, sock+":"+ch); tc.status == 200 && r.Auth != want {
					t.Errorf("auth %q, want %q", r.Auth, want)
				}
			})
		}
	})
}
