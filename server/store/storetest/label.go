package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testLabelCatalog(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)

	seq := mark(t, s, a.ws.ID)
	urgent, err := s.CreateLabel(c, a.ws.ID, store.NewLabel{Name: " Urgent ", Color: "#FF0000", Description: "now"})
	must(t, err)
	if urgent.ID == 0 || urgent.Name != "Urgent" || urgent.Color != "#ff0000" || urgent.Description != "now" || urgent.WorkspaceID != a.ws.ID {
		t.Fatalf("created %+v", urgent)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventLabelCreated)
	if got := payload[store.LabelPayload](t, evs[0]).Label; got.ID != urgent.ID || got.Name != urgent.Name || got.Color != urgent.Color || !got.CreatedAt.Equal(urgent.CreatedAt) {
		t.Fatalf("label.created carries %+v, want %+v", got, urgent)
	}
	_, err = s.CreateLabel(c, b.ws.ID, store.NewLabel{Name: "Urgent"})
	must(t, err) // names are per workspace

	for _, tc := range []struct {
		name  string
		label store.NewLabel
		field string
	}{
		{"empty name", store.NewLabel{Name: " "}, "name"},
		{"control character", store.NewLabel{Name: "a\tb"}, "name"},
		{"colour name", store.NewLabel{Name: "x", Color: "red"}, "color"},
		{"short colour", store.NewLabel{Name: "x", Color: "#fff"}, "color"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateLabel(c, a.ws.ID, tc.label)
			wantInvalid(t, err, tc.field)
		})
	}
	_, err = s.CreateLabel(c, a.ws.ID, store.NewLabel{Name: "Urgent"})
	wantErr(t, err, store.ErrConflict)

	// AddLabel creates a label by name, announcing it first.
	seq = mark(t, s, a.ws.ID)
	_, _, err = s.AddLabel(c, a.ws.ID, a.conv.ID, "vip")
	must(t, err)
	evs = wantKinds(t, s, a.ws.ID, seq, store.EventLabelCreated, store.EventConversationUpdated)
	if got := payload[store.LabelPayload](t, evs[0]).Label; got.Name != "vip" || got.ID == 0 {
		t.Fatalf("label.created carries %+v", got)
	}
	seq = mark(t, s, a.ws.ID)
	_, _, err = s.AddLabel(c, a.ws.ID, a.conv.ID, "Urgent")
	must(t, err)
	wantKinds(t, s, a.ws.ID, seq, store.EventConversationUpdated)

	labels, err := s.ListLabels(c, a.ws.ID)
	must(t, err)
	var names []string
	for _, l := range labels {
		names = append(names, l.Name)
	}
	if !slices.Equal(names, []string{"Urgent", "vip"}) {
		t.Fatalf("labels %v, want [Urgent vip]", names)
	}

	t.Run("recolour", func(t *testing.T) {
		seq := mark(t, s, a.ws.ID)
		l, err := s.UpdateLabel(c, a.ws.ID, urgent.ID, store.LabelUpdate{Color: ptr("#00AA00"), Description: ptr("")})
		must(t, err)
		if l.Name != "Urgent" || l.Color != "#00aa00" || l.Description != "" {
			t.Fatalf("recoloured %+v", l)
		}
		// No conversation changed: no conversation.updated.
		evs := wantKinds(t, s, a.ws.ID, seq, store.EventLabelUpdated)
		if p := payload[store.LabelPayload](t, evs[0]); p.PreviousName != "" || p.Label.Color != "#00aa00" {
			t.Fatalf("label.updated carries %+v", p)
		}
	})

	t.Run("rename", func(t *testing.T) {
		other := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
		_, _, err := s.AddLabel(c, a.ws.ID, other.ID, "Urgent")
		must(t, err)
		newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID) // unlabelled
		seq := mark(t, s, a.ws.ID)
		_, err = s.UpdateLabel(c, a.ws.ID, urgent.ID, store.LabelUpdate{Name: ptr("vip")})
		wantErr(t, err, store.ErrConflict)
		_, err = s.UpdateLabel(c, a.ws.ID, urgent.ID, store.LabelUpdate{Name: ptr("")})
		wantInvalid(t, err, "name")
		_, err = s.UpdateLabel(c, b.ws.ID, urgent.ID, store.LabelUpdate{Name: ptr("B's")})
		wantErr(t, err, store.ErrNotFound)
		wantKinds(t, s, a.ws.ID, seq) // refused changes append nothing

		l, err := s.UpdateLabel(c, a.ws.ID, urgent.ID, store.LabelUpdate{Name: ptr("Critical")})
		must(t, err)
		if l.Name != "Critical" || l.Color != "#00aa00" {
			t.Fatalf("renamed %+v", l)
		}
		evs := wantKinds(t, s, a.ws.ID, seq, store.EventConversationUpdated, store.EventConversationUpdated, store.EventLabelUpdated)
		for i, want := range []int64{a.conv.ID, other.ID} {
			p := payload[store.ConversationPayload](t, evs[i])
			if p.Conversation.ID != want || !slices.Contains(p.Conversation.Labels, "Critical") ||
				slices.Contains(p.Conversation.Labels, "Urgent") || !slices.Equal(p.Changed, []string{"labels"}) {
				t.Fatalf("event %d: %+v, want conversation %d relabelled", i, p, want)
			}
		}
		if p := payload[store.LabelPayload](t, evs[2]); p.PreviousName != "Urgent" || p.Label.Name != "Critical" {
			t.Fatalf("label.updated carries %+v", p)
		}
		conv, err := s.Conversation(c, a.ws.ID, a.conv.ID)
		must(t, err)
		if !slices.Equal(conv.Labels, []string{"Critical", "vip"}) {
			t.Fatalf("labels %v, want [Critical vip]", conv.Labels)
		}
	})

	t.Run("delete", func(t *testing.T) {
		wantErr(t, s.DeleteLabel(c, b.ws.ID, urgent.ID), store.ErrNotFound)
		seq := mark(t, s, a.ws.ID)
		must(t, s.DeleteLabel(c, a.ws.ID, urgent.ID))
		evs := wantKinds(t, s, a.ws.ID, seq, store.EventConversationUpdated, store.EventConversationUpdated, store.EventLabelDeleted)
		first := payload[store.ConversationPayload](t, evs[0])
		if first.Conversation.ID != a.conv.ID || !slices.Equal(first.Conversation.Labels, []string{"vip"}) {
			t.Fatalf("conversation.updated carries %+v", first)
		}
		if got := payload[store.LabelPayload](t, evs[2]).Label; got.ID != urgent.ID || got.Name != "Critical" {
			t.Fatalf("label.deleted carries %+v", got)
		}
		page, err := s.ListConversations(c, a.ws.ID, store.ConversationFilter{Label: "Critical"})
		must(t, err)
		if len(page.Conversations) != 0 {
			t.Fatalf("conversations still labelled: %v", ids(page.Conversations))
		}
		wantErr(t, s.DeleteLabel(c, a.ws.ID, urgent.ID), store.ErrNotFound)
		_, err = s.UpdateLabel(c, a.ws.ID, urgent.ID, store.LabelUpdate{Color: ptr("")})
		wantErr(t, err, store.ErrNotFound)
		labels, err := s.ListLabels(c, a.ws.ID)
		must(t, err)
		if len(labels) != 1 || labels[0].Name != "vip" {
			t.Fatalf("labels after delete: %+v", labels)
		}
	})
}

