package storetest

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testConversations(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	conv, ev, err := s.CreateConversation(c, a.ws.ID, store.NewConversation{
		InboxID: a.inbox.ID, ContactID: a.contact.ID, AssigneeID: a.owner.ID, Priority: store.PriorityHigh, Subject: "Refund",
	})
	must(t, err)
	if conv.Status != store.StatusOpen || conv.AssigneeID != a.owner.ID || conv.Priority != store.PriorityHigh ||
		conv.LastActivityAt.IsZero() || conv.Labels == nil || len(conv.Labels) != 0 {
		t.Fatalf("conversation %+v", conv)
	}
	if ev.Kind != store.EventConversationCreated || ev.ConversationID != conv.ID || ev.Seq == 0 {
		t.Fatalf("event %+v", ev)
	}
	var payload store.ConversationPayload
	must(t, json.Unmarshal(ev.Payload, &payload))
	if payload.Conversation.ID != conv.ID {
		t.Fatalf("payload %s", ev.Payload)
	}
	got, err := s.Conversation(c, a.ws.ID, conv.ID)
	must(t, err)
	if !conversationsEqual(got, conv) {
		t.Fatalf("got %+v, want %+v", got, conv)
	}

	b := newFixture(t, s)
	for _, tc := range []struct {
		name string
		in   store.NewConversation
		want error
	}{
		{"inbox of another workspace", store.NewConversation{InboxID: b.inbox.ID, ContactID: a.contact.ID}, store.ErrNotFound},
		{"contact of another workspace", store.NewConversation{InboxID: a.inbox.ID, ContactID: b.contact.ID}, store.ErrNotFound},
		{"assignee of another workspace", store.NewConversation{InboxID: a.inbox.ID, ContactID: a.contact.ID, AssigneeID: b.owner.ID}, store.ErrInvalid},
		{"snoozed without end", store.NewConversation{InboxID: a.inbox.ID, ContactID: a.contact.ID, Status: store.StatusSnoozed}, store.ErrInvalid},
		{"unknown priority", store.NewConversation{InboxID: a.inbox.ID, ContactID: a.contact.ID, Priority: "meh"}, store.ErrInvalid},
		{"no inbox", store.NewConversation{ContactID: a.contact.ID}, store.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateConversation(c, a.ws.ID, tc.in)
			wantErr(t, err, tc.want)
		})
	}
}

func testUpdateConversation(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	agent, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("agent") + "@example.com", Role: store.RoleAgent})
	must(t, err)
	b := newFixture(t, s)
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)

	for _, tc := range []struct {
		name  string
		u     store.ConversationUpdate
		check func(store.Conversation) bool
		field string // non-empty: want a validation error on it
	}{
		{"assign", store.ConversationUpdate{AssigneeID: ptr(agent.ID)},
			func(c store.Conversation) bool { return c.AssigneeID == agent.ID }, ""},
		{"priority", store.ConversationUpdate{Priority: ptr(store.PriorityUrgent)},
			func(c store.Conversation) bool { return c.Priority == store.PriorityUrgent }, ""},
		{"snooze", store.ConversationUpdate{SnoozedUntil: &future},
			func(c store.Conversation) bool {
				return c.Status == store.StatusSnoozed && c.SnoozedUntil != nil && c.SnoozedUntil.Equal(future)
			}, ""},
		{"resolve clears snooze", store.ConversationUpdate{Status: ptr(store.StatusResolved)},
			func(c store.Conversation) bool { return c.Status == store.StatusResolved && c.SnoozedUntil == nil }, ""},
		{"unassign", store.ConversationUpdate{AssigneeID: ptr(int64(0))},
			func(c store.Conversation) bool { return c.AssigneeID == 0 && c.Priority == store.PriorityUrgent }, ""},
		{"assign to a stranger", store.ConversationUpdate{AssigneeID: ptr(b.owner.ID)}, nil, "assignee_id"},
		{"snooze into the past", store.ConversationUpdate{SnoozedUntil: ptr(time.Now().Add(-time.Minute))}, nil, "snoozed_until"},
		{"snoozed without end", store.ConversationUpdate{Status: ptr(store.StatusSnoozed)}, nil, "snoozed_until"},
		{"unknown status", store.ConversationUpdate{Status: ptr(store.Status("closed"))}, nil, "status"},
		{"team of another workspace", store.ConversationUpdate{TeamID: ptr(int64(1 << 40))}, nil, "team_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := s.EventsAfter(c, a.ws.ID, 0, 1)
			must(t, err)
			got, ev, err := s.UpdateConversation(c, a.ws.ID, a.conv.ID, tc.u)
			if tc.field != "" {
				wantInvalid(t, err, tc.field)
				after, err := s.EventsAfter(c, a.ws.ID, 0, 1)
				must(t, err)
				if after.LatestSeq != before.LatestSeq {
					t.Fatal("a refused update appended an event")
				}
				return
			}
			must(t, err)
			if !tc.check(got) {
				t.Fatalf("after update: %+v", got)
			}
			if ev.Kind != store.EventConversationUpdated || ev.Seq != before.LatestSeq+1 {
				t.Fatalf("event %+v, want conversation.updated with seq %d", ev, before.LatestSeq+1)
			}
			reread, err := s.Conversation(c, a.ws.ID, a.conv.ID)
			must(t, err)
			if !conversationsEqual(reread, got) {
				t.Fatalf("re-read %+v, want %+v", reread, got)
			}
		})
	}
}

