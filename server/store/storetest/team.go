package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testTeams(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	billing, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: " Billing ", Description: "money"})
	must(t, err)
	if billing.ID == 0 || billing.Name != "Billing" {
		t.Fatalf("team %+v", billing)
	}
	_, err = s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Billing"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateTeam(c, b.ws.ID, store.NewTeam{Name: "Billing"})
	must(t, err) // names are per workspace
	_, err = s.CreateTeam(c, a.ws.ID, store.NewTeam{})
	wantInvalid(t, err, "name")

	must(t, s.AddTeamMember(c, a.ws.ID, billing.ID, a.owner.ID))
	must(t, s.AddTeamMember(c, a.ws.ID, billing.ID, a.owner.ID))
	wantInvalid(t, s.AddTeamMember(c, a.ws.ID, billing.ID, b.owner.ID), "agent_id")
	wantErr(t, s.AddTeamMember(c, b.ws.ID, billing.ID, b.owner.ID), store.ErrNotFound)

	teams, err := s.ListTeams(c, a.ws.ID)
	must(t, err)
	if len(teams) != 1 || teams[0].ID != billing.ID || !slices.Equal(teams[0].AgentIDs, []int64{a.owner.ID}) {
		t.Fatalf("teams %+v", teams)
	}

	// Routing a conversation to the team, and filtering by it.
	other := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	conv, _, err := s.UpdateConversation(c, a.ws.ID, a.conv.ID, store.ConversationUpdate{TeamID: &billing.ID})
	must(t, err)
	if conv.TeamID != billing.ID {
		t.Fatalf("team %d, want %d", conv.TeamID, billing.ID)
	}
	page, err := s.ListConversations(c, a.ws.ID, store.ConversationFilter{TeamID: billing.ID})
	must(t, err)
	if got := ids(page.Conversations); !slices.Equal(got, []int64{a.conv.ID}) {
		t.Fatalf("team filter: %v, want [%d] (not %d)", got, a.conv.ID, other.ID)
	}
	bTeams, err := s.ListTeams(c, b.ws.ID)
	must(t, err)
	_, _, err = s.UpdateConversation(c, a.ws.ID, a.conv.ID, store.ConversationUpdate{TeamID: &bTeams[0].ID})
	wantInvalid(t, err, "team_id")
}