// testChangedFields checks that conversation.updated names what changed,
// which is how the relay tells an assignment from any other update.
func testChangedFields(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	agent, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("agent") + "@example.com", Role: store.RoleAgent})
	must(t, err)
	team, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Billing"})
	must(t, err)
	for _, tc := range []struct {
		name string
		u    store.ConversationUpdate
		want []string
	}{
		{"assign", store.ConversationUpdate{AssigneeID: &agent.ID}, []string{"assignee_id"}},
		{"assign again", store.ConversationUpdate{AssigneeID: &agent.ID}, nil},
		{"status and priority", store.ConversationUpdate{Status: ptr(store.StatusPending), Priority: ptr(store.PriorityHigh)}, []string{"status", "priority"}},
		{"route and reassign", store.ConversationUpdate{TeamID: &team.ID, AssigneeID: &a.owner.ID}, []string{"assignee_id", "team_id"}},
		{"unassign", store.ConversationUpdate{AssigneeID: ptr(int64(0))}, []string{"assignee_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ev, err := s.UpdateConversation(c, a.ws.ID, a.conv.ID, tc.u)
			must(t, err)
			for _, got := range [][]string{payload[store.ConversationPayload](t, ev).Changed, changedInLog(t, s, a.ws.ID, ev.Seq)} {
				if !slices.Equal(got, tc.want) {
					t.Fatalf("changed %q, want %q", got, tc.want)
				}
			}
		})
	}
	t.Run("labels", func(t *testing.T) {
		_, ev, err := s.AddLabel(c, a.ws.ID, a.conv.ID, "vip")
		must(t, err)
		if got := changedInLog(t, s, a.ws.ID, ev.Seq); !slices.Equal(got, []string{"labels"}) {
			t.Fatalf("add label: changed %q", got)
		}
		_, ev, err = s.RemoveLabel(c, a.ws.ID, a.conv.ID, "vip")
		must(t, err)
		if got := changedInLog(t, s, a.ws.ID, ev.Seq); !slices.Equal(got, []string{"labels"}) {
			t.Fatalf("remove label: changed %q", got)
		}
	})
}

