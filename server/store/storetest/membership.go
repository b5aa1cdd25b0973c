package storetest

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// actor is a member acting with its own role, through no token.
func actor(a store.Agent) store.Actor { return store.Actor{AgentID: a.ID, Role: a.Role} }

func addMember(t testing.TB, s store.Store, workspaceID int64, role store.Role) store.Agent {
	t.Helper()
	a, err := s.CreateAgent(ctx(t), workspaceID, store.NewAgent{Email: unique(string(role)) + "@example.com", Name: "Member", Role: role})
	must(t, err)
	return a
}

// auditActions returns the actions of the workspace's audit log, oldest
// first.
func auditActions(t testing.TB, s store.Store, workspaceID int64) ([]string, []store.AuditEntry) {
	t.Helper()
	page, err := s.ListAudit(ctx(t), workspaceID, store.AuditFilter{Limit: store.MaxPageSize})
	must(t, err)
	slices.Reverse(page.Entries)
	out := make([]string, len(page.Entries))
	for i, e := range page.Entries {
		out[i] = e.Action
	}
	return out, page.Entries
}

func details(t testing.TB, e store.AuditEntry) map[string]any {
	t.Helper()
	var d map[string]any
	must(t, json.Unmarshal(e.Details, &d))
	return d
}

func testInvitations(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	admin := addMember(t, s, a.ws.ID, store.RoleAdmin)
	owner := actor(a.owner)

	seq := mark(t, s, a.ws.ID)
	before := store.Now()
	inv, err := s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: " Newbie@Example.com "}, store.Actor{AgentID: a.owner.ID, TokenID: 77, Role: store.RoleOwner})
	must(t, err)
	if inv.ID == 0 || inv.WorkspaceID != a.ws.ID || inv.Email != "Newbie@Example.com" || inv.Role != store.RoleAgent || inv.InvitedBy != a.owner.ID ||
		inv.ExpiresAt.Sub(inv.CreatedAt) != store.DefaultInvitationTTL || inv.CreatedAt.Before(before) || inv.Status(store.Now()) != store.InvitationPending {
		t.Fatalf("invitation %+v: want the defaults (agent, 7 days)", inv)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventInvitationCreated)
	if got := payload[store.InvitationPayload](t, evs[0]).Invitation; got.ID != inv.ID || got.Email != inv.Email {
		t.Fatalf("invitation.created carries %+v", got)
	}
	actions, entries := auditActions(t, s, a.ws.ID)
	if !slices.Equal(actions, []string{store.AuditInvitationCreated}) {
		t.Fatalf("audit %v", actions)
	}
	if e := entries[0]; e.ActorKind != store.AuditActorAgent || e.ActorID != a.owner.ID || e.TokenID != 77 ||
		e.TargetKind != store.AuditTargetInvitation || e.TargetID != inv.ID || details(t, e)["email"] != inv.Email {
		t.Fatalf("audit entry %+v %s", e, e.Details)
	}

	t.Run("inviting again replaces", func(t *testing.T) {
		seq := mark(t, s, a.ws.ID)
		again, err := s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: "newbie@example.COM", Role: store.RoleAdmin, ExpiresIn: 48 * time.Hour}, owner)
		must(t, err)
		if again.ID == inv.ID || again.Role != store.RoleAdmin || again.ExpiresAt.Sub(again.CreatedAt) != 48*time.Hour {
			t.Fatalf("second invitation %+v", again)
		}
		evs := wantKinds(t, s, a.ws.ID, seq, store.EventInvitationRevoked, store.EventInvitationCreated)
		if got := payload[store.InvitationPayload](t, evs[0]).Invitation; got.ID != inv.ID || got.RevokedAt == nil {
			t.Fatalf("invitation.revoked carries %+v", got)
		}
		list, err := s.ListInvitations(c, a.ws.ID)
		must(t, err)
		if len(list) != 1 || list[0].ID != again.ID {
			t.Fatalf("outstanding %+v, want only the replacement", list)
		}
		_, entries := auditActions(t, s, a.ws.ID)
		if got := details(t, entries[len(entries)-1])["replaced"]; !slices.Equal(got.([]any), []any{float64(inv.ID)}) {
			t.Fatalf("audit replaced %v", got)
		}
		inv = again
	})

	t.Run("refused", func(t *testing.T) {
		seq := mark(t, s, a.ws.ID)
		for _, tc := range []struct {
			name  string
			in    store.NewInvitation
			field string
		}{
			{"bad email", store.NewInvitation{Email: "nope"}, "email"},
			{"unknown role", store.NewInvitation{Email: "x@example.com", Role: "god"}, "role"},
			{"too long", store.NewInvitation{Email: "x@example.com", ExpiresIn: store.MaxInvitationTTL + time.Second}, "expires_in"},
			{"negative", store.NewInvitation{Email: "x@example.com", ExpiresIn: -time.Hour}, "expires_in"},
		} {
			_, err := s.CreateInvitation(c, a.ws.ID, tc.in, owner)
			wantInvalid(t, err, tc.field)
		}
		_, err := s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: strings.ToUpper(admin.Email)}, owner)
		wantErr(t, err, store.ErrAlreadyMember)
		wantErr(t, err, store.ErrConflict)
		// The rank rule: an admin does not invite owners.
		_, err = s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: "boss@example.com", Role: store.RoleOwner}, actor(admin))
		wantErr(t, err, store.ErrForbidden)
		_, err = s.CreateInvitation(c, a.ws.ID+1_000_000, store.NewInvitation{Email: "x@example.com"}, store.Actor{})
		wantErr(t, err, store.ErrNotFound)
		wantNoEvents(t, s, a.ws.ID, seq)
	})

	t.Run("revoke", func(t *testing.T) {
		ownerInv, err := s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: unique("boss") + "@example.com", Role: store.RoleOwner}, owner)
		must(t, err)
		seq := mark(t, s, a.ws.ID)
		_, err = s.RevokeInvitation(c, b.ws.ID, inv.ID, store.Actor{})
		wantErr(t, err, store.ErrNotFound)
		_, err = s.RevokeInvitation(c, a.ws.ID, ownerInv.ID, actor(admin))
		wantErr(t, err, store.ErrForbidden)
		wantNoEvents(t, s, a.ws.ID, seq)

		got, err := s.RevokeInvitation(c, a.ws.ID, inv.ID, actor(admin))
		must(t, err)
		if got.RevokedAt == nil || got.Status(store.Now()) != store.InvitationRevoked {
			t.Fatalf("revoked %+v", got)
		}
		wantKinds(t, s, a.ws.ID, seq, store.EventInvitationRevoked)
		seq = mark(t, s, a.ws.ID)
		_, err = s.RevokeInvitation(c, a.ws.ID, inv.ID, actor(admin))
		must(t, err)
		wantNoEvents(t, s, a.ws.ID, seq)
		list, err := s.ListInvitations(c, a.ws.ID)
		must(t, err)
		if len(list) != 1 || list[0].ID != ownerInv.ID {
			t.Fatalf("outstanding %+v, want only the owner invitation", list)
		}
		if other, err := s.ListInvitations(c, b.ws.ID); err != nil || len(other) != 0 {
			t.Fatalf("B's invitations %+v, %v", other, err)
		}
		actions, _ := auditActions(t, s, a.ws.ID)
		if actions[len(actions)-1] != store.AuditInvitationRevoked {
			t.Fatalf("audit %v", actions)
		}
	})
}

