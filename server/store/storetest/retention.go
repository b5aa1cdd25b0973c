package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// after waits until the store's clock has passed t, so that what is
// created next is strictly newer than t.
func after(t testing.TB, at time.Time) {
	t.Helper()
	for !store.Now().After(at) {
		time.Sleep(time.Millisecond)
	}
}

// lastActivity re-reads a conversation's last activity time.
func lastActivity(t testing.TB, s store.Store, workspaceID, convID int64) time.Time {
	t.Helper()
	c, err := s.Conversation(ctx(t), workspaceID, convID)
	must(t, err)
	return c.LastActivityAt
}

// far is a cutoff that expires nothing.
var far = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// testRetentionSettings: a workspace has the defaults until it saves its
// own; saving records retention.updated; out-of-range days are invalid
// and change nothing; other workspaces keep theirs.
func testRetentionSettings(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newFixture(t, s), newFixture(t, s)
	got, err := s.RetentionSettings(c, a.ws.ID)
	must(t, err)
	if want := store.DefaultRetentionSettings(); got != want {
		t.Fatalf("settings = %+v, want the defaults %+v", got, want)
	}
	if got.MessageDays != 90 || got.MediaDays != 30 || got.EventDays != 30 {
		t.Fatalf("defaults = %+v, want 90/30/30 days", got)
	}

	saved, err := s.SetRetentionSettings(c, a.ws.ID, store.RetentionSettings{MessageDays: 3650, MediaDays: 180, EventDays: 1}, actor(a.owner))
	must(t, err)
	if saved.MessageDays != 3650 || saved.MediaDays != 180 || saved.EventDays != 1 || saved.UpdatedAt == nil {
		t.Fatalf("saved = %+v", saved)
	}
	got, err = s.RetentionSettings(c, a.ws.ID)
	must(t, err)
	if got.MessageDays != 3650 || got.MediaDays != 180 || got.EventDays != 1 || got.UpdatedAt == nil || !got.UpdatedAt.Equal(*saved.UpdatedAt) {
		t.Fatalf("read back %+v, want %+v", got, saved)
	}
	actions, entries := auditActions(t, s, a.ws.ID)
	if i := slices.Index(actions, store.AuditRetentionUpdated); i < 0 {
		t.Fatalf("audit %v, want %s", actions, store.AuditRetentionUpdated)
	} else if d := details(t, entries[i]); entries[i].ActorID != a.owner.ID || d["message_days"] != 3650.0 ||
		d["media_days"] != 180.0 || d["event_days"] != 1.0 {
		t.Fatalf("audit entry %+v details %v", entries[i], d)
	}

	for _, tc := range []struct {
		field string
		rs    store.RetentionSettings
	}{
		{"message_days", store.RetentionSettings{MessageDays: 0, MediaDays: 30, EventDays: 30}},
		{"message_days", store.RetentionSettings{MessageDays: 3651, MediaDays: 30, EventDays: 30}},
		{"media_days", store.RetentionSettings{MessageDays: 90, MediaDays: 0, EventDays: 30}},
		{"media_days", store.RetentionSettings{MessageDays: 90, MediaDays: 181, EventDays: 30}},
		{"event_days", store.RetentionSettings{MessageDays: 90, MediaDays: 30, EventDays: 0}},
		{"event_days", store.RetentionSettings{MessageDays: 90, MediaDays: 30, EventDays: -1}},
	} {
		_, err := s.SetRetentionSettings(c, a.ws.ID, tc.rs, actor(a.owner))
		wantInvalid(t, err, tc.field)
	}
	got, err = s.RetentionSettings(c, a.ws.ID)
	must(t, err)
	if got.MessageDays != 3650 {
		t.Fatalf("after invalid saves: %+v, want unchanged", got)
	}
	if got, err := s.RetentionSettings(c, b.ws.ID); err != nil || got != store.DefaultRetentionSettings() {
		t.Fatalf("other workspace: %+v, %v; want the defaults", got, err)
	}
	_, err = s.RetentionSettings(c, a.ws.ID+b.ws.ID+1000)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.SetRetentionSettings(c, a.ws.ID+b.ws.ID+1000, store.DefaultRetentionSettings(), store.Actor{})
	wantErr(t, err, store.ErrNotFound)

	ids, err := s.RetentionWorkspaceIDs(c)
	must(t, err)
	if !slices.Contains(ids, a.ws.ID) || !slices.Contains(ids, b.ws.ID) || !slices.IsSorted(ids) {
		t.Fatalf("workspace ids %v, want both of %d, %d in order", ids, a.ws.ID, b.ws.ID)
	}
}

