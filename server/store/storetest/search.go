package storetest

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testSearch(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	refund := inbound(t, s, a.ws.ID, a.conv.ID, "I would like a refund for order 1234, please", "")
	inbound(t, s, a.ws.ID, a.conv.ID, "Thanks, all good now", "")
	// The same words in workspace B must not show up in A's results.
	inbound(t, s, b.ws.ID, b.conv.ID, "refund refund refund", "")
	dana, _, err := s.UpsertContact(c, a.ws.ID, store.Identity{Channel: "sms", ExternalID: "+15550009999"},
		store.NewContact{Name: "Dana Scully", Email: "dana@fbi.test", Phone: "+15550009999"})
	must(t, err)
	_, _, err = s.UpsertContact(c, b.ws.ID, store.Identity{Channel: "sms", ExternalID: "+15550009999"},
		store.NewContact{Name: "Dana Other"})
	must(t, err)

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"refund", []int64{refund.Message.ID}},
		{"REFUND order", []int64{refund.Message.ID}},
		{"1234", []int64{refund.Message.ID}},
		{"refund banana", nil},
		{`"unbalanced`, nil},
		{"AND OR NOT ( * :", nil},
	} {
		t.Run("messages "+tc.query, func(t *testing.T) {
			got, err := s.SearchMessages(c, a.ws.ID, tc.query, 10)
			must(t, err)
			var ids []int64
			for _, m := range got {
				ids = append(ids, m.ID)
				if m.WorkspaceID != a.ws.ID {
					t.Fatalf("result from workspace %d", m.WorkspaceID)
				}
			}
			if !equalInt64(ids, tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
		})
	}

	for _, q := range []string{"dana", "Scully", "dana scully"} {
		t.Run("contacts "+q, func(t *testing.T) {
			got, err := s.SearchContacts(c, a.ws.ID, q, 10)
			must(t, err)
			if len(got) != 1 || got[0].ID != dana.ID {
				t.Fatalf("got %+v, want only Dana of workspace A", got)
			}
		})
	}
	_, err = s.SearchMessages(c, a.ws.ID, "  ", 10)
	wantInvalid(t, err, "q")
}