func testJoinByEmail(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b, expired, byDomain, otherDomain := newFixture(t, s), newFixture(t, s), newFixture(t, s), newFixture(t, s), newFixture(t, s)
	domain := unique("acme") + ".test"
	_, err := s.UpdateWorkspace(c, byDomain.ws.ID, store.WorkspaceUpdate{AutoJoinDomain: ptr(strings.ToUpper(domain))}, actor(byDomain.owner))
	must(t, err)
	_, err = s.UpdateWorkspace(c, otherDomain.ws.ID, store.WorkspaceUpdate{AutoJoinDomain: ptr("other-" + domain)}, actor(otherDomain.owner))
	must(t, err)
	email := unique("Joiner") + "@Example.com"
	invA, err := s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: email, Role: store.RoleAdmin}, actor(a.owner))
	must(t, err)
	_, err = s.CreateInvitation(c, b.ws.ID, store.NewInvitation{Email: strings.ToLower(email)}, actor(b.owner))
	must(t, err)
	old, err := s.CreateInvitation(c, expired.ws.ID, store.NewInvitation{Email: email, ExpiresIn: time.Millisecond}, actor(expired.owner))
	must(t, err)
	for store.Now().Before(old.ExpiresAt) { // a millisecond
		time.Sleep(time.Millisecond)
	}
	seqs := map[int64]int64{}
	for _, f := range []fixture{a, b, expired, byDomain, otherDomain} {
		seqs[f.ws.ID] = mark(t, s, f.ws.ID)
	}

	t.Run("unverified joins nothing", func(t *testing.T) {
		got, err := s.JoinByEmail(c, email, false, domain)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("memberships %+v", got)
		}
		wantNoEvents(t, s, a.ws.ID, seqs[a.ws.ID])
		wantNoEvents(t, s, byDomain.ws.ID, seqs[byDomain.ws.ID])
	})

	t.Run("a stranger joins nothing", func(t *testing.T) {
		got, err := s.JoinByEmail(c, unique("stranger")+"@example.com", true, "")
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("memberships %+v", got)
		}
		_, err = s.JoinByEmail(c, "not an email", true, "")
		wantInvalid(t, err, "email")
	})

	var agentID int64
	t.Run("verified", func(t *testing.T) {
		got, err := s.JoinByEmail(c, strings.ToUpper(email), true, strings.ToUpper(domain))
		must(t, err)
		type m struct {
			ws   int64
			role store.Role
		}
		var have []m
		for _, ms := range got {
			have = append(have, m{ms.Workspace.ID, ms.Role})
			if ms.Agent.Role != ms.Role || ms.Agent.ID != got[0].Agent.ID || !strings.EqualFold(ms.Agent.Email, email) {
				t.Errorf("membership %+v", ms)
			}
		}
		want := []m{{a.ws.ID, store.RoleAdmin}, {b.ws.ID, store.RoleAgent}, {byDomain.ws.ID, store.RoleAgent}}
		if !slices.Equal(have, want) {
			t.Fatalf("memberships %v, want %v (the expired invitation and the other domain not joined)", have, want)
		}
		agentID = got[0].Agent.ID

		evs := wantKinds(t, s, a.ws.ID, seqs[a.ws.ID], store.EventMemberAdded, store.EventInvitationAccepted)
		if p := payload[store.MemberPayload](t, evs[0]); p.Member.ID != agentID || p.Member.Role != store.RoleAdmin || p.Via != store.JoinedByInvitation {
			t.Errorf("member.added carries %+v", p)
		}
		if p := payload[store.InvitationPayload](t, evs[1]).Invitation; p.ID != invA.ID || p.AcceptedBy != agentID || p.AcceptedAt == nil {
			t.Errorf("invitation.accepted carries %+v", p)
		}
		evs = wantKinds(t, s, byDomain.ws.ID, seqs[byDomain.ws.ID], store.EventMemberAdded)
		if p := payload[store.MemberPayload](t, evs[0]); p.Via != store.JoinedByDomain || p.Member.Role != store.RoleAgent {
			t.Errorf("member.added by domain carries %+v", p)
		}
		wantNoEvents(t, s, expired.ws.ID, seqs[expired.ws.ID])
		wantNoEvents(t, s, otherDomain.ws.ID, seqs[otherDomain.ws.ID])

		if list, err := s.ListInvitations(c, a.ws.ID); err != nil || len(list) != 0 {
			t.Errorf("A's outstanding invitations after acceptance: %+v, %v", list, err)
		}
		list, err := s.ListInvitations(c, expired.ws.ID)
		must(t, err)
		if len(list) != 1 || list[0].Status(store.Now()) != store.InvitationExpired {
			t.Errorf("the expired invitation: %+v", list)
		}
		if _, err := s.RevokeInvitation(c, a.ws.ID, invA.ID, actor(a.owner)); !errors.Is(err, store.ErrConflict) {
			t.Errorf("revoking an accepted invitation: %v, want ErrConflict", err)
		}

		actions, entries := auditActions(t, s, a.ws.ID)
		if last := entries[len(entries)-1]; actions[len(actions)-1] != store.AuditInvitationAccepted || last.ActorID != agentID {
			t.Errorf("A's audit %v, last %+v", actions, last)
		}
		actions, entries = auditActions(t, s, byDomain.ws.ID)
		if last := entries[len(entries)-1]; actions[len(actions)-1] != store.AuditMemberJoined || details(t, last)["domain"] != domain {
			t.Errorf("domain workspace's audit %v, last %s", actions, last.Details)
		}
	})

	t.Run("again changes nothing", func(t *testing.T) {
		seq := mark(t, s, a.ws.ID)
		got, err := s.JoinByEmail(c, email, true, domain)
		must(t, err)
		if len(got) != 3 || got[0].Agent.ID != agentID {
			t.Fatalf("memberships %+v", got)
		}
		wantNoEvents(t, s, a.ws.ID, seq)
		// Without the domain the person is still a member where they
		// joined by it: membership is not re-checked at sign-in.
		if got, err := s.JoinByEmail(c, email, true, ""); err != nil || len(got) != 3 {
			t.Fatalf("memberships without hd: %d, %v", len(got), err)
		}
	})

	t.Run("an existing member joins by invitation too", func(t *testing.T) {
		member := addMember(t, s, b.ws.ID, store.RoleAgent)
		other := newFixture(t, s)
		_, err := s.CreateInvitation(c, other.ws.ID, store.NewInvitation{Email: member.Email, Role: store.RoleAdmin}, actor(other.owner))
		must(t, err)
		got, err := s.JoinByEmail(c, member.Email, true, "")
		must(t, err)
		if len(got) != 2 || got[0].Workspace.ID != b.ws.ID || got[1].Workspace.ID != other.ws.ID || got[1].Role != store.RoleAdmin {
			t.Fatalf("memberships %+v", got)
		}
	})
}

