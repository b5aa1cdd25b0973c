package storetest

import (
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testConcurrentDuplicates delivers the same provider message from several
// goroutines at once, as a provider retrying a slow webhook does: exactly
// one row and one event, every other caller told Duplicate with that row.
func testConcurrentDuplicates(t *testing.T, s store.Store) {
	const callers = 8
	c := ctx(t)
	a := newFixture(t, s)
	results := make([]store.CreatedMessage, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			m, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
				ConversationID: a.conv.ID, Direction: store.DirectionIn, Body: "once", ProviderMessageID: "wamid.RACE",
			})
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			results[i] = m
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	fresh := 0
	for _, r := range results {
		if !r.Duplicate {
			fresh++
		}
		if r.Message.ID != results[0].Message.ID {
			t.Fatalf("callers got messages %d and %d", results[0].Message.ID, r.Message.ID)
		}
	}
	if fresh != 1 {
		t.Fatalf("%d callers stored the message, want 1", fresh)
	}
	list, err := s.ListMessages(c, a.ws.ID, a.conv.ID, store.MessageFilter{})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("%d messages stored, want 1", len(list))
	}
	if evs := allEvents(t, s, a.ws.ID, 0, 100); len(evs) != 2 { // conversation.created + message.created
		t.Fatalf("%d events, want 2", len(evs))
	}
}

// testConcurrentUpsertContact resolves one new identity from several
// goroutines at once: one contact is created and everyone gets it.
func testConcurrentUpsertContact(t *testing.T, s store.Store) {
	const callers = 8
	c := ctx(t)
	a := newFixture(t, s)
	id := store.Identity{Channel: "messenger", ExternalID: "psid-race"}
	got := make([]store.Contact, callers)
	created := make([]bool, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			var err error
			got[i], created[i], err = s.UpsertContact(c, a.ws.ID, id, store.NewContact{Name: "Racer"})
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	n := 0
	for i := range got {
		if created[i] {
			n++
		}
		if got[i].ID != got[0].ID {
			t.Fatalf("callers got contacts %d and %d", got[0].ID, got[i].ID)
		}
	}
	if n != 1 {
		t.Fatalf("%d callers created the contact, want 1", n)
	}
}
