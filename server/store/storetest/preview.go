package storetest

import (
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testConversationPreviews: a list row's contact and newest message come
// in one call: the newest message whatever its kind (a note included),
// its body cut to PreviewRunes characters (not bytes); a conversation
// without messages has none; another workspace's conversation and
// unknown ids are skipped.
func testConversationPreviews(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)
	quiet := newConversation(t, s, f.ws.ID, f.inbox.ID, f.contact.ID)
	inbound(t, s, f.ws.ID, f.conv.ID, "Where is my order?", unique("wamid.p"))
	long := strings.Repeat("é", store.PreviewRunes+50)
	note, err := s.CreateMessage(c, f.ws.ID, store.NewMessage{ConversationID: f.conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID, Type: store.TypeNote, Body: long})
	must(t, err)

	got, err := s.ConversationPreviews(c, f.ws.ID, []int64{f.conv.ID, quiet.ID, other.conv.ID, 1 << 40})
	must(t, err)
	if len(got) != 2 {
		t.Fatalf("%d previews, want 2 (this workspace's, known): %+v", len(got), got)
	}
	by := map[int64]store.ConversationPreview{}
	for _, p := range got {
		by[p.ConversationID] = p
	}
	p := by[f.conv.ID]
	if p.Contact.ID != f.contact.ID || p.Contact.Name != "Carol Customer" {
		t.Errorf("contact %+v, want Carol Customer", p.Contact)
	}
	m := p.LastMessage
	if m == nil || m.ID != note.Message.ID || m.Type != store.TypeNote || m.Direction != store.DirectionOut || m.AuthorKind != store.AuthorAgent ||
		!m.CreatedAt.Equal(note.Message.CreatedAt) {
		t.Fatalf("last message %+v, want the note %d", m, note.Message.ID)
	}
	if m.Body != strings.Repeat("é", store.PreviewRunes) {
		t.Errorf("body of %d characters (%d bytes), want the first %d characters", len([]rune(m.Body)), len(m.Body), store.PreviewRunes)
	}
	if q, ok := by[quiet.ID]; !ok || q.LastMessage != nil || q.Contact.ID != f.contact.ID {
		t.Errorf("a conversation without messages: %+v", q)
	}
	none, err := s.ConversationPreviews(c, f.ws.ID, nil)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("no ids: %+v", none)
	}
}