func testSetRole(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	admin := addMember(t, s, a.ws.ID, store.RoleAdmin)
	agent := addMember(t, s, a.ws.ID, store.RoleAgent)
	owner := actor(a.owner)

	seq := mark(t, s, a.ws.ID)
	got, err := s.SetRole(c, a.ws.ID, agent.ID, store.RoleAdmin, actor(admin))
	must(t, err)
	if got.ID != agent.ID || got.Role != store.RoleAdmin {
		t.Fatalf("after promotion %+v", got)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventMemberUpdated)
	if p := payload[store.MemberPayload](t, evs[0]); p.Member.Role != store.RoleAdmin || p.PreviousRole != store.RoleAgent {
		t.Fatalf("member.updated carries %+v", p)
	}
	actions, entries := auditActions(t, s, a.ws.ID)
	if d := details(t, entries[len(entries)-1]); actions[len(actions)-1] != store.AuditMemberRoleChanged || d["from"] != "agent" || d["to"] != "admin" {
		t.Fatalf("audit %v %v", actions, d)
	}

	seq = mark(t, s, a.ws.ID)
	_, err = s.SetRole(c, a.ws.ID, agent.ID, store.RoleAdmin, owner)
	must(t, err)
	wantNoEvents(t, s, a.ws.ID, seq) // unchanged

	for _, tc := range []struct {
		name    string
		agentID int64
		role    store.Role
		by      store.Actor
		want    error
	}{
		{"the last owner", a.owner.ID, store.RoleAdmin, owner, store.ErrLastOwner},
		{"an admin granting owner", agent.ID, store.RoleOwner, actor(admin), store.ErrForbidden},
		{"an admin demoting an owner", a.owner.ID, store.RoleAgent, actor(admin), store.ErrForbidden},
		{"an owner acting through an admin token", agent.ID, store.RoleOwner, store.Actor{AgentID: a.owner.ID, TokenID: 1, Role: store.RoleAdmin}, store.ErrForbidden},
		{"another workspace", b.owner.ID, store.RoleAgent, owner, store.ErrNotFound},
		{"unknown", agent.ID + 1_000_000, store.RoleAgent, owner, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.SetRole(c, a.ws.ID, tc.agentID, tc.role, tc.by)
			wantErr(t, err, tc.want)
		})
	}
	_, err = s.SetRole(c, a.ws.ID, agent.ID, "god", owner)
	wantInvalid(t, err, "role")
	wantNoEvents(t, s, a.ws.ID, seq)
	if got, err := s.Agent(c, b.ws.ID, b.owner.ID); err != nil || got.Role != store.RoleOwner {
		t.Fatalf("B's owner %+v, %v", got, err)
	}

	// A second owner lets the first step down.
	_, err = s.SetRole(c, a.ws.ID, admin.ID, store.RoleOwner, owner)
	must(t, err)
	_, err = s.SetRole(c, a.ws.ID, a.owner.ID, store.RoleAgent, owner)
	must(t, err)
	_, err = s.SetRole(c, a.ws.ID, admin.ID, store.RoleAgent, store.Actor{AgentID: admin.ID, Role: store.RoleOwner})
	wantErr(t, err, store.ErrLastOwner)
}

