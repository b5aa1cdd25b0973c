package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testEventsConcurrent writes from several goroutines at once and checks
// the log holds seqs 1..N exactly, one per committed change.
func testEventsConcurrent(t *testing.T, s store.Store) {
	const writers, perWriter = 8, 25
	c := ctx(t)
	a := newFixture(t, s)
	start, err := s.EventsAfter(c, a.ws.ID, 0, store.MaxEventPage)
	must(t, err)
	convs := make([]store.Conversation, writers)
	for i := range convs {
		convs[i] = newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				// Half the writers share one conversation, so row locks
				// on it are contended too.
				conv := convs[w]
				if w%2 == 0 {
					conv = convs[0]
				}
				_, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
					ConversationID: conv.ID, Direction: store.DirectionIn, Body: "m",
					ProviderMessageID: unique("p"),
				})
				if err != nil {
					t.Errorf("writer %d message %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	want := start.LatestSeq + writers + writers*perWriter
	all := allEvents(t, s, a.ws.ID, 0, 50)
	if int64(len(all)) != want {
		t.Fatalf("%d events, want %d", len(all), want)
	}
	messages := map[string]int{}
	for i, ev := range all {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: want 1..%d with no gap", i, ev.Seq, want)
		}
		if ev.WorkspaceID != a.ws.ID {
			t.Fatalf("event %d of workspace %d", ev.Seq, ev.WorkspaceID)
		}
		messages[ev.Kind]++
	}
	if messages[store.EventMessageCreated] != writers*perWriter {
		t.Fatalf("%d message.created events, want %d", messages[store.EventMessageCreated], writers*perWriter)
	}
}

func allEvents(t testing.TB, s store.Store, workspaceID, after int64, pageSize int) []store.Event {
	t.Helper()
	var all []store.Event
	for {
		page, err := s.EventsAfter(ctx(t), workspaceID, after, pageSize)
		must(t, err)
		all = append(all, page.Events...)
		if len(page.Events) > 0 {
			after = page.Events[len(page.Events)-1].Seq
		}
		if !page.HasMore {
			return all
		}
		if len(page.Events) == 0 {
			t.Fatal("empty page with has_more")
		}
	}
}

func testEventsPaging(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s) // seq 1: conversation.created
	for i := range 9 {
		inbound(t, s, a.ws.ID, a.conv.ID, "m", unique("p"))
		_ = i
	}
	// Seqs 1..10 now.
	for _, tc := range []struct {
		name     string
		after    int64
		limit    int
		wantSeqs []int64
		wantMore bool
	}{
		{"from the start", 0, 4, []int64{1, 2, 3, 4}, true},
		{"middle", 4, 4, []int64{5, 6, 7, 8}, true},
		{"last page exactly", 6, 4, []int64{7, 8, 9, 10}, false},
		{"tail", 8, 4, []int64{9, 10}, false},
		{"caught up", 10, 4, nil, false},
		{"ahead of the log", 99, 4, nil, false},
		{"limit clamped up", 0, 0, []int64{1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.EventsAfter(c, a.ws.ID, tc.after, tc.limit)
			must(t, err)
			var got []int64
			for _, ev := range page.Events {
				got = append(got, ev.Seq)
			}
			if !equalInt64(got, tc.wantSeqs) || page.HasMore != tc.wantMore {
				t.Fatalf("got %v more=%v, want %v more=%v", got, page.HasMore, tc.wantSeqs, tc.wantMore)
			}
			if page.OldestSeq != 1 || page.LatestSeq != 10 {
				t.Fatalf("bounds %d..%d, want 1..10", page.OldestSeq, page.LatestSeq)
			}
		})
	}
	// Another workspace's log is its own, starting at 1.
	b := newFixture(t, s)
	page, err := s.EventsAfter(c, b.ws.ID, 0, 100)
	must(t, err)
	if len(page.Events) != 1 || page.Events[0].Seq != 1 || page.LatestSeq != 1 {
		t.Fatalf("workspace B log %+v", page)
	}
	_, err = s.EventsAfter(c, 1<<40, 0, 10)
	wantErr(t, err, store.ErrNotFound)
}

func testEventsPruned(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	for range 4 {
		inbound(t, s, a.ws.ID, a.conv.ID, "m", unique("p"))
	}
	// Seqs 1..5, all older than a moment from now.
	n, err := s.PruneEvents(c, a.ws.ID, time.Now().Add(time.Second))
	must(t, err)
	if n != 5 {
		t.Fatalf("pruned %d, want 5", n)
	}
	inbound(t, s, a.ws.ID, a.conv.ID, "after prune", unique("p")) // seq 6

	_, err = s.EventsAfter(c, a.ws.ID, 2, 10)
	wantErr(t, err, store.ErrEventsGone)
	_, err = s.EventsAfter(c, a.ws.ID, 4, 10)
	wantErr(t, err, store.ErrEventsGone)
	page, err := s.EventsAfter(c, a.ws.ID, 5, 10)
	must(t, err)
	if len(page.Events) != 1 || page.Events[0].Seq != 6 || page.OldestSeq != 6 || page.LatestSeq != 6 {
		t.Fatalf("after 5: %+v", page)
	}

	// Everything pruned: the latest seq is still known, and a client that
	// had it is not told to refetch.
	_, err = s.PruneEvents(c, a.ws.ID, time.Now().Add(time.Second))
	must(t, err)
	page, err = s.EventsAfter(c, a.ws.ID, 6, 10)
	must(t, err)
	if len(page.Events) != 0 || page.OldestSeq != 7 || page.LatestSeq != 6 {
		t.Fatalf("after 6 with an empty log: %+v", page)
	}
	_, err = s.EventsAfter(c, a.ws.ID, 5, 10)
	wantErr(t, err, store.ErrEventsGone)
}

func equalInt64(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// testEventsVisibleInOrder tails the log while writers commit: a reader
// must never see seq N+1 before N. If numbers were handed out before
// commit and transactions committed out of order, the tail would skip the
// late one for good — exactly the missed event the catch-up API exists to
// prevent.
func testEventsVisibleInOrder(t *testing.T, s store.Store) {
	const writers, perWriter = 4, 30
	c := ctx(t)
	a := newFixture(t, s)
	var wg sync.WaitGroup
	for w := range writers {
		conv := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
		wg.Go(func() {
			for i := range perWriter {
				if _, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
					ConversationID: conv.ID, Direction: store.DirectionIn, Body: "tail",
				}); err != nil {
					t.Errorf("writer %d message %d: %v", w, i, err)
					return
				}
			}
		})
	}
	// A failing tail still waits for the writers, so none outlives the
	// store.
	defer wg.Wait()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var last int64
	tail := func() {
		page, err := s.EventsAfter(c, a.ws.ID, last, 7)
		must(t, err)
		for _, ev := range page.Events {
			if ev.Seq != last+1 {
				t.Fatalf("tail at %d saw seq %d: a gap was visible", last, ev.Seq)
			}
			last = ev.Seq
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		tail()
	}
	tail()
	final, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)
	for last < final.LatestSeq {
		tail()
	}
	if want := int64(1 + writers + writers*perWriter); last != want {
		t.Fatalf("tail ended at %d, want %d", last, want)
	}
}