// changedInLog reads the Changed of the logged event seq, as a consumer
// of the log sees it.
func changedInLog(t testing.TB, s store.Store, workspaceID, seq int64) []string {
	t.Helper()
	page, err := s.EventsAfter(ctx(t), workspaceID, seq-1, 1)
	must(t, err)
	if len(page.Events) != 1 || page.Events[0].Seq != seq {
		t.Fatalf("event %d not in the log: %+v", seq, page.Events)
	}
	return payload[store.ConversationPayload](t, page.Events[0]).Changed
}

// testDeleteWhileConversationsChange deletes a team and a label while
// their conversations are being updated, labelled and written to: nothing
// fails or deadlocks, and for every conversation the newest state the log
// carries is its stored state — no change was made without its event.
func testDeleteWhileConversationsChange(t *testing.T, s store.Store) {
	const convs = 6
	c := ctx(t)
	a := newFixture(t, s)
	team, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: "Doomed team"})
	must(t, err)
	label, err := s.CreateLabel(c, a.ws.ID, store.NewLabel{Name: "doomed"})
	must(t, err)
	var all []int64
	for range convs {
		conv := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
		_, _, err := s.UpdateConversation(c, a.ws.ID, conv.ID, store.ConversationUpdate{TeamID: &team.ID})
		must(t, err)
		_, _, err = s.AddLabel(c, a.ws.ID, conv.ID, "doomed")
		must(t, err)
		all = append(all, conv.ID)
	}

	var wg sync.WaitGroup
	report := func(what string, err error) {
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	wg.Go(func() { report("delete team", s.DeleteTeam(c, a.ws.ID, team.ID)) })
	wg.Go(func() { report("delete label", s.DeleteLabel(c, a.ws.ID, label.ID)) })
	for i, id := range all {
		wg.Go(func() {
			for round := range 3 {
				_, _, err := s.UpdateConversation(c, a.ws.ID, id, store.ConversationUpdate{Priority: ptr([]store.Priority{store.PriorityLow, store.PriorityHigh}[round%2])})
				report("update", err)
				_, _, err = s.AddLabel(c, a.ws.ID, id, "keep")
				report("add label", err)
				_, err = s.CreateMessage(c, a.ws.ID, store.NewMessage{ConversationID: id, Direction: store.DirectionIn, Body: "hi",
					ProviderMessageID: fmt.Sprintf("race-%d-%d", i, round)})
				report("message", err)
				_, _, err = s.RemoveLabel(c, a.ws.ID, id, "keep")
				report("remove label", err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	newest := map[int64]store.Conversation{}
	for _, ev := range allEvents(t, s, a.ws.ID, 0, store.MaxEventPage) {
		switch ev.Kind {
		case store.EventConversationCreated, store.EventConversationUpdated:
			newest[ev.ConversationID] = payload[store.ConversationPayload](t, ev).Conversation
		case store.EventMessageCreated:
			newest[ev.ConversationID] = payload[store.MessagePayload](t, ev).Conversation
		}
	}
	for _, id := range all {
		stored, err := s.Conversation(c, a.ws.ID, id)
		must(t, err)
		if stored.TeamID != 0 || slices.Contains(stored.Labels, "doomed") {
			t.Errorf("conversation %d still has the team or label: %+v", id, stored)
		}
		if !conversationsEqual(newest[id], stored) {
			t.Errorf("conversation %d: the log's newest state %+v, stored %+v", id, newest[id], stored)
		}
	}
}