func testRemoveMember(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	owner := actor(a.owner)
	admin := addMember(t, s, a.ws.ID, store.RoleAdmin)
	leaver := addMember(t, s, a.ws.ID, store.RoleAgent)
	// The same person in B keeps their place there.
	inB, err := s.CreateAgent(c, b.ws.ID, store.NewAgent{Email: leaver.Email, Role: store.RoleAgent})
	must(t, err)
	_, bToken, err := s.CreateAPIToken(c, b.ws.ID, store.NewAPIToken{AgentID: inB.ID})
	must(t, err)
	_, token, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: leaver.ID, Name: "laptop"})
	must(t, err)
	_, _, err = s.UpdateConversation(c, a.ws.ID, a.conv.ID, store.ConversationUpdate{AssigneeID: &leaver.ID})
	must(t, err)
	team, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Support"})
	must(t, err)
	must(t, s.AddTeamMember(c, a.ws.ID, team.ID, leaver.ID))
	must(t, s.AddTeamMember(c, a.ws.ID, team.ID, admin.ID))
	_, err = s.MarkRead(c, a.ws.ID, a.conv.ID, leaver.ID)
	must(t, err)

	seq := mark(t, s, a.ws.ID)
	for _, tc := range []struct {
		name    string
		agentID int64
		by      store.Actor
		want    error
	}{
		{"the last owner", a.owner.ID, owner, store.ErrLastOwner},
		{"an owner by an admin", a.owner.ID, actor(admin), store.ErrForbidden},
		{"another workspace's member", b.owner.ID, owner, store.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, s.RemoveMember(c, a.ws.ID, tc.agentID, tc.by), tc.want)
		})
	}
	wantNoEvents(t, s, a.ws.ID, seq)

	must(t, s.RemoveMember(c, a.ws.ID, leaver.ID, actor(admin)))
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventConversationUpdated, store.EventTeamUpdated, store.EventMemberRemoved)
	if p := payload[store.ConversationPayload](t, evs[0]); p.Conversation.AssigneeID != 0 || !slices.Equal(p.Changed, []string{"assignee_id"}) {
		t.Errorf("conversation.updated carries %+v", p)
	}
	if p := payload[store.TeamPayload](t, evs[1]).Team; !slices.Equal(p.AgentIDs, []int64{admin.ID}) {
		t.Errorf("team.updated carries %+v", p)
	}
	if p := payload[store.MemberPayload](t, evs[2]).Member; p.ID != leaver.ID || p.Role != store.RoleAgent {
		t.Errorf("member.removed carries %+v", p)
	}
	conv, err := s.Conversation(c, a.ws.ID, a.conv.ID)
	must(t, err)
	if conv.AssigneeID != 0 {
		t.Errorf("conversation still assigned to %d", conv.AssigneeID)
	}
	_, err = s.Agent(c, a.ws.ID, leaver.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.AuthenticateToken(c, token)
	wantErr(t, err, store.ErrUnauthenticated)
	if tokens, err := s.ListAPITokens(c, a.ws.ID, leaver.ID); err != nil || len(tokens) != 0 {
		t.Errorf("the leaver's tokens: %+v, %v", tokens, err)
	}
	if p, err := s.AuthenticateToken(c, bToken); err != nil || p.Workspace.ID != b.ws.ID {
		t.Errorf("the leaver's token in B: %+v, %v", p, err)
	}
	actions, entries := auditActions(t, s, a.ws.ID)
	last := entries[len(entries)-1]
	if d := details(t, last); actions[len(actions)-1] != store.AuditMemberRemoved || last.TargetID != leaver.ID || last.ActorID != admin.ID || d["tokens"] != float64(1) {
		t.Errorf("audit %v, last %+v %s", actions, last, last.Details)
	}
	wantErr(t, s.RemoveMember(c, a.ws.ID, leaver.ID, owner), store.ErrNotFound)

	// Invited back, the person joins afresh, with no old token.
	_, err = s.CreateInvitation(c, a.ws.ID, store.NewInvitation{Email: leaver.Email}, owner)
	must(t, err)
	ms, err := s.JoinByEmail(c, leaver.Email, true, "")
	must(t, err)
	if len(ms) != 2 {
		t.Fatalf("memberships after rejoining: %+v", ms)
	}
	_, err = s.AuthenticateToken(c, token)
	wantErr(t, err, store.ErrUnauthenticated)
}