func testCannedResponses(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	for _, code := range []string{"refund", "refund-late", "hello"} {
		_, err := s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: code, Content: "text for " + code})
		must(t, err)
	}
	_, err := s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: "hello", Content: "again"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: "two words", Content: "x"})
	wantInvalid(t, err, "short_code")
	_, err = s.CreateCannedResponse(c, b.ws.ID, store.CannedResponse{ShortCode: "refund", Content: "B's"})
	must(t, err)

	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"hello", "refund", "refund-late"}},
		{"ref", []string{"refund", "refund-late"}},
		{"refund-", []string{"refund-late"}},
		{"%", nil},
		{"REF", nil},
	} {
		t.Run("prefix "+tc.prefix, func(t *testing.T) {
			list, err := s.ListCannedResponses(c, a.ws.ID, tc.prefix)
			must(t, err)
			var got []string
			for _, r := range list {
				got = append(got, r.ShortCode)
				if r.WorkspaceID != a.ws.ID {
					t.Fatalf("response of workspace %d", r.WorkspaceID)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// mark returns the workspace's latest seq, to read the events appended
// after it with since.
func mark(t testing.TB, s store.Store, workspaceID int64) int64 {
	t.Helper()
	page, err := s.EventsAfter(ctx(t), workspaceID, 0, 1)
	must(t, err)
	return page.LatestSeq
}

// since returns the kinds of the events appended after seq, and the events.
func since(t testing.TB, s store.Store, workspaceID, seq int64) ([]string, []store.Event) {
	t.Helper()
	evs := allEvents(t, s, workspaceID, seq, store.MaxEventPage)
	kinds := make([]string, len(evs))
	for i, ev := range evs {
		kinds[i] = ev.Kind
	}
	return kinds, evs
}

// payload decodes an event's payload into a T.
func payload[T any](t testing.TB, ev store.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Payload, &v); err != nil {
		t.Fatalf("%s payload %s: %v", ev.Kind, ev.Payload, err)
	}
	return v
}

// wantKinds fails unless the events after seq are exactly want, and
// returns them.
func wantKinds(t testing.TB, s store.Store, workspaceID, seq int64, want ...string) []store.Event {
	t.Helper()
	kinds, evs := since(t, s, workspaceID, seq)
	if !slices.Equal(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	return evs
}

func testTeamChanges(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	member, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("member") + "@example.com", Role: store.RoleAgent})
	must(t, err)

	seq := mark(t, s, a.ws.ID)
	sales, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Sales", Description: " deals "})
	must(t, err)
	if sales.Description != "deals" || sales.AgentIDs == nil || len(sales.AgentIDs) != 0 || sales.WorkspaceID != a.ws.ID {
		t.Fatalf("created %+v", sales)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventTeamCreated)
	if got := payload[store.TeamPayload](t, evs[0]).Team; got.ID != sales.ID || got.Name != "Sales" {
		t.Fatalf("team.created carries %+v", got)
	}
	got, err := s.Team(c, a.ws.ID, sales.ID)
	must(t, err)
	if got.Name != "Sales" || !got.CreatedAt.Equal(sales.CreatedAt) {
		t.Fatalf("Team = %+v, want %+v", got, sales)
	}
	_, err = s.Team(c, b.ws.ID, sales.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Team(c, a.ws.ID, 1<<40)
	wantErr(t, err, store.ErrNotFound)

	t.Run("update", func(t *testing.T) {
		_, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Support"})
		must(t, err)
		seq := mark(t, s, a.ws.ID)
		renamed, err := s.UpdateTeam(c, a.ws.ID, sales.ID, store.TeamUpdate{Name: ptr(" Revenue ")})
		must(t, err)
		if renamed.Name != "Revenue" || renamed.Description != "deals" {
			t.Fatalf("renamed %+v", renamed)
		}
		evs := wantKinds(t, s, a.ws.ID, seq, store.EventTeamUpdated)
		if got := payload[store.TeamPayload](t, evs[0]).Team; got.Name != "Revenue" {
			t.Fatalf("team.updated carries %+v", got)
		}
		seq = mark(t, s, a.ws.ID)
		_, err = s.UpdateTeam(c, a.ws.ID, sales.ID, store.TeamUpdate{Name: ptr("Support")})
		wantErr(t, err, store.ErrConflict)
		_, err = s.UpdateTeam(c, a.ws.ID, sales.ID, store.TeamUpdate{Name: ptr("  ")})
		wantInvalid(t, err, "name")
		_, err = s.UpdateTeam(c, a.ws.ID, sales.ID, store.TeamUpdate{Description: ptr(strings.Repeat("x", store.MaxDescriptionBytes+1))})
		wantInvalid(t, err, "description")
		_, err = s.UpdateTeam(c, b.ws.ID, sales.ID, store.TeamUpdate{Name: ptr("B's now")})
		wantErr(t, err, store.ErrNotFound)
		wantKinds(t, s, a.ws.ID, seq) // refused changes append nothing
		described, err := s.UpdateTeam(c, a.ws.ID, sales.ID, store.TeamUpdate{Description: ptr("")})
		must(t, err)
		if described.Name != "Revenue" || described.Description != "" {
			t.Fatalf("after clearing the description: %+v", described)
		}
	})

	t.Run("members", func(t *testing.T) {
		seq := mark(t, s, a.ws.ID)
		must(t, s.AddTeamMember(c, a.ws.ID, sales.ID, member.ID))
		must(t, s.AddTeamMember(c, a.ws.ID, sales.ID, a.owner.ID))
		must(t, s.AddTeamMember(c, a.ws.ID, sales.ID, member.ID)) // again: no event
		evs := wantKinds(t, s, a.ws.ID, seq, store.EventTeamUpdated, store.EventTeamUpdated)
		want := []int64{min(a.owner.ID, member.ID), max(a.owner.ID, member.ID)}
		if got := payload[store.TeamPayload](t, evs[1]).Team.AgentIDs; !slices.Equal(got, want) {
			t.Fatalf("members in the event %v, want %v", got, want)
		}
		seq = mark(t, s, a.ws.ID)
		must(t, s.RemoveTeamMember(c, a.ws.ID, sales.ID, member.ID))
		must(t, s.RemoveTeamMember(c, a.ws.ID, sales.ID, member.ID))  // again: no event
		must(t, s.RemoveTeamMember(c, a.ws.ID, sales.ID, b.owner.ID)) // never a member
		evs = wantKinds(t, s, a.ws.ID, seq, store.EventTeamUpdated)
		if got := payload[store.TeamPayload](t, evs[0]).Team.AgentIDs; !slices.Equal(got, []int64{a.owner.ID}) {
			t.Fatalf("members after removal %v, want [%d]", got, a.owner.ID)
		}
		team, err := s.Team(c, a.ws.ID, sales.ID)
		must(t, err)
		if !slices.Equal(team.AgentIDs, []int64{a.owner.ID}) {
			t.Fatalf("members %v, want [%d]", team.AgentIDs, a.owner.ID)
		}
		wantErr(t, s.RemoveTeamMember(c, b.ws.ID, sales.ID, a.owner.ID), store.ErrNotFound)
		wantErr(t, s.RemoveTeamMember(c, a.ws.ID, 1<<40, a.owner.ID), store.ErrNotFound)
	})
}

func testDeleteTeam(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	team, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Billing"})
	must(t, err)
	must(t, s.AddTeamMember(c, a.ws.ID, team.ID, a.owner.ID))
	second := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	untouched := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	for _, id := range []int64{second.ID, a.conv.ID} {
		_, _, err := s.UpdateConversation(c, a.ws.ID, id, store.ConversationUpdate{TeamID: &team.ID, Priority: ptr(store.PriorityHigh)})
		must(t, err)
	}

	wantErr(t, s.DeleteTeam(c, b.ws.ID, team.ID), store.ErrNotFound)
	seq := mark(t, s, a.ws.ID)
	must(t, s.DeleteTeam(c, a.ws.ID, team.ID))
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventConversationUpdated, store.EventConversationUpdated, store.EventTeamDeleted)
	for i, want := range []int64{a.conv.ID, second.ID} { // ascending ids
		p := payload[store.ConversationPayload](t, evs[i])
		if evs[i].ConversationID != want || p.Conversation.ID != want || p.Conversation.TeamID != 0 ||
			p.Conversation.Priority != store.PriorityHigh || !slices.Equal(p.Changed, []string{"team_id"}) {
			t.Fatalf("event %d: conversation %d payload %+v, want conversation %d unrouted", i, evs[i].ConversationID, p, want)
		}
		stored, err := s.Conversation(c, a.ws.ID, want)
		must(t, err)
		if !conversationsEqual(stored, p.Conversation) {
			t.Fatalf("stored %+v, event says %+v", stored, p.Conversation)
		}
	}
	if got := payload[store.TeamPayload](t, evs[2]).Team; got.ID != team.ID || !slices.Equal(got.AgentIDs, []int64{a.owner.ID}) {
		t.Fatalf("team.deleted carries %+v", got)
	}
	after, err := s.Conversation(c, a.ws.ID, untouched.ID)
	must(t, err)
	if !conversationsEqual(after, untouched) {
		t.Fatalf("a conversation of no team changed: %+v", after)
	}
	_, err = s.Team(c, a.ws.ID, team.ID)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteTeam(c, a.ws.ID, team.ID), store.ErrNotFound)
	wantErr(t, s.AddTeamMember(c, a.ws.ID, team.ID, a.owner.ID), store.ErrNotFound)
	teams, err := s.ListTeams(c, a.ws.ID)
	must(t, err)
	if len(teams) != 0 {
		t.Fatalf("teams after delete: %+v", teams)
	}
	// The name is free again.
	_, err = s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Billing"})
	must(t, err)
}

func testCannedResponseChanges(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	seq := mark(t, s, a.ws.ID)
	hello, err := s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: "hello", Content: "Hi there"})
	must(t, err)
	if hello.ID == 0 || hello.WorkspaceID != a.ws.ID || !hello.UpdatedAt.Equal(hello.CreatedAt) {
		t.Fatalf("created %+v", hello)
	}
	_, err = s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: "bye", Content: "Bye"})
	must(t, err)
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventCannedResponseCreated, store.EventCannedResponseCreated)
	if got := payload[store.CannedResponsePayload](t, evs[0]).CannedResponse; got.ID != hello.ID || got.Content != "Hi there" {
		t.Fatalf("canned_response.created carries %+v", got)
	}

	seq = mark(t, s, a.ws.ID)
	edited, err := s.UpdateCannedResponse(c, a.ws.ID, hello.ID, store.CannedResponseUpdate{Content: ptr("Hello!")})
	must(t, err)
	if edited.ShortCode != "hello" || edited.Content != "Hello!" || edited.UpdatedAt.Before(hello.UpdatedAt) || !edited.CreatedAt.Equal(hello.CreatedAt) {
		t.Fatalf("edited %+v", edited)
	}
	recoded, err := s.UpdateCannedResponse(c, a.ws.ID, hello.ID, store.CannedResponseUpdate{ShortCode: ptr("hi")})
	must(t, err)
	if recoded.ShortCode != "hi" || recoded.Content != "Hello!" {
		t.Fatalf("recoded %+v", recoded)
	}
	evs = wantKinds(t, s, a.ws.ID, seq, store.EventCannedResponseUpdated, store.EventCannedResponseUpdated)
	if got := payload[store.CannedResponsePayload](t, evs[1]).CannedResponse; got.ShortCode != "hi" {
		t.Fatalf("canned_response.updated carries %+v", got)
	}

	seq = mark(t, s, a.ws.ID)
	_, err = s.UpdateCannedResponse(c, a.ws.ID, hello.ID, store.CannedResponseUpdate{ShortCode: ptr("bye")})
	wantErr(t, err, store.ErrConflict)
	_, err = s.UpdateCannedResponse(c, a.ws.ID, hello.ID, store.CannedResponseUpdate{ShortCode: ptr("two words")})
	wantInvalid(t, err, "short_code")
	_, err = s.UpdateCannedResponse(c, a.ws.ID, hello.ID, store.CannedResponseUpdate{Content: ptr(" ")})
	wantInvalid(t, err, "content")
	_, err = s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: strings.Repeat("x", store.MaxShortCodeBytes+1), Content: "x"})
	wantInvalid(t, err, "short_code")
	_, err = s.UpdateCannedResponse(c, b.ws.ID, hello.ID, store.CannedResponseUpdate{Content: ptr("B's")})
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteCannedResponse(c, b.ws.ID, hello.ID), store.ErrNotFound)
	wantKinds(t, s, a.ws.ID, seq) // refused changes append nothing

	must(t, s.DeleteCannedResponse(c, a.ws.ID, hello.ID))
	evs = wantKinds(t, s, a.ws.ID, seq, store.EventCannedResponseDeleted)
	if got := payload[store.CannedResponsePayload](t, evs[0]).CannedResponse; got.ID != hello.ID || got.ShortCode != "hi" {
		t.Fatalf("canned_response.deleted carries %+v", got)
	}
	wantErr(t, s.DeleteCannedResponse(c, a.ws.ID, hello.ID), store.ErrNotFound)
	_, err = s.UpdateCannedResponse(c, a.ws.ID, hello.ID, store.CannedResponseUpdate{Content: ptr("x")})
	wantErr(t, err, store.ErrNotFound)
	list, err := s.ListCannedResponses(c, a.ws.ID, "")
	must(t, err)
	if len(list) != 1 || list[0].ShortCode != "bye" {
		t.Fatalf("after delete: %+v", list)
	}
}
