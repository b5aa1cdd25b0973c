package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// revocations records the OnAccessRevoked calls of a server.
type revocations struct {
	mu    sync.Mutex
	calls []string
}

func (r *revocations) record(workspaceID, agentID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%d/%d", workspaceID, agentID))
}

// take returns the calls so far and forgets them.
func (r *revocations) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

func newRevokingServer(t testing.TB, st store.Store) (string, *revocations) {
	t.Helper()
	rv := &revocations{}
	base, _ := newServerWith(t, st, api.Options{OnAccessRevoked: rv.record})
	return base, rv
}

type memberReply struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

func TestMembers(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, rv := newRevokingServer(t, st)
		a := newTenant(t, st)
		owner := client{t: t, base: base, token: a.token}
		_, adminToken := member(t, st, a, store.RoleAdmin, "")
		asAdmin := client{t: t, base: base, token: adminToken}
		mate, mateToken := member(t, st, a, store.RoleAgent, "")
		memberPath := func(id int64) string { return fmt.Sprintf("/api/v1/members/%d", id) }

		var list struct {
			Members []memberReply `json:"members"`
		}
		client{t: t, base: base, token: mateToken}.do("GET", "/api/v1/members", "").ok(t, http.StatusOK, &list)
		if len(list.Members) != 3 {
			t.Fatalf("members %+v", list.Members)
		}

		t.Run("role changes", func(t *testing.T) {
			var got memberReply
			asAdmin.do("PATCH", memberPath(mate.ID), `{"role":"admin"}`).ok(t, http.StatusOK, &got)
			if got.ID != mate.ID || got.Role != "admin" {
				t.Fatalf("promoted %+v", got)
			}
			asAdmin.do("PATCH", memberPath(mate.ID), `{"role":"agent"}`).ok(t, http.StatusOK, &got)
			e := asAdmin.do("PATCH", memberPath(mate.ID), `{"role":"owner"}`).wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(e.Error.Message, "manage_owners") {
				t.Errorf("403 %q does not name manage_owners", e.Error.Message)
			}
			asAdmin.do("PATCH", memberPath(a.agent.ID), `{"role":"agent"}`).wantError(t, http.StatusForbidden, "forbidden", "")
			owner.do("PATCH", memberPath(a.agent.ID), `{"role":"admin"}`).wantError(t, http.StatusConflict, "conflict", "role")
			if rv := rv.take(); len(rv) != 0 {
				t.Errorf("a role change closed connections: %v", rv)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for _, tc := range []struct {
				path, body string
				status     int
				code       string
				field      string
			}{
				{memberPath(mate.ID), `{}`, 400, "invalid", "role"},
				{memberPath(mate.ID), `{"role":"god"}`, 400, "invalid", "role"},
				{memberPath(mate.ID), `{"role":7}`, 400, "invalid", "role"},
				{memberPath(mate.ID), `{"role":"agent","name":"x"}`, 400, "unknown_field", "name"},
				{"/api/v1/members/abc", `{"role":"agent"}`, 404, "not_found", ""},
				{memberPath(mate.ID + 1_000_000), `{"role":"agent"}`, 404, "not_found", ""},
			} {
				owner.do("PATCH", tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			}
			owner.do("DELETE", memberPath(mate.ID+1_000_000), "").wantError(t, http.StatusNotFound, "not_found", "")
		})

		t.Run("removal", func(t *testing.T) {
			asAdmin.do("DELETE", memberPath(a.agent.ID), "").wantError(t, http.StatusForbidden, "forbidden", "")
			owner.do("DELETE", memberPath(a.agent.ID), "").wantError(t, http.StatusConflict, "conflict", "")
			if rv := rv.take(); len(rv) != 0 {
				t.Errorf("refused removals closed connections: %v", rv)
			}
			asAdmin.do("DELETE", memberPath(mate.ID), "").ok(t, http.StatusNoContent, nil)
			if got, want := rv.take(), []string{fmt.Sprintf("%d/%d", a.ws.ID, mate.ID)}; !slices.Equal(got, want) {
				t.Errorf("OnAccessRevoked calls %v, want %v", got, want)
			}
			client{t: t, base: base, token: mateToken}.do("GET", "/api/v1/me", "").wantError(t, http.StatusUnauthorized, "unauthenticated", "")
			asAdmin.do("DELETE", memberPath(mate.ID), "").wantError(t, http.StatusNotFound, "not_found", "")
		})
	})
}

