package storetest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testConversationSummary: a conversation has no summary until one is
// saved; a recomputed one replaces it; summaries are the workspace's only;
// bad labels are refused by field and long text is cut.
func testConversationSummary(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)

	_, err := s.ConversationSummary(c, f.ws.ID, f.conv.ID)
	wantErr(t, err, store.ErrNotFound)

	first := store.ConversationSummary{Summary: "Where is my parcel?", Sentiment: "neutral", Intent: "question", Model: "offline-summary-v1"}
	saved, err := s.SetConversationSummary(c, f.ws.ID, f.conv.ID, first)
	must(t, err)
	if saved.ConversationID != f.conv.ID || saved.Summary != first.Summary || saved.Sentiment != "neutral" ||
		saved.Intent != "question" || saved.Lead || saved.Model != first.Model || saved.CreatedAt.IsZero() {
		t.Fatalf("saved %+v", saved)
	}
	got, err := s.ConversationSummary(c, f.ws.ID, f.conv.ID)
	must(t, err)
	if got != saved {
		t.Fatalf("read back %+v, want %+v", got, saved)
	}

	// Recomputing replaces the summary.
	second := store.ConversationSummary{Summary: "I want to buy 20 seats.", Sentiment: "positive", Intent: "purchase", Lead: true, Model: "offline-summary-v1"}
	replaced, err := s.SetConversationSummary(c, f.ws.ID, f.conv.ID, second)
	must(t, err)
	got, err = s.ConversationSummary(c, f.ws.ID, f.conv.ID)
	must(t, err)
	if got != replaced || got.Summary != second.Summary || got.Intent != "purchase" || !got.Lead || got.CreatedAt.Before(saved.CreatedAt) {
		t.Fatalf("after recompute %+v", got)
	}

	// Another workspace neither reads nor writes it; an unknown
	// conversation is not found.
	_, err = s.ConversationSummary(c, other.ws.ID, f.conv.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SetConversationSummary(c, other.ws.ID, f.conv.ID, first)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SetConversationSummary(c, f.ws.ID, 1<<40, first)
	wantErr(t, err, store.ErrNotFound)
	got, err = s.ConversationSummary(c, f.ws.ID, f.conv.ID)
	must(t, err)
	if got.Summary != second.Summary {
		t.Fatalf("another workspace's write changed it: %+v", got)
	}
	_, err = s.ConversationSummary(c, other.ws.ID, other.conv.ID)
	wantErr(t, err, store.ErrNotFound)

	// Bad labels are refused by field.
	for field, bad := range map[string]store.ConversationSummary{
		"sentiment": {Sentiment: "ecstatic", Intent: "other", Model: "m"},
		"intent":    {Sentiment: "neutral", Intent: "gossip", Model: "m"},
		"model":     {Sentiment: "neutral", Intent: "other"},
	} {
		_, err := s.SetConversationSummary(c, f.ws.ID, f.conv.ID, bad)
		wantInvalid(t, err, field)
	}

	// Long text is cut at a rune boundary.
	long := store.ConversationSummary{Summary: strings.Repeat("é", store.MaxSummaryBytes), Sentiment: "neutral", Intent: "other", Model: "m"}
	saved, err = s.SetConversationSummary(c, f.ws.ID, f.conv.ID, long)
	must(t, err)
	if len(saved.Summary) > store.MaxSummaryBytes || !utf8.ValidString(saved.Summary) || len(saved.Summary) < store.MaxSummaryBytes-1 {
		t.Fatalf("long summary saved as %d bytes", len(saved.Summary))
	}
}