// testRetentionBoundary: a conversation whose last activity is exactly
// at the cutoff is kept; a microsecond later it has expired. The same
// holds for media and events, and through RetentionSettings.Cutoffs.
func testRetentionBoundary(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	m := withMedia(t, s, f, unique("wamid.boundary"), 1).Message
	at := lastActivity(t, s, f.ws.ID, f.conv.ID)
	md, err := s.Media(c, f.ws.ID, m.Media[0].ID)
	must(t, err)
	page, err := s.EventsAfter(c, f.ws.ID, 0, store.MaxEventPage)
	must(t, err)
	lastEventAt := page.Events[len(page.Events)-1].CreatedAt

	settings := store.DefaultRetentionSettings()
	day := 24 * time.Hour
	atBoundary := settings.Cutoffs(at.Add(90 * day))
	if !atBoundary.Conversations.Equal(at) {
		t.Fatalf("Cutoffs(at + 90 days).Conversations = %v, want %v", atBoundary.Conversations, at)
	}
	n, err := s.CountExpired(c, f.ws.ID, store.RetentionCutoffs{Conversations: at, Media: md.CreatedAt, Events: page.Events[0].CreatedAt})
	must(t, err)
	if n != (store.RetentionCounts{}) {
		t.Fatalf("count at the boundary = %+v, want nothing", n)
	}
	del, err := s.DeleteExpiredConversations(c, f.ws.ID, at, 500)
	must(t, err)
	if del.Conversations != 0 {
		t.Fatalf("deleted %+v at the boundary, want nothing", del)
	}
	expired, err := s.ExpiredMedia(c, f.ws.ID, md.CreatedAt, 500)
	must(t, err)
	if len(expired) != 0 {
		t.Fatalf("expired media at the boundary: %+v", expired)
	}
	if n, err := s.DeleteExpiredEvents(c, f.ws.ID, page.Events[0].CreatedAt, 500); err != nil || n != 0 {
		t.Fatalf("DeleteExpiredEvents at the first event's time = %d, %v; want 0", n, err)
	}

	µs := time.Microsecond
	n, err = s.CountExpired(c, f.ws.ID, store.RetentionCutoffs{Conversations: at.Add(µs), Media: md.CreatedAt.Add(µs), Events: lastEventAt.Add(µs)})
	must(t, err)
	want := store.RetentionCounts{Conversations: 1, Messages: 1, Media: 1, Events: int64(len(page.Events))}
	if n != want {
		t.Fatalf("count a microsecond later = %+v, want %+v", n, want)
	}
	expired, err = s.ExpiredMedia(c, f.ws.ID, md.CreatedAt.Add(µs), 500)
	must(t, err)
	if len(expired) != 1 || expired[0].ID != md.ID {
		t.Fatalf("expired media a microsecond later = %+v, want item %d", expired, md.ID)
	}
	del, err = s.DeleteExpiredConversations(c, f.ws.ID, settings.Cutoffs(at.Add(90*day+µs)).Conversations, 500)
	must(t, err)
	if del.Conversations != 1 || del.Messages != 1 || del.Media != 1 {
		t.Fatalf("deleted %+v a microsecond later, want the conversation, its message and media", del)
	}
	_, err = s.Conversation(c, f.ws.ID, f.conv.ID)
	wantErr(t, err, store.ErrNotFound)
}

