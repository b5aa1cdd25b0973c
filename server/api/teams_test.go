package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type teamJSON struct {
	ID          int64   `json:"id"`
	WorkspaceID int64   `json:"workspace_id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	AgentIDs    []int64 `json:"agent_ids"`
}

func TestAgents(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		mate, agentToken := member(t, st, a, store.RoleAgent, "")
		newTenant(t, st) // another workspace's owner is not listed
		var list struct {
			Agents []struct {
				ID    int64  `json:"id"`
				Email string `json:"email"`
				Name  string `json:"name"`
				Role  string `json:"role"`
			} `json:"agents"`
		}
		client{t: t, base: base, token: agentToken}.do("GET", "/api/v1/agents", "").ok(t, http.StatusOK, &list)
		got := map[int64]string{}
		for _, ag := range list.Agents {
			got[ag.ID] = ag.Role
		}
		want := map[int64]string{a.agent.ID: "owner", mate.ID: "agent"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("agents %+v, want ids and roles %v", list.Agents, want)
		}
	})
}

func TestTeams(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		mate, _ := member(t, st, a, store.RoleAgent, "")

		var billing teamJSON
		c.do("POST", "/api/v1/teams", `{"name":" Billing ","description":"money"}`).ok(t, http.StatusCreated, &billing)
		if billing.ID == 0 || billing.Name != "Billing" || billing.Description != "money" || billing.WorkspaceID != a.ws.ID || billing.AgentIDs == nil {
			t.Fatalf("created %+v", billing)
		}
		team := fmt.Sprintf("/api/v1/teams/%d", billing.ID)
		c.do("POST", "/api/v1/teams", `{"name":"Sales"}`).ok(t, http.StatusCreated, nil)

		var got teamJSON
		c.do("GET", team, "").ok(t, http.StatusOK, &got)
		if got.ID != billing.ID || got.Name != "Billing" {
			t.Fatalf("get %+v", got)
		}

		t.Run("members", func(t *testing.T) {
			var withMembers teamJSON
			c.do("PUT", fmt.Sprintf("%s/members/%d", team, mate.ID), "").ok(t, http.StatusOK, nil)
			c.do("PUT", fmt.Sprintf("%s/members/%d", team, a.agent.ID), "").ok(t, http.StatusOK, nil)
			c.do("PUT", fmt.Sprintf("%s/members/%d", team, mate.ID), "").ok(t, http.StatusOK, &withMembers) // twice is fine
			want := []int64{min(mate.ID, a.agent.ID), max(mate.ID, a.agent.ID)}
			if !slices.Equal(withMembers.AgentIDs, want) {
				t.Fatalf("members %v, want %v", withMembers.AgentIDs, want)
			}
			var without teamJSON
			c.do("DELETE", fmt.Sprintf("%s/members/%d", team, mate.ID), "").ok(t, http.StatusOK, &without)
			c.do("DELETE", fmt.Sprintf("%s/members/%d", team, mate.ID), "").ok(t, http.StatusOK, &without) // twice is fine
			if !slices.Equal(without.AgentIDs, []int64{a.agent.ID}) {
				t.Fatalf("members after removal %v", without.AgentIDs)
			}
		})

		t.Run("update", func(t *testing.T) {
			var renamed teamJSON
			c.do("PATCH", team, `{"name":"Finance"}`).ok(t, http.StatusOK, &renamed)
			if renamed.Name != "Finance" || renamed.Description != "money" || !slices.Equal(renamed.AgentIDs, []int64{a.agent.ID}) {
				t.Fatalf("renamed %+v", renamed)
			}
			c.do("PATCH", team, `{"description":""}`).ok(t, http.StatusOK, &renamed)
			if renamed.Name != "Finance" || renamed.Description != "" {
				t.Fatalf("after clearing the description %+v", renamed)
			}
		})

		t.Run("list", func(t *testing.T) {
			var list struct {
				Teams []teamJSON `json:"teams"`
			}
			c.do("GET", "/api/v1/teams", "").ok(t, http.StatusOK, &list)
			var names []string
			for _, tm := range list.Teams {
				names = append(names, tm.Name)
			}
			if !slices.Equal(names, []string{"Finance", "Sales"}) {
				t.Fatalf("teams %v, want [Finance Sales]", names)
			}
		})

		t.Run("delete unroutes its conversations", func(t *testing.T) {
			conv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)
			c.do("PATCH", conv, fmt.Sprintf(`{"team_id":%d}`, billing.ID)).ok(t, http.StatusOK, nil)
			seq := latestSeq(t, st, a.ws.ID)
			r := c.do("DELETE", team, "")
			r.ok(t, http.StatusNoContent, nil)
			if len(r.body) != 0 {
				t.Errorf("204 with body %q", r.body)
			}
			var routed store.Conversation
			c.do("GET", conv, "").ok(t, http.StatusOK, &routed)
			if routed.TeamID != 0 {
				t.Fatalf("conversation still routed to team %d", routed.TeamID)
			}
			var page eventList
			c.do("GET", fmt.Sprintf("/api/v1/events?after=%d", seq), "").ok(t, http.StatusOK, &page)
			var kinds []string
			for _, e := range page.Events {
				kinds = append(kinds, e.Kind)
			}
			if want := []string{store.EventConversationUpdated, store.EventTeamDeleted}; !slices.Equal(kinds, want) {
				t.Fatalf("events %v, want %v", kinds, want)
			}
			c.do("GET", team, "").wantError(t, http.StatusNotFound, "not_found", "")
			c.do("DELETE", team, "").wantError(t, http.StatusNotFound, "not_found", "")
		})
	})
}

func TestTeamBadRequests(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		b := newTenant(t, st)
		taken := newTeam(t, st, a.ws.ID)
		other := newTeam(t, st, a.ws.ID)
		team := fmt.Sprintf("/api/v1/teams/%d", other.ID)
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"malformed JSON", "POST", "/api/v1/teams", `{"name":`, 400, "malformed_json", ""},
			{"unknown field", "POST", "/api/v1/teams", `{"name":"x","colour":"red"}`, 400, "unknown_field", "colour"},
			{"wrong type", "POST", "/api/v1/teams", `{"name":7}`, 400, "invalid", "name"},
			{"empty name", "POST", "/api/v1/teams", `{"name":"  "}`, 400, "invalid", "name"},
			{"long description", "POST", "/api/v1/teams", `{"name":"x","description":"` + strings.Repeat("d", store.MaxDescriptionBytes+1) + `"}`, 400, "invalid", "description"},
			{"duplicate name", "POST", "/api/v1/teams", fmt.Sprintf(`{"name":%q}`, taken.Name), 409, "conflict", "name"},
			{"rename to a taken name", "PATCH", team, fmt.Sprintf(`{"name":%q}`, taken.Name), 409, "conflict", "name"},
			{"null name", "PATCH", team, `{"name":null}`, 400, "invalid", "name"},
			{"empty patch", "PATCH", team, `{}`, 400, "invalid", ""},
			{"patch unknown field", "PATCH", team, `{"members":[1]}`, 400, "unknown_field", "members"},
			{"unknown team", "GET", "/api/v1/teams/999999999", "", 404, "not_found", ""},
			{"non-numeric id", "GET", "/api/v1/teams/abc", "", 404, "not_found", ""},
			{"patch unknown team", "PATCH", "/api/v1/teams/999999999", `{"name":"x"}`, 404, "not_found", ""},
			{"delete unknown team", "DELETE", "/api/v1/teams/999999999", "", 404, "not_found", ""},
			{"member of unknown team", "PUT", fmt.Sprintf("/api/v1/teams/999999999/members/%d", a.agent.ID), "", 404, "not_found", ""},
			{"agent of another workspace", "PUT", fmt.Sprintf("%s/members/%d", team, b.agent.ID), "", 400, "invalid", "agent_id"},
			{"non-numeric agent", "PUT", team + "/members/olive", "", 404, "not_found", ""},
			{"post to a team", "POST", team, `{}`, 405, "method_not_allowed", ""},
			{"get a membership", "GET", fmt.Sprintf("%s/members/%d", team, a.agent.ID), "", 405, "method_not_allowed", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
		got, err := st.Team(ctx(t), a.ws.ID, other.ID)
		must(t, err)
		if got.Name != other.Name || len(got.AgentIDs) != 0 {
			t.Errorf("refused requests changed the team: %+v", got)
		}
	})
}