func testLabels(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	conv, ev, err := s.AddLabel(c, a.ws.ID, a.conv.ID, " vip ")
	must(t, err)
	if !slices.Equal(conv.Labels, []string{"vip"}) || ev.Kind != store.EventConversationUpdated {
		t.Fatalf("labels %v event %+v", conv.Labels, ev)
	}
	conv, _, err = s.AddLabel(c, a.ws.ID, a.conv.ID, "billing")
	must(t, err)
	if !slices.Equal(conv.Labels, []string{"billing", "vip"}) {
		t.Fatalf("labels %v, want [billing vip]", conv.Labels)
	}
	_, ev, err = s.AddLabel(c, a.ws.ID, a.conv.ID, "vip")
	must(t, err)
	if ev.Seq != 0 {
		t.Fatalf("adding a label twice appended %+v", ev)
	}
	conv, ev, err = s.RemoveLabel(c, a.ws.ID, a.conv.ID, "vip")
	must(t, err)
	if !slices.Equal(conv.Labels, []string{"billing"}) || ev.Seq == 0 {
		t.Fatalf("labels %v event %+v", conv.Labels, ev)
	}
	_, ev, err = s.RemoveLabel(c, a.ws.ID, a.conv.ID, "never-added")
	must(t, err)
	if ev.Seq != 0 {
		t.Fatal("removing an absent label appended an event")
	}
	_, _, err = s.AddLabel(c, a.ws.ID, a.conv.ID, "bad\nlabel")
	wantInvalid(t, err, "label")
}

