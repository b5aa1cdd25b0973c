package storetest

import (
	"math"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testInboxAI: an inbox's auto-reply settings default to off with the
// default threshold, are saved and read back within their workspace only,
// and an out-of-range threshold is refused by field.
func testInboxAI(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)

	got, err := s.InboxAI(c, f.ws.ID, f.inbox.ID)
	must(t, err)
	if got.AutoReply || got.MinConfidence != store.DefaultMinConfidence || got.UpdatedAt != nil || got.InboxID != f.inbox.ID {
		t.Fatalf("default settings %+v", got)
	}
	for _, bad := range []float64{-0.1, 1.01, math.NaN(), math.Inf(1)} {
		_, err := s.SetInboxAI(c, f.ws.ID, f.inbox.ID, store.InboxAI{AutoReply: true, MinConfidence: bad})
		wantInvalid(t, err, "min_confidence")
	}
	saved, err := s.SetInboxAI(c, f.ws.ID, f.inbox.ID, store.InboxAI{AutoReply: true, MinConfidence: 0.65})
	must(t, err)
	if !saved.AutoReply || saved.MinConfidence != 0.65 || saved.UpdatedAt == nil || saved.InboxID != f.inbox.ID {
		t.Fatalf("saved %+v", saved)
	}
	got, err = s.InboxAI(c, f.ws.ID, f.inbox.ID)
	must(t, err)
	if !got.AutoReply || got.MinConfidence != 0.65 || !got.UpdatedAt.Equal(*saved.UpdatedAt) {
		t.Fatalf("read back %+v, want %+v", got, saved)
	}
	saved, err = s.SetInboxAI(c, f.ws.ID, f.inbox.ID, store.InboxAI{AutoReply: false, MinConfidence: 1})
	must(t, err)
	if saved.AutoReply || saved.MinConfidence != 1 {
		t.Fatalf("updated %+v", saved)
	}

	// Another workspace's inbox, and an unknown one, are not found.
	_, err = s.InboxAI(c, other.ws.ID, f.inbox.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SetInboxAI(c, other.ws.ID, f.inbox.ID, store.InboxAI{AutoReply: true, MinConfidence: 0.5})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.InboxAI(c, f.ws.ID, 1<<40)
	wantErr(t, err, store.ErrNotFound)
	got, err = s.InboxAI(c, other.ws.ID, other.inbox.ID)
	must(t, err)
	if got.AutoReply {
		t.Fatalf("the other workspace's inbox %+v was changed", got)
	}
}

// testHandOver: a conversation is handed over once; the first hand-over's
// time and reason stay; another workspace can neither hand it over nor
// see it.
func testHandOver(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)

	_, err := s.ConversationHandoff(c, f.ws.ID, f.conv.ID)
	wantErr(t, err, store.ErrNotFound)

	h, first, err := s.HandOver(c, f.ws.ID, f.conv.ID, "the customer asked for a person")
	must(t, err)
	if !first || h.ConversationID != f.conv.ID || h.HandedOverAt.IsZero() || h.Reason != "the customer asked for a person" {
		t.Fatalf("hand-over %+v, first %v", h, first)
	}
	again, first, err := s.HandOver(c, f.ws.ID, f.conv.ID, "again")
	must(t, err)
	if first || again != h {
		t.Fatalf("second hand-over %+v (first %v), want %+v kept", again, first, h)
	}
	got, err := s.ConversationHandoff(c, f.ws.ID, f.conv.ID)
	must(t, err)
	if got != h {
		t.Fatalf("read back %+v, want %+v", got, h)
	}

	_, err = s.ConversationHandoff(c, other.ws.ID, f.conv.ID)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.HandOver(c, other.ws.ID, f.conv.ID, "x")
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.HandOver(c, f.ws.ID, 1<<40, "x")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ConversationHandoff(c, other.ws.ID, other.conv.ID)
	wantErr(t, err, store.ErrNotFound)

	// A long reason is cut, at a rune boundary.
	h, _, err = s.HandOver(c, other.ws.ID, other.conv.ID, strings.Repeat("é", store.MaxHandoffReasonBytes))
	must(t, err)
	if len(h.Reason) != store.MaxHandoffReasonBytes || !strings.HasPrefix(h.Reason, "éé") {
		t.Fatalf("long reason stored as %d bytes", len(h.Reason))
	}
}