type invitationReply struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	InvitedBy int64     `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func TestInvitations(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		owner := client{t: t, base: base, token: a.token}
		_, adminToken := member(t, st, a, store.RoleAdmin, "")
		asAdmin := client{t: t, base: base, token: adminToken}
		mate, _ := member(t, st, a, store.RoleAgent, "")

		var inv invitationReply
		asAdmin.do("POST", "/api/v1/invitations", `{"email":"new@example.com"}`).ok(t, http.StatusCreated, &inv)
		if inv.ID == 0 || inv.Email != "new@example.com" || inv.Role != "agent" || inv.Status != "pending" ||
			inv.ExpiresAt.Sub(inv.CreatedAt) != 7*24*time.Hour {
			t.Fatalf("invitation %+v", inv)
		}
		var again invitationReply
		owner.do("POST", "/api/v1/invitations", `{"email":"NEW@example.com","role":"owner","expires_in_days":30}`).ok(t, http.StatusCreated, &again)
		if again.Role != "owner" || again.ExpiresAt.Sub(again.CreatedAt) != 30*24*time.Hour {
			t.Fatalf("replacement %+v", again)
		}
		var list struct {
			Invitations []invitationReply `json:"invitations"`
		}
		asAdmin.do("GET", "/api/v1/invitations", "").ok(t, http.StatusOK, &list)
		if len(list.Invitations) != 1 || list.Invitations[0].ID != again.ID {
			t.Fatalf("outstanding %+v, want the replacement only", list.Invitations)
		}

		t.Run("bad input", func(t *testing.T) {
			for _, tc := range []struct {
				body   string
				status int
				code   string
				field  string
			}{
				{`{}`, 400, "invalid", "email"},
				{`{"email":"not-an-email"}`, 400, "invalid", "email"},
				{`{"email":"x@example.com","role":"god"}`, 400, "invalid", "role"},
				{`{"email":"x@example.com","expires_in_days":31}`, 400, "invalid", "expires_in_days"},
				{`{"email":"x@example.com","expires_in_days":-1}`, 400, "invalid", "expires_in_days"},
				{`{"email":"x@example.com","expires_in_days":"7"}`, 400, "invalid", "expires_in_days"},
				{`{"email":"x@example.com","team":1}`, 400, "unknown_field", "team"},
				{fmt.Sprintf(`{"email":%q}`, strings.ToUpper(mate.Email)), 409, "conflict", "email"},
			} {
				t.Run(tc.body, func(t *testing.T) {
					owner.do("POST", "/api/v1/invitations", tc.body).wantError(t, tc.status, tc.code, tc.field)
				})
			}
			e := asAdmin.do("POST", "/api/v1/invitations", `{"email":"boss@example.com","role":"owner"}`).wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(e.Error.Message, "manage_owners") {
				t.Errorf("403 %q does not name manage_owners", e.Error.Message)
			}
			// The outstanding owner invitation is an admin's to leave.
			asAdmin.do("DELETE", fmt.Sprintf("/api/v1/invitations/%d", again.ID), "").wantError(t, http.StatusForbidden, "forbidden", "")
			owner.do("DELETE", "/api/v1/invitations/abc", "").wantError(t, http.StatusNotFound, "not_found", "")
			owner.do("DELETE", fmt.Sprintf("/api/v1/invitations/%d", again.ID+1_000_000), "").wantError(t, http.StatusNotFound, "not_found", "")
		})

		t.Run("revoke", func(t *testing.T) {
			path := fmt.Sprintf("/api/v1/invitations/%d", again.ID)
			owner.do("DELETE", path, "").ok(t, http.StatusNoContent, nil)
			owner.do("DELETE", path, "").ok(t, http.StatusNoContent, nil)
			asAdmin.do("GET", "/api/v1/invitations", "").ok(t, http.StatusOK, &list)
			if len(list.Invitations) != 0 {
				t.Fatalf("outstanding after revoking %+v", list.Invitations)
			}
		})

		t.Run("accepted", func(t *testing.T) {
			var inv invitationReply
			asAdmin.do("POST", "/api/v1/invitations", `{"email":"joiner@example.com","role":"admin"}`).ok(t, http.StatusCreated, &inv)
			ms, err := st.JoinByEmail(ctx(t), "joiner@example.com", true, "")
			must(t, err)
			if len(ms) != 1 || ms[0].Workspace.ID != a.ws.ID || ms[0].Role != store.RoleAdmin {
				t.Fatalf("memberships %+v", ms)
			}
			owner.do("DELETE", fmt.Sprintf("/api/v1/invitations/%d", inv.ID), "").wantError(t, http.StatusConflict, "conflict", "")
			owner.do("POST", "/api/v1/invitations", `{"email":"joiner@example.com"}`).wantError(t, http.StatusConflict, "conflict", "email")
		})
	})
}

type tokenReply struct {
	ID      int64  `json:"id"`
	AgentID int64  `json:"agent_id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Token   string `json:"token"`
}

