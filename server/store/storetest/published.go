package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testPublishedMark: the relay's mark starts at 0, moves only forward and
// never past the log, and UnpublishedWorkspaces lists exactly the
// workspaces with events after their mark.
func testPublishedMark(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newFixture(t, s), newFixture(t, s)
	for range 3 { // enough events that latest-1 > 1
		newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	}
	page, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)
	latest := page.LatestSeq
	if latest == 0 {
		t.Fatal("the fixture wrote no events")
	}
	if seq, err := s.PublishedSeq(c, a.ws.ID); err != nil || seq != 0 {
		t.Fatalf("PublishedSeq of a new workspace = %d, %v; want 0", seq, err)
	}
	pending, err := s.UnpublishedWorkspaces(c)
	must(t, err)
	if !slices.Contains(pending, a.ws.ID) || !slices.Contains(pending, b.ws.ID) {
		t.Fatalf("UnpublishedWorkspaces %v lacks %d or %d", pending, a.ws.ID, b.ws.ID)
	}

	steps := []struct {
		mark, want int64
	}{
		{latest - 1, latest - 1},
		{1, latest - 1},        // never backwards
		{latest + 100, latest}, // never past the log's end
	}
	for _, st := range steps {
		must(t, s.MarkPublished(c, a.ws.ID, st.mark))
		if got, err := s.PublishedSeq(c, a.ws.ID); err != nil || got != st.want {
			t.Errorf("after MarkPublished(%d): %d, %v; want %d", st.mark, got, err, st.want)
		}
	}
	pending, err = s.UnpublishedWorkspaces(c)
	must(t, err)
	if slices.Contains(pending, a.ws.ID) || !slices.Contains(pending, b.ws.ID) {
		t.Errorf("UnpublishedWorkspaces %v: want %d gone and %d still there", pending, a.ws.ID, b.ws.ID)
	}
	newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID) // one more event
	pending, err = s.UnpublishedWorkspaces(c)
	must(t, err)
	if !slices.Contains(pending, a.ws.ID) {
		t.Errorf("UnpublishedWorkspaces %v lacks %d after a new event", pending, a.ws.ID)
	}
	for _, err := range []error{
		s.MarkPublished(c, 1<<40, 1),
		func() error { _, err := s.PublishedSeq(c, 1<<40); return err }(),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown workspace: %v, want ErrNotFound", err)
		}
	}
}
