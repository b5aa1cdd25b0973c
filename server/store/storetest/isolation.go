package storetest

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testIsolation checks that workspace B can neither read nor change
// anything of workspace A, and that every refusal is ErrNotFound: B learns
// nothing about whether A's ids exist.
func testIsolation(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	msg := inbound(t, s, a.ws.ID, a.conv.ID, "secret", "wamid.iso")
	team, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "A team"})
	must(t, err)
	label, err := s.CreateLabel(c, a.ws.ID, store.NewLabel{Name: "A label"})
	must(t, err)
	canned, err := s.CreateCannedResponse(c, a.ws.ID, store.CannedResponse{ShortCode: "a-secret", Content: "secret"})
	must(t, err)
	before, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"get conversation", func() error { _, err := s.Conversation(c, b.ws.ID, a.conv.ID); return err }},
		{"update conversation", func() error {
			_, _, err := s.UpdateConversation(c, b.ws.ID, a.conv.ID, store.ConversationUpdate{Status: ptr(store.StatusResolved)})
			return err
		}},
		{"add label", func() error { _, _, err := s.AddLabel(c, b.ws.ID, a.conv.ID, "x"); return err }},
		{"remove label", func() error { _, _, err := s.RemoveLabel(c, b.ws.ID, a.conv.ID, "x"); return err }},
		{"mark read", func() error { _, err := s.MarkRead(c, b.ws.ID, a.conv.ID, b.owner.ID); return err }},
		{"post message", func() error {
			_, err := s.CreateMessage(c, b.ws.ID, store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionIn, Body: "x"})
			return err
		}},
		{"get message", func() error { _, err := s.Message(c, b.ws.ID, msg.Message.ID); return err }},
		{"list messages", func() error {
			_, err := s.ListMessages(c, b.ws.ID, a.conv.ID, store.MessageFilter{})
			return err
		}},
		{"message status", func() error {
			_, _, err := s.UpdateMessageStatus(c, b.ws.ID, msg.Message.ID, store.DeliveryRead, "")
			return err
		}},
		{"get inbox", func() error { _, err := s.Inbox(c, b.ws.ID, a.inbox.ID); return err }},
		{"get contact", func() error { _, err := s.Contact(c, b.ws.ID, a.contact.ID); return err }},
		{"get agent", func() error { _, err := s.Agent(c, b.ws.ID, a.owner.ID); return err }},
		{"get team", func() error { _, err := s.Team(c, b.ws.ID, team.ID); return err }},
		{"update team", func() error {
			_, err := s.UpdateTeam(c, b.ws.ID, team.ID, store.TeamUpdate{Name: ptr("x")})
			return err
		}},
		{"delete team", func() error { return s.DeleteTeam(c, b.ws.ID, team.ID) }},
		{"add team member", func() error { return s.AddTeamMember(c, b.ws.ID, team.ID, b.owner.ID) }},
		{"remove team member", func() error { return s.RemoveTeamMember(c, b.ws.ID, team.ID, a.owner.ID) }},
		{"update label", func() error {
			_, err := s.UpdateLabel(c, b.ws.ID, label.ID, store.LabelUpdate{Name: ptr("x")})
			return err
		}},
		{"delete label", func() error { return s.DeleteLabel(c, b.ws.ID, label.ID) }},
		{"update canned response", func() error {
			_, err := s.UpdateCannedResponse(c, b.ws.ID, canned.ID, store.CannedResponseUpdate{Content: ptr("x")})
			return err
		}},
		{"delete canned response", func() error { return s.DeleteCannedResponse(c, b.ws.ID, canned.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.call(), store.ErrNotFound)
		})
	}

	page, err := s.ListConversations(c, b.ws.ID, store.ConversationFilter{})
	must(t, err)
	if len(page.Conversations) != 1 || page.Conversations[0].ID != b.conv.ID {
		t.Fatalf("B lists %v", ids(page.Conversations))
	}
	hits, err := s.SearchMessages(c, b.ws.ID, "secret", 10)
	must(t, err)
	if len(hits) != 0 {
		t.Fatal("B found A's message by search")
	}
	teams, err := s.ListTeams(c, b.ws.ID)
	must(t, err)
	labels, err := s.ListLabels(c, b.ws.ID)
	must(t, err)
	replies, err := s.ListCannedResponses(c, b.ws.ID, "")
	must(t, err)
	if len(teams) != 0 || len(labels) != 0 || len(replies) != 0 {
		t.Fatalf("B lists A's teams %v, labels %v or canned responses %v", teams, labels, replies)
	}
	after, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)
	if after.LatestSeq != before.LatestSeq {
		t.Fatal("B's refused writes appended events to A's log")
	}
	conv, err := s.Conversation(c, a.ws.ID, a.conv.ID)
	must(t, err)
	if conv.Status != store.StatusOpen || len(conv.Labels) != 0 {
		t.Fatalf("A's conversation changed: %+v", conv)
	}
}