func testListFilters(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s) // a.conv: open, unassigned, inbox 1
	me, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("me") + "@example.com", Role: store.RoleAgent})
	must(t, err)
	inbox2, err := s.CreateInbox(c, a.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "SMS"})
	must(t, err)
	mine := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	_, _, err = s.UpdateConversation(c, a.ws.ID, mine.ID, store.ConversationUpdate{AssigneeID: &me.ID})
	must(t, err)
	resolved := newConversation(t, s, a.ws.ID, inbox2.ID, a.contact.ID)
	_, _, err = s.UpdateConversation(c, a.ws.ID, resolved.ID, store.ConversationUpdate{Status: ptr(store.StatusResolved)})
	must(t, err)
	_, _, err = s.AddLabel(c, a.ws.ID, resolved.ID, "vip")
	must(t, err)
	// Another workspace's conversations never show up.
	newFixture(t, s)

	for _, tc := range []struct {
		name string
		f    store.ConversationFilter
		want []int64
	}{
		{"all, newest first", store.ConversationFilter{}, []int64{resolved.ID, mine.ID, a.conv.ID}},
		{"open", store.ConversationFilter{Status: store.StatusOpen}, []int64{mine.ID, a.conv.ID}},
		{"resolved", store.ConversationFilter{Status: store.StatusResolved}, []int64{resolved.ID}},
		{"inbox", store.ConversationFilter{InboxID: inbox2.ID}, []int64{resolved.ID}},
		{"mine", store.ConversationFilter{Assignee: store.AssigneeMe, AgentID: me.ID}, []int64{mine.ID}},
		{"unassigned", store.ConversationFilter{Assignee: store.AssigneeUnassigned}, []int64{resolved.ID, a.conv.ID}},
		{"label", store.ConversationFilter{Label: "vip"}, []int64{resolved.ID}},
		{"unknown label", store.ConversationFilter{Label: "nope"}, nil},
		{"open and unassigned", store.ConversationFilter{Status: store.StatusOpen, Assignee: store.AssigneeUnassigned}, []int64{a.conv.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListConversations(c, a.ws.ID, tc.f)
			must(t, err)
			if got := ids(page.Conversations); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if page.Next != "" {
				t.Fatalf("next cursor %q on a short page", page.Next)
			}
		})
	}

	t.Run("unread", func(t *testing.T) {
		unread := store.ConversationFilter{Unread: true, AgentID: me.ID}
		page, err := s.ListConversations(c, a.ws.ID, unread)
		must(t, err)
		if len(page.Conversations) != 0 {
			t.Fatalf("unread without messages: %v", ids(page.Conversations))
		}
		msg := inbound(t, s, a.ws.ID, a.conv.ID, "anyone?", "")
		page, err = s.ListConversations(c, a.ws.ID, unread)
		must(t, err)
		if got := ids(page.Conversations); !slices.Equal(got, []int64{a.conv.ID}) || page.Conversations[0].LastMessageID != msg.Message.ID {
			t.Fatalf("unread after a message: %v", page.Conversations)
		}
		_, err = s.MarkRead(c, a.ws.ID, a.conv.ID, me.ID)
		must(t, err)
		page, err = s.ListConversations(c, a.ws.ID, unread)
		must(t, err)
		if len(page.Conversations) != 0 {
			t.Fatalf("unread after reading: %v", ids(page.Conversations))
		}
		// Someone else's reading does not make it read for the owner.
		page, err = s.ListConversations(c, a.ws.ID, store.ConversationFilter{Unread: true, AgentID: a.owner.ID})
		must(t, err)
		if len(page.Conversations) != 1 {
			t.Fatalf("owner's unread: %v", ids(page.Conversations))
		}
	})

	for _, tc := range []struct {
		name  string
		f     store.ConversationFilter
		field string
	}{
		{"unread without agent", store.ConversationFilter{Unread: true}, "unread"},
		{"bad status", store.ConversationFilter{Status: "closed"}, "status"},
		{"me without agent", store.ConversationFilter{Assignee: store.AssigneeMe}, "assignee"},
		{"bad cursor", store.ConversationFilter{Cursor: "!!"}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListConversations(c, a.ws.ID, tc.f)
			wantInvalid(t, err, tc.field)
		})
	}
}

// testPagingUnderInserts pages through the list while other goroutines
// keep creating conversations: every conversation that existed when paging
// started is seen exactly once, and nothing is seen twice.
func testPagingUnderInserts(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	existing := map[int64]bool{a.conv.ID: true}
	for range 40 {
		existing[newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID).ID] = true
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	// On a failed page the writers are still stopped and waited for.
	defer halt()
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := s.CreateConversation(c, a.ws.ID, store.NewConversation{InboxID: a.inbox.ID, ContactID: a.contact.ID}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}

	seen := map[int64]int{}
	f := store.ConversationFilter{Limit: 7}
	pages := 0
	for {
		page, err := s.ListConversations(c, a.ws.ID, f)
		must(t, err)
		pages++
		for _, conv := range page.Conversations {
			seen[conv.ID]++
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	halt()

	for id, n := range seen {
		if n != 1 {
			t.Errorf("conversation %d seen %d times", id, n)
		}
	}
	for id := range existing {
		if seen[id] != 1 {
			t.Errorf("conversation %d missed", id)
		}
	}
	if pages < 6 {
		t.Errorf("%d pages of 7 for %d conversations", pages, len(existing))
	}
}

func testMarkRead(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	inbound(t, s, a.ws.ID, a.conv.ID, "hello", "")
	ev, err := s.MarkRead(c, a.ws.ID, a.conv.ID, a.owner.ID)
	must(t, err)
	var p store.ConversationPayload
	must(t, json.Unmarshal(ev.Payload, &p))
	if ev.Kind != store.EventConversationRead || p.AgentID != a.owner.ID || p.Conversation.ID != a.conv.ID {
		t.Fatalf("event %+v", ev)
	}
	// Marking again moves the marker; it is not a conflict.
	_, err = s.MarkRead(c, a.ws.ID, a.conv.ID, a.owner.ID)
	must(t, err)
	_, err = s.MarkRead(c, a.ws.ID, a.conv.ID, b.owner.ID)
	wantInvalid(t, err, "agent_id")
	_, err = s.MarkRead(c, b.ws.ID, a.conv.ID, b.owner.ID)
	wantErr(t, err, store.ErrNotFound)
}

func ids(cs []store.Conversation) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func conversationsEqual(a, b store.Conversation) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