func TestTokens(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, rv := newRevokingServer(t, st)
		a := newTenant(t, st)
		owner := client{t: t, base: base, token: a.token}
		admin, adminToken := member(t, st, a, store.RoleAdmin, "")
		asAdmin := client{t: t, base: base, token: adminToken}
		mate, mateToken := member(t, st, a, store.RoleAgent, "")
		asMate := client{t: t, base: base, token: mateToken}
		other, _ := member(t, st, a, store.RoleAgent, "")
		var list struct {
			Tokens []tokenReply `json:"tokens"`
		}

		// An agent creates, lists and revokes its own tokens.
		var made tokenReply
		r := asMate.do("POST", "/api/v1/tokens", `{"name":"extension"}`)
		r.ok(t, http.StatusCreated, &made)
		if made.ID == 0 || made.AgentID != mate.ID || made.Role != "agent" || !strings.HasPrefix(made.Token, store.TokenPrefix) {
			t.Fatalf("created %s", r.body)
		}
		var me struct {
			Agent struct {
				ID int64 `json:"id"`
			} `json:"agent"`
		}
		client{t: t, base: base, token: made.Token}.do("GET", "/api/v1/me", "").ok(t, http.StatusOK, &me)
		if me.Agent.ID != mate.ID {
			t.Fatalf("the new token acts as %d", me.Agent.ID)
		}
		r = asMate.do("GET", "/api/v1/tokens", "")
		r.ok(t, http.StatusOK, &list)
		if bytes.Contains(r.body, []byte(made.Token)) || bytes.Contains(r.body, []byte("hash")) || bytes.Contains(r.body, []byte(`"token"`)) {
			t.Errorf("the list shows a secret: %s", r.body)
		}
		if len(list.Tokens) != 2 || list.Tokens[0].ID != made.ID || list.Tokens[1].AgentID != mate.ID {
			t.Fatalf("the agent's tokens %+v, want its two, newest first", list.Tokens)
		}
		asMate.do("GET", fmt.Sprintf("/api/v1/tokens?agent_id=%d", admin.ID), "").wantError(t, http.StatusForbidden, "forbidden", "")
		asAdmin.do("GET", "/api/v1/tokens", "").ok(t, http.StatusOK, &list)
		if len(list.Tokens) != 5 {
			t.Fatalf("everyone's tokens %+v, want 5", list.Tokens)
		}
		asAdmin.do("GET", fmt.Sprintf("/api/v1/tokens?agent_id=%d", mate.ID), "").ok(t, http.StatusOK, &list)
		if len(list.Tokens) != 2 {
			t.Fatalf("the agent's tokens as seen by an admin %+v", list.Tokens)
		}

		asMate.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", made.ID), "").ok(t, http.StatusNoContent, nil)
		if got, want := rv.take(), []string{fmt.Sprintf("%d/%d", a.ws.ID, mate.ID)}; !slices.Equal(got, want) {
			t.Errorf("OnAccessRevoked calls %v, want %v", got, want)
		}
		client{t: t, base: base, token: made.Token}.do("GET", "/api/v1/me", "").wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		asMate.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", made.ID), "").ok(t, http.StatusNoContent, nil)
		rv.take()

		t.Run("others' tokens", func(t *testing.T) {
			var forOther tokenReply
			asAdmin.do("POST", "/api/v1/tokens", fmt.Sprintf(`{"name":"bot","agent_id":%d}`, other.ID)).ok(t, http.StatusCreated, &forOther)
			if forOther.AgentID != other.ID || forOther.Role != "agent" {
				t.Fatalf("token for another %+v", forOther)
			}
			asMate.do("POST", "/api/v1/tokens", fmt.Sprintf(`{"name":"bot","agent_id":%d}`, other.ID)).wantError(t, http.StatusForbidden, "forbidden", "")
			asMate.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", forOther.ID), "").wantError(t, http.StatusForbidden, "forbidden", "")
			e := asAdmin.do("POST", "/api/v1/tokens", fmt.Sprintf(`{"name":"bot","agent_id":%d}`, a.agent.ID)).wantError(t, http.StatusForbidden, "forbidden", "")
			if !strings.Contains(e.Error.Message, "manage_owners") {
				t.Errorf("403 %q does not name manage_owners", e.Error.Message)
			}
			owner.do("GET", fmt.Sprintf("/api/v1/tokens?agent_id=%d", a.agent.ID), "").ok(t, http.StatusOK, &list)
			asAdmin.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", list.Tokens[0].ID), "").wantError(t, http.StatusForbidden, "forbidden", "")
			if got := rv.take(); len(got) != 0 {
				t.Errorf("refused revocations closed connections: %v", got)
			}
			asAdmin.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", forOther.ID), "").ok(t, http.StatusNoContent, nil)
			if got, want := rv.take(), []string{fmt.Sprintf("%d/%d", a.ws.ID, other.ID)}; !slices.Equal(got, want) {
				t.Errorf("OnAccessRevoked calls %v, want %v", got, want)
			}
		})

		t.Run("roles", func(t *testing.T) {
			var weak tokenReply
			owner.do("POST", "/api/v1/tokens", `{"name":"read only","role":"agent"}`).ok(t, http.StatusCreated, &weak)
			if weak.Role != "agent" {
				t.Fatalf("token %+v", weak)
			}
			asWeak := client{t: t, base: base, token: weak.Token}
			asWeak.do("POST", "/api/v1/tokens", `{"name":"escalate","role":"owner"}`).wantError(t, http.StatusForbidden, "forbidden", "role")
			var mine tokenReply
			asWeak.do("POST", "/api/v1/tokens", `{"name":"same"}`).ok(t, http.StatusCreated, &mine)
			if mine.Role != "agent" || mine.AgentID != a.agent.ID {
				t.Fatalf("a token made with an agent token %+v: want agent", mine)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for _, tc := range []struct {
				body   string
				status int
				code   string
				field  string
			}{
				{`{}`, 400, "invalid", "name"},
				{`{"name":" "}`, 400, "invalid", "name"},
				{`{"name":"x","role":"god"}`, 400, "invalid", "role"},
				{`{"name":"x","agent_id":-1}`, 400, "invalid", "agent_id"},
				{`{"name":"x","agent_id":999999999}`, 400, "invalid", "agent_id"},
				{fmt.Sprintf(`{"name":%q}`, strings.Repeat("n", store.MaxTokenNameBytes+1)), 400, "invalid", "name"},
				{`{"name":"x","scopes":[]}`, 400, "unknown_field", "scopes"},
			} {
				t.Run(tc.body, func(t *testing.T) {
					owner.do("POST", "/api/v1/tokens", tc.body).wantError(t, tc.status, tc.code, tc.field)
				})
			}
			owner.do("GET", "/api/v1/tokens?agent_id=x", "").wantError(t, http.StatusBadRequest, "invalid", "agent_id")
			owner.do("DELETE", "/api/v1/tokens/abc", "").wantError(t, http.StatusNotFound, "not_found", "")
			owner.do("DELETE", "/api/v1/tokens/999999999", "").wantError(t, http.StatusNotFound, "not_found", "")
		})

		t.Run("revoking the token in use", func(t *testing.T) {
			var self tokenReply
			owner.do("POST", "/api/v1/tokens", `{"name":"temporary"}`).ok(t, http.StatusCreated, &self)
			c := client{t: t, base: base, token: self.Token}
			c.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", self.ID), "").ok(t, http.StatusNoContent, nil)
			c.do("GET", "/api/v1/me", "").wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		})
	})
}

