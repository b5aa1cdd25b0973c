package storetest

import (
	"slices"
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