// testRetentionConversations: expired conversations go whole, in
// batches of limit, with their messages (and their search index
// entries), media (whose stored blobs are handed back) and outbox
// entries, each appending conversation.deleted; a conversation active
// after the cutoff and other workspaces are untouched; CountExpired
// reports exactly what the deletions then delete.
func testRetentionConversations(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newFixture(t, s), newFixture(t, s)
	word := unique("zebrafinch")
	inbound(t, s, a.ws.ID, a.conv.ID, "old "+word, unique("wamid"))
	m := withMedia(t, s, a, unique("wamid.media"), 2).Message
	js := claimMedia(t, s, store.Now(), 2)
	blobKey := unique("blob")
	_, _, err := s.MarkMediaStored(c, js[0], store.StoredBlob{Key: blobKey, Size: 3, SHA256: "abc"})
	must(t, err)
	openWindow(t, s, a.ws.ID, a.conv.ID)
	outbound(t, s, a.ws.ID, a.conv.ID, "a reply about "+word)
	old2 := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	inbound(t, s, a.ws.ID, old2.ID, "second "+word, unique("wamid"))
	// b's conversation is as old, but b is another workspace.
	inbound(t, s, b.ws.ID, b.conv.ID, "other "+word, unique("wamid"))

	cutoff := lastActivity(t, s, a.ws.ID, old2.ID)
	if first := lastActivity(t, s, a.ws.ID, a.conv.ID); first.After(cutoff) {
		cutoff = first
	}
	cutoff = cutoff.Add(time.Microsecond)
	after(t, cutoff)
	kept := newConversation(t, s, a.ws.ID, a.inbox.ID, a.contact.ID)
	keptMsg := inbound(t, s, a.ws.ID, kept.ID, "new "+word, unique("wamid")).Message

	cutoffs := store.RetentionCutoffs{Conversations: cutoff, Media: far, Events: far}
	counts, err := s.CountExpired(c, a.ws.ID, cutoffs)
	must(t, err)
	want := store.RetentionCounts{Conversations: 2, Messages: 4, Media: 2}
	if counts != want {
		t.Fatalf("CountExpired = %+v, want %+v", counts, want)
	}
	// Counting deletes nothing.
	if again, err := s.CountExpired(c, a.ws.ID, cutoffs); err != nil || again != counts {
		t.Fatalf("CountExpired again = %+v, %v; want %+v", again, err, counts)
	}

	seq := mark(t, s, a.ws.ID)
	var got store.RetentionCounts
	var keys []string
	for range 3 {
		del, err := s.DeleteExpiredConversations(c, a.ws.ID, cutoff, 1)
		must(t, err)
		if del.Conversations > 1 {
			t.Fatalf("a batch of limit 1 deleted %d conversations", del.Conversations)
		}
		got.Add(store.RetentionCounts{Conversations: del.Conversations, Messages: del.Messages, Media: del.Media})
		keys = append(keys, del.BlobKeys...)
	}
	if got != want {
		t.Fatalf("deleted %+v, want what CountExpired reported, %+v", got, want)
	}
	if !slices.Equal(keys, []string{blobKey}) {
		t.Fatalf("blob keys %v, want [%s]", keys, blobKey)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventConversationDeleted, store.EventConversationDeleted)
	var deleted []int64
	for _, ev := range evs {
		p := payload[store.ConversationDeletedPayload](t, ev)
		if p.Reason != store.DeletedByRetention || p.ConversationID != ev.ConversationID {
			t.Fatalf("conversation.deleted %+v payload %+v", ev, p)
		}
		deleted = append(deleted, p.ConversationID)
	}
	if !slices.Equal(deleted, []int64{a.conv.ID, old2.ID}) {
		t.Fatalf("deleted conversations %v, want %v, oldest first", deleted, []int64{a.conv.ID, old2.ID})
	}

	for _, id := range []int64{a.conv.ID, old2.ID} {
		_, err := s.Conversation(c, a.ws.ID, id)
		wantErr(t, err, store.ErrNotFound)
	}
	_, err = s.Message(c, a.ws.ID, m.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Media(c, a.ws.ID, m.Media[0].ID)
	wantErr(t, err, store.ErrNotFound)
	claimNone(t, s, store.Now().Add(time.Hour))
	hits, err := s.SearchMessages(c, a.ws.ID, word, 50)
	must(t, err)
	if len(hits) != 1 || hits[0].ID != keptMsg.ID {
		t.Fatalf("search %q after deletion found %+v, want only message %d", word, hits, keptMsg.ID)
	}
	if _, err := s.Conversation(c, a.ws.ID, kept.ID); err != nil {
		t.Fatalf("conversation active after the cutoff: %v", err)
	}
	if _, err := s.Conversation(c, b.ws.ID, b.conv.ID); err != nil {
		t.Fatalf("other workspace's conversation: %v", err)
	}
	hits, err = s.SearchMessages(c, b.ws.ID, word, 50)
	must(t, err)
	if len(hits) != 1 {
		t.Fatalf("other workspace's search found %d messages, want 1", len(hits))
	}
	if n, err := s.CountExpired(c, a.ws.ID, cutoffs); err != nil || n != (store.RetentionCounts{}) {
		t.Fatalf("CountExpired after the run = %+v, %v; want nothing", n, err)
	}
}

// testRetentionMedia: expired media items go, the message stays without
// them and message.updated tells clients; another workspace's ids and
// items gone already are skipped.
func testRetentionMedia(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newFixture(t, s), newFixture(t, s)
	m := withMedia(t, s, a, unique("wamid.media"), 2).Message
	bm := withMedia(t, s, b, unique("wamid.media"), 1).Message
	md, err := s.Media(c, a.ws.ID, m.Media[1].ID)
	must(t, err)
	cutoff := md.CreatedAt.Add(time.Microsecond)

	expired, err := s.ExpiredMedia(c, a.ws.ID, cutoff, 1)
	must(t, err)
	if len(expired) != 1 || expired[0].ID != m.Media[0].ID {
		t.Fatalf("ExpiredMedia limit 1 = %+v, want the oldest item %d", expired, m.Media[0].ID)
	}
	counts, err := s.CountExpired(c, a.ws.ID, store.RetentionCutoffs{Conversations: far, Media: cutoff, Events: far})
	must(t, err)
	if counts != (store.RetentionCounts{Media: 2}) {
		t.Fatalf("CountExpired = %+v, want 2 media", counts)
	}

	seq := mark(t, s, a.ws.ID)
	n, err := s.DeleteMedia(c, a.ws.ID, []int64{m.Media[0].ID, m.Media[1].ID, bm.Media[0].ID})
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteMedia = %d, want 2 (not the other workspace's)", n)
	}
	evs := wantKinds(t, s, a.ws.ID, seq, store.EventMessageUpdated)
	if p := payload[store.MessagePayload](t, evs[0]); p.Message.ID != m.ID || len(p.Message.Media) != 0 {
		t.Fatalf("message.updated payload %+v, want message %d without media", p.Message, m.ID)
	}
	got, err := s.Message(c, a.ws.ID, m.ID)
	must(t, err)
	if len(got.Media) != 0 || got.Body != m.Body {
		t.Fatalf("message after its media expired: %+v", got)
	}
	_, err = s.Media(c, a.ws.ID, m.Media[0].ID)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.Media(c, b.ws.ID, bm.Media[0].ID); err != nil {
		t.Fatalf("other workspace's media: %v", err)
	}
	seq = mark(t, s, a.ws.ID)
	if n, err := s.DeleteMedia(c, a.ws.ID, []int64{m.Media[0].ID}); err != nil || n != 0 {
		t.Fatalf("DeleteMedia of a deleted item = %d, %v; want 0", n, err)
	}
	wantKinds(t, s, a.ws.ID, seq)
	if n, err := s.DeleteMedia(c, a.ws.ID, nil); err != nil || n != 0 {
		t.Fatalf("DeleteMedia(nil) = %d, %v", n, err)
	}
}

// testRetentionEvents: expired events go from the front of the log in
// batches of limit; catch-up behind them is ErrEventsGone; the latest
// seq stays; other workspaces keep theirs.
func testRetentionEvents(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newFixture(t, s), newFixture(t, s)
	for range 3 {
		inbound(t, s, a.ws.ID, a.conv.ID, "hello", unique("wamid"))
	}
	page, err := s.EventsAfter(c, a.ws.ID, 0, store.MaxEventPage)
	must(t, err)
	total := int64(len(page.Events))
	cutoff := page.Events[len(page.Events)-1].CreatedAt.Add(time.Microsecond)
	after(t, cutoff)
	inbound(t, s, a.ws.ID, a.conv.ID, "newer", unique("wamid"))
	bLatest := mark(t, s, b.ws.ID)

	counts, err := s.CountExpired(c, a.ws.ID, store.RetentionCutoffs{Conversations: far, Media: far, Events: cutoff})
	must(t, err)
	if counts != (store.RetentionCounts{Events: total}) {
		t.Fatalf("CountExpired = %+v, want %d events", counts, total)
	}
	var deleted int64
	for {
		n, err := s.DeleteExpiredEvents(c, a.ws.ID, cutoff, 2)
		must(t, err)
		if n > 2 {
			t.Fatalf("a batch of limit 2 deleted %d events", n)
		}
		if n == 0 {
			break
		}
		deleted += n
	}
	if deleted != total {
		t.Fatalf("deleted %d events, want %d", deleted, total)
	}
	_, err = s.EventsAfter(c, a.ws.ID, 0, 10)
	wantErr(t, err, store.ErrEventsGone)
	rest, err := s.EventsAfter(c, a.ws.ID, total, 10)
	must(t, err)
	if len(rest.Events) == 0 || rest.OldestSeq != total+1 || rest.LatestSeq != rest.Events[len(rest.Events)-1].Seq {
		t.Fatalf("after pruning: %+v", rest)
	}
	if got := mark(t, s, b.ws.ID); got != bLatest {
		t.Fatalf("other workspace's latest seq %d, want %d", got, bLatest)
	}
	if _, err := s.EventsAfter(c, b.ws.ID, 0, 10); err != nil {
		t.Fatalf("other workspace's log: %v", err)
	}
}