func TestAuditLog(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		owner := client{t: t, base: base, token: a.token}
		mate, _ := member(t, st, a, store.RoleAgent, "")
		owner.do("POST", "/api/v1/invitations", `{"email":"audited@example.com"}`).ok(t, http.StatusCreated, nil)
		owner.do("PATCH", fmt.Sprintf("/api/v1/members/%d", mate.ID), `{"role":"admin"}`).ok(t, http.StatusOK, nil)
		must(t, st.RecordAudit(ctx(t), a.ws.ID, store.AuditEntry{ActorID: mate.ID, Action: store.AuditSignIn}))

		type entry struct {
			Action     string         `json:"action"`
			ActorKind  string         `json:"actor_kind"`
			ActorID    int64          `json:"actor_id"`
			TokenID    int64          `json:"token_id"`
			TargetKind string         `json:"target_kind"`
			TargetID   int64          `json:"target_id"`
			Details    map[string]any `json:"details"`
		}
		type auditPage struct {
			Entries    []entry `json:"entries"`
			NextCursor string  `json:"next_cursor"`
		}
		var actions []string
		cursor := ""
		for range 10 {
			var page auditPage
			owner.do("GET", "/api/v1/audit?limit=2&cursor="+cursor, "").ok(t, http.StatusOK, &page)
			for _, e := range page.Entries {
				actions = append(actions, e.Action)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		// The tenant's and members' tokens were minted by the system;
		// then the owner's changes and the sign-in, newest first.
		want := []string{store.AuditSignIn, store.AuditMemberRoleChanged, store.AuditInvitationCreated, store.AuditTokenCreated, store.AuditTokenCreated}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit %v, want %v", actions, want)
		}
		var page auditPage
		owner.do("GET", "/api/v1/audit?action="+store.AuditMemberRoleChanged, "").ok(t, http.StatusOK, &page)
		if len(page.Entries) != 1 {
			t.Fatalf("filtered %+v", page.Entries)
		}
		if e := page.Entries[0]; e.ActorKind != "agent" || e.ActorID != a.agent.ID || e.TokenID == 0 || e.TargetKind != "agent" ||
			e.TargetID != mate.ID || e.Details["from"] != "agent" || e.Details["to"] != "admin" {
			t.Errorf("role change entry %+v", e)
		}
		for _, q := range []string{"cursor=abc", "cursor=-3", "limit=0", "limit=101"} {
			field := strings.Split(q, "=")[0]
			owner.do("GET", "/api/v1/audit?"+q, "").wantError(t, http.StatusBadRequest, "invalid", field)
		}
	})
}