// testLastOwnerConcurrent: of two owners each demoted or removed at the
// same moment, one change wins and the other is ErrLastOwner — the
// workspace never ends up without an owner.
func testLastOwnerConcurrent(t *testing.T, s store.Store) {
	c := ctx(t)
	for round := range 6 {
		f := newFixture(t, s)
		second := addMember(t, s, f.ws.ID, store.RoleOwner)
		owners := []int64{f.owner.ID, second.ID}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, id := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if round%2 == 0 {
					_, errs[i] = s.SetRole(c, f.ws.ID, id, store.RoleAdmin, store.Actor{})
				} else {
					errs[i] = s.RemoveMember(c, f.ws.ID, id, store.Actor{})
				}
			}()
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			if errors.Is(err, store.ErrLastOwner) {
				failed++
			} else if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		list, err := s.ListAgents(c, f.ws.ID)
		must(t, err)
		left := slices.IndexFunc(list, func(a store.Agent) bool { return a.Role == store.RoleOwner })
		if failed != 1 || left < 0 {
			t.Fatalf("round %d: %d changes refused, members %+v: want one refused and an owner left", round, failed, list)
		}
	}
}

func testAPITokenManagement(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	admin := addMember(t, s, a.ws.ID, store.RoleAdmin)
	agent := addMember(t, s, a.ws.ID, store.RoleAgent)

	ownTok, _, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: admin.ID, Name: "ci", By: store.Actor{AgentID: admin.ID, TokenID: 5, Role: store.RoleAdmin}})
	must(t, err)
	forAgent, _, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: agent.ID, Name: "bot", Role: store.RoleOwner, By: actor(admin)})
	must(t, err)
	if forAgent.Role != store.RoleAgent {
		t.Errorf("token role %q, want capped at the agent's", forAgent.Role)
	}
	// An owner acting through an agent token mints agent tokens only.
	weak, _, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: a.owner.ID, By: store.Actor{AgentID: a.owner.ID, TokenID: 9, Role: store.RoleAgent}})
	must(t, err)
	if weak.Role != store.RoleAgent {
		t.Errorf("token role %q, want capped at the creator's effective role", weak.Role)
	}
	_, _, err = s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: a.owner.ID, By: actor(admin)})
	wantErr(t, err, store.ErrForbidden)
	_, _, err = s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: agent.ID, Name: strings.Repeat("n", store.MaxTokenNameBytes+1)})
	wantInvalid(t, err, "name")

	all, err := s.ListAPITokens(c, a.ws.ID, 0)
	must(t, err)
	if ids := tokenIDs(all); !slices.Equal(ids, []int64{weak.ID, forAgent.ID, ownTok.ID}) {
		t.Fatalf("tokens %v, want newest first", ids)
	}
	mine, err := s.ListAPITokens(c, a.ws.ID, admin.ID)
	must(t, err)
	if len(mine) != 1 || mine[0] != ownTok {
		t.Fatalf("admin's tokens %+v, want %+v", mine, ownTok)
	}
	if other, err := s.ListAPITokens(c, b.ws.ID, 0); err != nil || len(other) != 0 {
		t.Fatalf("B's tokens %+v, %v", other, err)
	}

	_, err = s.RevokeAPIToken(c, a.ws.ID, weak.ID, actor(admin))
	wantErr(t, err, store.ErrForbidden) // an owner's token
	_, err = s.APIToken(c, b.ws.ID, forAgent.ID)
	wantErr(t, err, store.ErrNotFound)
	revoked, err := s.RevokeAPIToken(c, a.ws.ID, forAgent.ID, store.Actor{AgentID: admin.ID, TokenID: ownTok.ID, Role: store.RoleAdmin})
	must(t, err)
	if revoked.ID != forAgent.ID || revoked.AgentID != agent.ID || revoked.RevokedAt == nil {
		t.Fatalf("revoked %+v", revoked)
	}
	got, err := s.APIToken(c, a.ws.ID, forAgent.ID)
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(*revoked.RevokedAt) {
		t.Fatalf("token after revoking %+v", got)
	}
	all, err = s.ListAPITokens(c, a.ws.ID, 0)
	must(t, err)
	if slices.Contains(tokenIDs(all), forAgent.ID) {
		t.Fatal("a revoked token is listed")
	}

	// The system (a command-line bootstrap) mints tokens too.
	_, _, err = s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: a.owner.ID})
	must(t, err)

	actions, entries := auditActions(t, s, a.ws.ID)
	if !slices.Equal(actions, []string{store.AuditTokenCreated, store.AuditTokenCreated, store.AuditTokenCreated, store.AuditTokenRevoked, store.AuditTokenCreated}) {
		t.Fatalf("audit %v", actions)
	}
	if e := entries[0]; e.ActorKind != store.AuditActorAgent || e.ActorID != admin.ID || e.TokenID != 5 || e.TargetID != ownTok.ID || details(t, e)["name"] != "ci" {
		t.Fatalf("token.created entry %+v %s", e, e.Details)
	}
	if e := entries[3]; e.ActorID != admin.ID || e.TokenID != ownTok.ID || e.TargetID != forAgent.ID || details(t, e)["agent_id"] != float64(agent.ID) {
		t.Fatalf("token.revoked entry %+v %s", e, e.Details)
	}
	if e := entries[4]; e.ActorKind != store.AuditActorSystem || e.ActorID != 0 || e.TokenID != 0 {
		t.Fatalf("the system's token.created %+v", e)
	}
}

