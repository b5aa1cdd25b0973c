package datarights_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// seedContact gives a new workspace one contact with convs conversations
// of msgs messages each (half the customer's, half replies) and returns
// the workspace, its owner and the contact.
func seedContact(b *testing.B, st store.Store, convs, msgs int) (store.Workspace, store.Agent, store.Contact) {
	b.Helper()
	c := ctx(b)
	ws, owner, err := st.CreateWorkspace(c, store.NewWorkspace{Name: "Bench", OwnerEmail: fmt.Sprintf("owner-%d@example.com", time.Now().UnixNano())})
	must(b, err)
	in, err := st.CreateInbox(c, ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "Site"})
	must(b, err)
	ct, _, err := st.UpsertContact(c, ws.ID, store.Identity{Channel: "api", ExternalID: "customer-1"}, store.NewContact{Name: "Casey Customer"})
	must(b, err)
	for i := range convs {
		conv, _, err := st.CreateConversation(c, ws.ID, store.NewConversation{InboxID: in.ID, ContactID: ct.ID})
		must(b, err)
		for j := range msgs {
			nm := store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn, ProviderMessageID: fmt.Sprintf("m-%d-%d", i, j),
				Body: strings.Repeat("where is my order ", 4)}
			if j%2 == 1 {
				nm = store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent,
					AuthorAgentID: owner.ID, Body: "It ships today."}
			}
			_, err := st.CreateMessage(c, ws.ID, nm)
			must(b, err)
		}
	}
	return ws, owner, ct
}

// BenchmarkErasure measures erasing a contact with 20 conversations of 20
// messages (400 messages with their search entries, outbox rows and
// events) through the erasure service, against the baseline of retention
// deleting the same conversations (DeleteExpiredConversations, 100 a
// step), on both stores. Erasure does more per row: it also redacts the
// events of the conversations and the contact and deletes the contact.
//
//	REQUIRE_SERVICES=1 go test -run '^$' -bench Erasure -benchtime 5x ./server/datarights/
func BenchmarkErasure(b *testing.B) {
	const convs, msgs = 20, 20
	for _, s := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"sqlite", teststore.SQLite}, {"postgres", teststore.Postgres}} {
		st := s.open(b)
		blobs, err := media.NewDir(b.TempDir())
		must(b, err)
		svc := datarights.New(datarights.Options{Store: st, Blobs: blobs})
		b.Run(s.name+"/erasure", func(b *testing.B) {
			var spent time.Duration
			for range b.N {
				ws, owner, ct := seedContact(b, st, convs, msgs)
				t0 := time.Now()
				req, err := svc.RequestErasure(ctx(b), ws.ID, ct.ID, store.Actor{AgentID: owner.ID, Role: store.RoleOwner})
				must(b, err)
				if done := svc.Process(ctx(b), req); done.Status != store.ErasureCompleted {
					b.Fatalf("erasure %+v", done)
				}
				spent += time.Since(t0)
			}
			b.ReportMetric(float64(b.N*convs*msgs)/spent.Seconds(), "msgs/s")
			b.ReportMetric(0, "ns/op")
		})
		b.Run(s.name+"/retention", func(b *testing.B) {
			var spent time.Duration
			for range b.N {
				ws, _, _ := seedContact(b, st, convs, msgs)
				t0 := time.Now()
				for {
					d, err := st.DeleteExpiredConversations(ctx(b), ws.ID, time.Now().Add(time.Hour), 100)
					must(b, err)
					if d.Conversations == 0 {
						break
					}
				}
				spent += time.Since(t0)
			}
			b.ReportMetric(float64(b.N*convs*msgs)/spent.Seconds(), "msgs/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
