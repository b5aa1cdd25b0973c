package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testBulkLoad: a bulk load writes what the generator generates, keeps the
// invariants of the normal path (conversation activity, search indexes,
// id allocation, the gap-free log with one workspace.imported event), and
// writes nothing at all when it fails.
func testBulkLoad(t *testing.T, s store.Store) {
	bl, ok := s.(store.BulkLoader)
	if !ok {
		t.Skip("store does not implement store.BulkLoader")
	}
	c := ctx(t)
	a := newFixture(t, s)
	other := newFixture(t, s)
	agent, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("bulk") + "@example.com", Role: store.RoleAgent})
	must(t, err)
	var teamIDs []int64
	for range 2 {
		team, err := s.CreateTeam(c, a.ws.ID, store.NewTeam{Name: unique("team")})
		must(t, err)
		teamIDs = append(teamIDs, team.ID)
	}
	slices.Sort(teamIDs)
	before, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)
	otherBefore, err := s.EventsAfter(c, other.ws.ID, 0, 1)
	must(t, err)

	spec := store.BulkSpec{Conversations: 30, MessagesPerConversation: 5, Seed: 7, InboxName: "Bulk", Now: store.Now().Add(-time.Hour),
		BatchMessages: 60} // 12 conversations a batch
	var progress []int
	res, err := bl.BulkLoad(c, a.ws.ID, spec, func(done, total int) {
		if total != spec.Conversations {
			t.Errorf("progress total %d, want %d", total, spec.Conversations)
		}
		progress = append(progress, done)
	})
	must(t, err)
	if res.Conversations != 30 || res.Messages != 150 || res.InboxID == 0 || !slices.Equal(progress, []int{12, 24, 30}) {
		t.Fatalf("result %+v, progress %v", res, progress)
	}
	// inbox + 30 contacts, identities, conversations + 150 messages + an
	// outbox row per reply (2 of every 5) + the event.
	if want := 1 + 3*30 + 150 + 2*30 + 1; res.Rows != want {
		t.Errorf("%d rows written, want %d", res.Rows, want)
	}

	// Exactly one event, next in the log, with the counts.
	after, err := s.EventsAfter(c, a.ws.ID, before.LatestSeq, store.MaxEventPage)
	must(t, err)
	if len(after.Events) != 1 || after.Events[0].Kind != store.EventWorkspaceImported || after.Events[0].Seq != before.LatestSeq+1 ||
		res.Event.Seq != after.Events[0].Seq {
		t.Fatalf("events after the load: %+v (result event %+v)", after.Events, res.Event)
	}
	var p store.ImportPayload
	must(t, json.Unmarshal(after.Events[0].Payload, &p))
	if p != (store.ImportPayload{InboxID: res.InboxID, Conversations: 30, Messages: 150}) {
		t.Errorf("payload %+v", p)
	}
	if page, err := s.EventsAfter(c, other.ws.ID, 0, 1); err != nil || page.LatestSeq != otherBefore.LatestSeq {
		t.Errorf("the other workspace's log moved from %d to %d (%v)", otherBefore.LatestSeq, page.LatestSeq, err)
	}

	// What was stored is what the generator generates for the same spec,
	// members and teams, and each conversation's activity is its newest
	// message's.
	must(t, spec.Normalize())
	members, err := s.ListAgents(c, a.ws.ID)
	must(t, err)
	var memberIDs []int64
	for _, m := range members {
		memberIDs = append(memberIDs, m.ID)
	}
	slices.Sort(memberIDs)
	want := store.NewBulkGenerator(spec, memberIDs, teamIDs).Next(spec.Conversations)
	var convs []store.Conversation
	f := store.ConversationFilter{InboxID: res.InboxID, Limit: store.MaxPageSize}
	for {
		page, err := s.ListConversations(c, a.ws.ID, f)
		must(t, err)
		convs = append(convs, page.Conversations...)
		if f.Cursor = page.Next; f.Cursor == "" {
			break
		}
	}
	if len(convs) != len(want) {
		t.Fatalf("%d conversations listed, want %d", len(convs), len(want))
	}
	slices.SortFunc(convs, func(x, y store.Conversation) int { return int(x.ID - y.ID) })
	assigned, routed := 0, 0
	for k, conv := range convs {
		w := want[k]
		if conv.Status != w.Status || conv.Priority != w.Priority || conv.AssigneeID != w.AssigneeID || conv.TeamID != w.TeamID ||
			!conv.LastActivityAt.Equal(w.LastActivityAt) || !conv.CreatedAt.Equal(w.CreatedAt) {
			t.Fatalf("conversation %d: %+v, want %+v", k, conv, w)
		}
		if conv.AssigneeID != 0 {
			assigned++
		}
		if conv.TeamID != 0 {
			routed++
		}
		msgs, err := s.ListMessages(c, a.ws.ID, conv.ID, store.MessageFilter{Limit: store.MaxPageSize})
		must(t, err)
		if len(msgs) != len(w.Messages) || msgs[0].ID != conv.LastMessageID || !msgs[0].CreatedAt.Equal(conv.LastActivityAt) {
			t.Fatalf("conversation %d: %d messages, newest %+v; conversation %+v", conv.ID, len(msgs), msgs[0], conv)
		}
		slices.Reverse(msgs)
		for j, m := range msgs {
			wm := w.Messages[j]
			if m.Body != wm.Body || m.Direction != wm.Direction || m.Status != wm.Status || m.AuthorAgentID != wm.AuthorAgentID ||
				m.ProviderMessageID != wm.ProviderMessageID || !m.CreatedAt.Equal(wm.CreatedAt) || m.InboxID != res.InboxID {
				t.Fatalf("message %d of conversation %d: %+v, want %+v", j, conv.ID, m, wm)
			}
		}
		contact, err := s.Contact(c, a.ws.ID, conv.ContactID)
		must(t, err)
		if contact.Name != w.Contact.Name || contact.Email != w.Contact.Email {
			t.Fatalf("contact %+v, want %+v", contact, w.Contact)
		}
	}
	if assigned == 0 || !slices.ContainsFunc(convs, func(c store.Conversation) bool { return c.AssigneeID == agent.ID }) {
		t.Errorf("%d of %d conversations assigned, none to agent %d", assigned, len(convs), agent.ID)
	}
	if routed == 0 {
		t.Errorf("no conversation routed to a team of %v", teamIDs)
	}

	// The search indexes cover what was loaded.
	order := strconv.Itoa(store.BulkOrderBase + 3)
	hits, err := s.SearchMessages(c, a.ws.ID, order, 10)
	must(t, err)
	if len(hits) == 0 || !slices.ContainsFunc(hits, func(m store.Message) bool {
		return m.ConversationID == convs[3].ID && m.Body == want[3].Messages[0].Body
	}) {
		t.Errorf("search %q: %+v, want the first message of conversation %d", order, hits, convs[3].ID)
	}
	contacts, err := s.SearchContacts(c, a.ws.ID, want[5].Contact.Name, 20)
	must(t, err)
	if !slices.ContainsFunc(contacts, func(k store.Contact) bool { return k.ID == convs[5].ContactID }) {
		t.Errorf("search contacts %q: %+v, want contact %d", want[5].Contact.Name, contacts, convs[5].ContactID)
	}
	if hits, err := s.SearchMessages(c, other.ws.ID, order, 10); err != nil || len(hits) != 0 {
		t.Errorf("the other workspace finds %d loaded messages (%v)", len(hits), err)
	}

	// The loaded contacts are known by their identities, and the normal
	// path carries on after the load without colliding with its ids.
	known, created, err := s.UpsertContact(c, a.ws.ID, store.Identity{Channel: store.IdentityChannelForInbox(res.InboxID), ExternalID: want[0].Contact.ExternalID},
		store.NewContact{Name: "someone else"})
	must(t, err)
	if created || known.ID != convs[0].ContactID {
		t.Errorf("upsert of a loaded identity: created %v, contact %d, want contact %d", created, known.ID, convs[0].ContactID)
	}
	contact := newContact(t, s, a.ws.ID, "After Load")
	conv, ev, err := s.CreateConversation(c, a.ws.ID, store.NewConversation{InboxID: res.InboxID, ContactID: contact.ID})
	must(t, err)
	msg := inbound(t, s, a.ws.ID, conv.ID, "a message after the load", "after-1")
	for _, loaded := range convs {
		if loaded.ID == conv.ID || loaded.ContactID == contact.ID || loaded.LastMessageID >= msg.Message.ID {
			t.Fatalf("new conversation %d, contact %d, message %d collide with loaded %+v", conv.ID, contact.ID, msg.Message.ID, loaded)
		}
	}
	if ev.Seq != res.Event.Seq+1 || msg.Events[0].Seq != ev.Seq+1 {
		t.Errorf("seqs after the load: %d, %d; want %d, %d", ev.Seq, msg.Events[0].Seq, res.Event.Seq+1, res.Event.Seq+2)
	}
	first, err := s.ListConversations(c, a.ws.ID, store.ConversationFilter{Limit: 1})
	must(t, err)
	if len(first.Conversations) != 1 || first.Conversations[0].ID != conv.ID {
		t.Errorf("first page starts with %+v, want the newest conversation %d", first.Conversations, conv.ID)
	}

	// A load that fails writes nothing: no inbox, no rows, no event.
	latest := msg.Events[0].Seq
	for _, tc := range []struct {
		name        string
		ctx         context.Context
		workspaceID int64
		spec        store.BulkSpec
		want        error
	}{
		{"invalid spec", c, a.ws.ID, store.BulkSpec{Conversations: 0, MessagesPerConversation: 1}, store.ErrInvalid},
		{"too long", c, a.ws.ID, store.BulkSpec{Conversations: 1, MessagesPerConversation: store.MaxBulkMessagesPerConversation + 1}, store.ErrInvalid},
		{"unknown workspace", c, 1 << 40, store.BulkSpec{Conversations: 1, MessagesPerConversation: 1}, store.ErrNotFound},
		{"canceled", canceled(), a.ws.ID, store.BulkSpec{Conversations: 5, MessagesPerConversation: 2}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bl.BulkLoad(tc.ctx, tc.workspaceID, tc.spec, nil)
			wantErr(t, err, tc.want)
		})
	}
	t.Run("canceled after a batch", func(t *testing.T) {
		// This load takes five batches and is canceled once the first is
		// written.
		mid, cancel := context.WithCancel(c)
		defer cancel()
		calls := 0
		_, err := bl.BulkLoad(mid, a.ws.ID, store.BulkSpec{Conversations: 10, MessagesPerConversation: 2, BatchMessages: 4},
			func(done, total int) {
				calls++
				cancel()
			})
		wantErr(t, err, context.Canceled)
		if calls != 1 {
			t.Errorf("progress called %d times, want once before the cancellation took", calls)
		}
	})
	page, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)
	if page.LatestSeq != latest {
		t.Errorf("failed loads moved the log from %d to %d", latest, page.LatestSeq)
	}
	all, err := s.ListConversations(c, a.ws.ID, store.ConversationFilter{Limit: store.MaxPageSize})
	must(t, err)
	if all.Next != "" || len(all.Conversations) != 30+2 {
		t.Errorf("%d conversations after failed loads (more: %v), want 32", len(all.Conversations), all.Next != "")
	}
}

func canceled() context.Context {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	return c
}