func tokenIDs(ts []store.APIToken) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func testAudit(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	for i := range 5 {
		must(t, s.RecordAudit(c, a.ws.ID, store.AuditEntry{ActorID: a.owner.ID, Action: store.AuditSignIn,
			Details: json.RawMessage(`{"n":` + string(rune('0'+i)) + `}`)}))
	}
	must(t, s.RecordAudit(c, a.ws.ID, store.AuditEntry{Action: "custom", TargetKind: "thing", TargetID: 3}))

	var seen []int64
	f := store.AuditFilter{Limit: 4}
	for {
		page, err := s.ListAudit(c, a.ws.ID, f)
		must(t, err)
		for _, e := range page.Entries {
			seen = append(seen, e.ID)
			if e.WorkspaceID != a.ws.ID || e.CreatedAt.IsZero() {
				t.Errorf("entry %+v", e)
			}
		}
		if page.NextBefore == 0 {
			break
		}
		f.Before = page.NextBefore
	}
	if len(seen) != 6 || !slices.IsSortedFunc(seen, func(x, y int64) int { return cmp.Compare(y, x) }) {
		t.Fatalf("paged %v: want 6 entries, newest first", seen)
	}
	page, err := s.ListAudit(c, a.ws.ID, store.AuditFilter{Action: "custom"})
	must(t, err)
	if len(page.Entries) != 1 {
		t.Fatalf("filtered %+v", page.Entries)
	}
	if e := page.Entries[0]; e.ActorKind != store.AuditActorSystem || e.TargetKind != "thing" || e.TargetID != 3 || string(e.Details) != "{}" {
		t.Fatalf("entry %+v %s", e, e.Details)
	}
	page, err = s.ListAudit(c, a.ws.ID, store.AuditFilter{Action: store.AuditSignIn, Limit: 1})
	must(t, err)
	if e := page.Entries[0]; e.ActorKind != store.AuditActorAgent || e.ActorID != a.owner.ID || !jsonEqual(e.Details, []byte(`{"n":4}`)) {
		t.Fatalf("newest sign-in %+v %s", e, e.Details)
	}
	if other, err := s.ListAudit(c, b.ws.ID, store.AuditFilter{Action: store.AuditSignIn}); err != nil || len(other.Entries) != 0 {
		t.Fatalf("B's audit %+v, %v", other, err)
	}

	for _, tc := range []struct {
		name  string
		e     store.AuditEntry
		field string
	}{
		{"no action", store.AuditEntry{}, "action"},
		{"long action", store.AuditEntry{Action: strings.Repeat("a", store.MaxAuditActionBytes+1)}, "action"},
		{"details not an object", store.AuditEntry{Action: "x", Details: json.RawMessage(`[1]`)}, "details"},
		{"details too long", store.AuditEntry{Action: "x", Details: json.RawMessage(`{"k":"` + strings.Repeat("x", store.MaxAuditDetailsBytes) + `"}`)}, "details"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, s.RecordAudit(c, a.ws.ID, tc.e), tc.field)
		})
	}
	wantErr(t, s.RecordAudit(c, a.ws.ID+1_000_000, store.AuditEntry{Action: "x"}), store.ErrNotFound)
}