func TestWorkspaceSettings(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		owner := client{t: t, base: base, token: a.token}
		type settings struct {
			ID             int64   `json:"id"`
			Name           string  `json:"name"`
			AppKey         string  `json:"app_key"`
			AutoJoinDomain *string `json:"auto_join_domain"`
		}
		var got settings
		r := owner.do("PATCH", "/api/v1/workspace", `{"name":"Acme Support","auto_join_domain":"Acme.COM"}`)
		r.ok(t, http.StatusOK, &got)
		if got.ID != a.ws.ID || got.Name != "Acme Support" || got.AutoJoinDomain == nil || *got.AutoJoinDomain != "acme.com" || got.AppKey != a.ws.AppKey {
			t.Fatalf("updated %s", r.body)
		}
		if bytes.Contains(r.body, []byte(a.ws.AppSecret)) {
			t.Fatal("the workspace's settings show its app secret")
		}
		owner.do("GET", "/api/v1/workspace", "").ok(t, http.StatusOK, &got)
		if got.Name != "Acme Support" || *got.AutoJoinDomain != "acme.com" {
			t.Fatalf("read back %+v", got)
		}
		owner.do("PATCH", "/api/v1/workspace", `{"auto_join_domain":null}`).ok(t, http.StatusOK, &got)
		if got.AutoJoinDomain != nil || got.Name != "Acme Support" {
			t.Fatalf("after turning auto-join off %+v", got)
		}
		for _, tc := range []struct {
			body   string
			status int
			code   string
			field  string
		}{
			{`{}`, 400, "invalid", ""},
			{`{"name":""}`, 400, "invalid", "name"},
			{`{"name":null}`, 400, "invalid", "name"},
			{`{"auto_join_domain":"not a domain"}`, 400, "invalid", "auto_join_domain"},
			{`{"auto_join_domain":5}`, 400, "invalid", "auto_join_domain"},
			{`{"app_secret":"x"}`, 400, "unknown_field", "app_secret"},
		} {
			t.Run(tc.body, func(t *testing.T) {
				owner.do("PATCH", "/api/v1/workspace", tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
	})
}
