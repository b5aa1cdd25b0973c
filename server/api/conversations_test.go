package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type conversationList struct {
	Conversations []store.Conversation `json:"conversations"`
	NextCursor    string               `json:"next_cursor"`
}

func ids(cs []store.Conversation) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// list fails unless GET path answers 200, and returns the conversation ids.
func (c client) list(path string) []int64 {
	c.t.Helper()
	var l conversationList
	c.do("GET", path, "").ok(c.t, http.StatusOK, &l)
	return ids(l.Conversations)
}

func TestConversationUpdates(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		team, err := st.CreateTeam(ctx(t), a.ws.ID, store.NewTeam{Name: "Billing"})
		must(t, err)
		conv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)
		snoozeEnd := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)

		var got store.Conversation
		c.do("GET", conv, "").ok(t, http.StatusOK, &got)
		if got.ID != a.conv.ID || got.WorkspaceID != a.ws.ID || got.Status != store.StatusOpen {
			t.Fatalf("get = %+v", got)
		}

		// Each step applies to the result of the one before.
		steps := []struct {
			name  string
			patch string
			check func(store.Conversation) bool
		}{
			{"assign to me", fmt.Sprintf(`{"assignee_id":%d}`, a.agent.ID), func(c store.Conversation) bool { return c.AssigneeID == a.agent.ID }},
			{"status and priority", `{"status":"pending","priority":"high"}`, func(c store.Conversation) bool {
				return c.Status == store.StatusPending && c.Priority == store.PriorityHigh && c.AssigneeID == a.agent.ID
			}},
			{"team", fmt.Sprintf(`{"team_id":%d}`, team.ID), func(c store.Conversation) bool { return c.TeamID == team.ID }},
			{"snooze", fmt.Sprintf(`{"snoozed_until":%q}`, snoozeEnd.Format(time.RFC3339)), func(c store.Conversation) bool {
				return c.Status == store.StatusSnoozed && c.SnoozedUntil != nil && c.SnoozedUntil.Equal(snoozeEnd)
			}},
			{"reopen clears the snooze", `{"status":"open"}`, func(c store.Conversation) bool { return c.Status == store.StatusOpen && c.SnoozedUntil == nil }},
			{"unassign with null", `{"assignee_id":null,"team_id":null}`, func(c store.Conversation) bool { return c.AssigneeID == 0 && c.TeamID == 0 }},
		}
		for _, s := range steps {
			var updated, reread store.Conversation
			c.do("PATCH", conv, s.patch).ok(t, http.StatusOK, &updated)
			c.do("GET", conv, "").ok(t, http.StatusOK, &reread)
			if !s.check(updated) || !s.check(reread) {
				t.Fatalf("%s: answered %+v, stored %+v", s.name, updated, reread)
			}
		}

		var labelled store.Conversation
		c.do("POST", conv+"/labels", `{"label":"vip customer"}`).ok(t, http.StatusOK, &labelled)
		if !slices.Contains(labelled.Labels, "vip customer") {
			t.Fatalf("labels after add: %v", labelled.Labels)
		}
		if got := c.list("/api/v1/conversations?label=vip+customer"); !slices.Equal(got, []int64{a.conv.ID}) {
			t.Errorf("label filter: %v", got)
		}
		c.do("DELETE", conv+"/labels/vip%20customer", "").ok(t, http.StatusOK, &labelled)
		if len(labelled.Labels) != 0 {
			t.Fatalf("labels after remove: %v", labelled.Labels)
		}
		if got := c.list("/api/v1/conversations?label=vip+customer"); len(got) != 0 {
			t.Errorf("label filter after remove: %v", got)
		}
	})
}

func TestListConversations(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		team, err := st.CreateTeam(ctx(t), a.ws.ID, store.NewTeam{Name: "Sales"})
		must(t, err)
		mine := newConversation(t, st, a)
		_, _, err = st.UpdateConversation(ctx(t), a.ws.ID, mine.ID, store.ConversationUpdate{AssigneeID: &a.agent.ID, TeamID: &team.ID})
		must(t, err)
		resolved := newConversation(t, st, a)
		status := store.StatusResolved
		_, _, err = st.UpdateConversation(ctx(t), a.ws.ID, resolved.ID, store.ConversationUpdate{Status: &status})
		must(t, err)
		otherInbox, err := st.CreateInbox(ctx(t), a.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "SMS"})
		must(t, err)
		elsewhere, _, err := st.CreateConversation(ctx(t), a.ws.ID, store.NewConversation{InboxID: otherInbox.ID, ContactID: a.contact.ID})
		must(t, err)
		inbound(t, st, a.ws.ID, a.conv.ID, "hello?")

		all := []int64{a.conv.ID, mine.ID, resolved.ID, elsewhere.ID}
		tests := []struct {
			query string
			want  []int64
		}{
			{"", all},
			{"?assignee=any", all},
			{"?assignee=me", []int64{mine.ID}},
			{"?assignee=unassigned", []int64{a.conv.ID, resolved.ID, elsewhere.ID}},
			{"?status=resolved", []int64{resolved.ID}},
			{"?status=open&assignee=unassigned", []int64{a.conv.ID, elsewhere.ID}},
			{fmt.Sprintf("?inbox_id=%d", otherInbox.ID), []int64{elsewhere.ID}},
			{fmt.Sprintf("?team_id=%d", team.ID), []int64{mine.ID}},
			{"?unread=true", []int64{a.conv.ID}},
			{"?label=none-such", nil},
		}
		for _, tc := range tests {
			t.Run(tc.query, func(t *testing.T) {
				got := c.list("/api/v1/conversations" + tc.query)
				slices.Sort(got)
				want := slices.Clone(tc.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}

		t.Run("mark read", func(t *testing.T) {
			r := c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/read", a.conv.ID), "")
			r.ok(t, http.StatusNoContent, nil)
			if got := c.list("/api/v1/conversations?unread=true"); len(got) != 0 {
				t.Errorf("unread after read: %v", got)
			}
		})

		t.Run("pages", func(t *testing.T) {
			var seen []int64
			path := "/api/v1/conversations?limit=3"
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatal("paging does not end")
				}
				var l conversationList
				c.do("GET", path, "").ok(t, http.StatusOK, &l)
				if len(l.Conversations) > 3 {
					t.Fatalf("page of %d, limit 3", len(l.Conversations))
				}
				seen = append(seen, ids(l.Conversations)...)
				if l.NextCursor == "" {
					break
				}
				path = "/api/v1/conversations?limit=3&cursor=" + l.NextCursor
			}
			slices.Sort(seen)
			want := slices.Clone(all)
			slices.Sort(want)
			if !slices.Equal(seen, want) {
				t.Errorf("paged through %v, want %v", seen, want)
			}
		})
	})
}