func testUpdateWorkspace(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	owner := actor(a.owner)

	seq := mark(t, s, a.ws.ID)
	w, err := s.UpdateWorkspace(c, a.ws.ID, store.WorkspaceUpdate{Name: ptr(" Acme Support "), AutoJoinDomain: ptr("@Acme.Test")}, owner)
	must(t, err)
	if w.Name != "Acme Support" || w.AutoJoinDomain != "acme.test" || w.AppSecret != a.ws.AppSecret {
		t.Fatalf("updated %+v", w)
	}
	got, err := s.Workspace(c, a.ws.ID)
	must(t, err)
	if got.Name != w.Name || got.AutoJoinDomain != w.AutoJoinDomain {
		t.Fatalf("read back %+v", got)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventWorkspaceUpdated)
	if p := payload[store.WorkspacePayload](t, evs[0]); p.ID != a.ws.ID || p.AutoJoinDomain != "acme.test" || !slices.Equal(p.Changed, []string{"name", "auto_join_domain"}) {
		t.Fatalf("workspace.updated carries %+v", p)
	}
	if strings.Contains(string(evs[0].Payload), a.ws.AppSecret) {
		t.Fatal("workspace.updated carries the app secret")
	}

	seq = mark(t, s, a.ws.ID)
	_, err = s.UpdateWorkspace(c, a.ws.ID, store.WorkspaceUpdate{Name: ptr("Acme Support")}, owner)
	must(t, err)
	wantNoEvents(t, s, a.ws.ID, seq)
	for _, tc := range []struct {
		name  string
		u     store.WorkspaceUpdate
		field string
	}{
		{"empty name", store.WorkspaceUpdate{Name: ptr(" ")}, "name"},
		{"not a domain", store.WorkspaceUpdate{AutoJoinDomain: ptr("acme")}, "auto_join_domain"},
		{"an email", store.WorkspaceUpdate{AutoJoinDomain: ptr("me@acme.test")}, "auto_join_domain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.UpdateWorkspace(c, a.ws.ID, tc.u, owner)
			wantInvalid(t, err, tc.field)
		})
	}
	_, err = s.UpdateWorkspace(c, a.ws.ID+1_000_000, store.WorkspaceUpdate{Name: ptr("x")}, owner)
	wantErr(t, err, store.ErrNotFound)

	w, err = s.UpdateWorkspace(c, a.ws.ID, store.WorkspaceUpdate{AutoJoinDomain: ptr("")}, owner)
	must(t, err)
	if w.AutoJoinDomain != "" {
		t.Fatalf("auto-join not cleared: %+v", w)
	}
	if other, err := s.Workspace(c, b.ws.ID); err != nil || other.Name != b.ws.Name {
		t.Fatalf("B changed: %+v, %v", other, err)
	}
	actions, _ := auditActions(t, s, a.ws.ID)
	if actions[len(actions)-1] != store.AuditWorkspaceUpdated {
		t.Fatalf("audit %v", actions)
	}
}
