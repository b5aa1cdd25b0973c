package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// withMedia stores an inbound media message carrying n attachments.
func withMedia(t testing.TB, s store.Store, f fixture, providerID string, n int) store.CreatedMessage {
	t.Helper()
	nm := store.NewMessage{ConversationID: f.conv.ID, Direction: store.DirectionIn, Type: store.TypeMedia,
		Body: "[image]", ProviderMessageID: providerID}
	for i := range n {
		nm.Media = append(nm.Media, store.NewMedia{
			Provider: "whatsapp", Source: json.RawMessage(fmt.Sprintf(`{"id":"media-%d"}`, i)),
			MimeType: "image/jpeg", Filename: fmt.Sprintf("photo-%d.jpg", i), Caption: "look",
		})
	}
	m, err := s.CreateMessage(ctx(t), f.ws.ID, nm)
	must(t, err)
	return m
}

func claimMedia(t testing.TB, s store.Store, now time.Time, want int) []store.MediaJob {
	t.Helper()
	js, err := s.ClaimMedia(ctx(t), now, time.Minute, 10)
	must(t, err)
	if len(js) != want {
		t.Fatalf("claimed %d media, want %d: %+v", len(js), want, js)
	}
	return js
}

// testMedia: media are stored with their message, in its transaction;
// every read of the message carries them; a duplicate message adds
// none; bad media and media on outbound messages are refused; another
// workspace's item is not found.
func testMedia(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	created := withMedia(t, s, f, unique("wamid.media"), 2)
	m := created.Message
	if len(m.Media) != 2 || m.Media[0].State != store.MediaPending || m.Media[0].MimeType != "image/jpeg" ||
		m.Media[0].Filename != "photo-0.jpg" || m.Media[0].ID >= m.Media[1].ID {
		t.Fatalf("created message media = %+v, want two pending, in order", m.Media)
	}
	var payload store.MessagePayload
	must(t, json.Unmarshal(created.Events[0].Payload, &payload))
	if len(payload.Message.Media) != 2 {
		t.Errorf("message.created payload media = %+v, want 2", payload.Message.Media)
	}
	got, err := s.Message(c, f.ws.ID, m.ID)
	must(t, err)
	if len(got.Media) != 2 || got.Media[1] != m.Media[1] {
		t.Errorf("Message().Media = %+v, want %+v", got.Media, m.Media)
	}
	list, err := s.ListMessages(c, f.ws.ID, f.conv.ID, store.MessageFilter{})
	must(t, err)
	if len(list) != 1 || len(list[0].Media) != 2 {
		t.Errorf("ListMessages media = %+v", list)
	}
	plain := inbound(t, s, f.ws.ID, f.conv.ID, "no media", unique("wamid.plain"))
	if plain.Message.Media != nil {
		t.Errorf("a message without media has %+v", plain.Message.Media)
	}

	md, err := s.Media(c, f.ws.ID, m.Media[0].ID)
	must(t, err)
	if md.MessageID != m.ID || md.InboxID != f.inbox.ID || md.Provider != "whatsapp" || md.State != store.MediaPending ||
		md.Caption != "look" || md.Attempts != 0 || string(md.Source) == "" {
		t.Errorf("Media() = %+v", md)
	}
	var src struct{ ID string }
	must(t, json.Unmarshal(md.Source, &src))
	if src.ID != "media-0" {
		t.Errorf("source = %s", md.Source)
	}

	// A provider retry of the same message is a duplicate: no new media.
	dup := withMedia(t, s, f, m.ProviderMessageID, 2)
	if !dup.Duplicate || len(dup.Message.Media) != 2 {
		t.Fatalf("duplicate = %+v", dup)
	}
	claimMedia(t, s, store.Now(), 2)

	other := newFixture(t, s)
	_, err = s.Media(c, other.ws.ID, m.Media[0].ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.Media(c, f.ws.ID, 1<<40)
	wantErr(t, err, store.ErrNotFound)

	bad := []struct {
		name string
		nm   store.NewMessage
	}{
		{"outbound", store.NewMessage{Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "x",
			Media: []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`{"id":"1"}`)}}}},
		{"no provider", store.NewMessage{Direction: store.DirectionIn, Type: store.TypeMedia,
			Media: []store.NewMedia{{Source: json.RawMessage(`{"id":"1"}`)}}}},
		{"no source", store.NewMessage{Direction: store.DirectionIn, Type: store.TypeMedia,
			Media: []store.NewMedia{{Provider: "whatsapp"}}}},
		{"source not an object", store.NewMessage{Direction: store.DirectionIn, Type: store.TypeMedia,
			Media: []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`"x"`)}}}},
		{"long filename", store.NewMessage{Direction: store.DirectionIn, Type: store.TypeMedia,
			Media: []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`{}`), Filename: string(make([]byte, 300))}}}},
		{"too many", store.NewMessage{Direction: store.DirectionIn, Type: store.TypeMedia,
			Media: make([]store.NewMedia, store.MaxMediaPerMessage+1)}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			tc.nm.ConversationID = f.conv.ID
			_, err := s.CreateMessage(ctx(t), f.ws.ID, tc.nm)
			wantErr(t, err, store.ErrInvalid)
		})
	}
	claimMedia(t, s, store.Now(), 0)
}

// testMediaClaim: a claim hides an item until its lease ends, after
// which it is claimed again (a downloader that crashed), and only the
// newest claim can complete it; storing it appends message.updated with
// the item stored.
func testMediaClaim(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	m := withMedia(t, s, f, unique("wamid.claim"), 1).Message
	now := store.Now()
	first := claimMedia(t, s, now, 1)[0]
	if first.Media.ID != m.Media[0].ID || first.Media.Attempts != 1 || first.Media.WorkspaceID != f.ws.ID {
		t.Fatalf("claimed %+v", first)
	}
	claimMedia(t, s, now.Add(30*time.Second), 0)
	// The lease ends: another downloader takes the item over.
	second := claimMedia(t, s, now.Add(2*time.Minute), 1)[0]
	if second.Media.Attempts != 2 {
		t.Errorf("attempts after takeover = %d, want 2", second.Media.Attempts)
	}
	blob := store.StoredBlob{Key: "k1", Size: 1234, SHA256: "ab12", MimeType: "image/png"}
	_, _, err := s.MarkMediaStored(c, first, blob)
	wantErr(t, err, store.ErrLeaseLost)
	_, _, err = s.FailMedia(c, first, "late")
	wantErr(t, err, store.ErrMediaLeaseLost)
	wantErr(t, s.RetryMedia(c, first, now, "late"), store.ErrLeaseLost)

	got, ev, err := s.MarkMediaStored(c, second, blob)
	must(t, err)
	if ev.Kind != store.EventMessageUpdated || ev.ConversationID != f.conv.ID {
		t.Errorf("event = %+v", ev)
	}
	want := store.MediaRef{ID: m.Media[0].ID, State: store.MediaStored, MimeType: "image/png", Filename: "photo-0.jpg", Size: 1234}
	if len(got.Media) != 1 || got.Media[0] != want {
		t.Errorf("message media = %+v, want %+v", got.Media, want)
	}
	var payload store.MessagePayload
	must(t, json.Unmarshal(ev.Payload, &payload))
	if len(payload.Message.Media) != 1 || payload.Message.Media[0] != want {
		t.Errorf("event payload media = %+v", payload.Message.Media)
	}
	md, err := s.Media(c, f.ws.ID, m.Media[0].ID)
	must(t, err)
	if md.State != store.MediaStored || md.BlobKey != "k1" || md.Size != 1234 || md.SHA256 != "ab12" || md.Error != "" {
		t.Errorf("stored media = %+v", md)
	}
	_, _, err = s.MarkMediaStored(c, second, blob)
	wantErr(t, err, store.ErrLeaseLost)
	claimMedia(t, s, now.Add(time.Hour), 0)
}

// testMediaRetry: a retried item waits for its next attempt, keeping the
// error; a failed one is never claimed again and says why.
func testMediaRetry(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	m := withMedia(t, s, f, unique("wamid.retry"), 1).Message
	now := store.Now()
	j := claimMedia(t, s, now, 1)[0]
	next := now.Add(time.Minute)
	must(t, s.RetryMedia(c, j, next, "graph: 500"))
	md, err := s.Media(c, f.ws.ID, m.Media[0].ID)
	must(t, err)
	if md.State != store.MediaPending || md.Error != "graph: 500" || !md.NextAttemptAt.Equal(next.Truncate(time.Microsecond)) {
		t.Errorf("retried media = %+v", md)
	}
	claimMedia(t, s, now.Add(30*time.Second), 0)
	j = claimMedia(t, s, next, 1)[0]
	if j.Media.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", j.Media.Attempts)
	}
	got, ev, err := s.FailMedia(c, j, "graph: 404 not found")
	must(t, err)
	if ev.Kind != store.EventMessageUpdated || len(got.Media) != 1 || got.Media[0].State != store.MediaFailed {
		t.Errorf("failed: message %+v, event %+v", got.Media, ev)
	}
	md, err = s.Media(c, f.ws.ID, m.Media[0].ID)
	must(t, err)
	if md.State != store.MediaFailed || md.Error != "graph: 404 not found" {
		t.Errorf("failed media = %+v", md)
	}
	claimMedia(t, s, now.Add(24*time.Hour), 0)
}

// testMediaClaimConcurrent: downloaders claiming at once never get the
// same item.
func testMediaClaimConcurrent(t *testing.T, s store.Store) {
	f := newFixture(t, s)
	const items = 12
	for i := range items / 3 {
		withMedia(t, s, f, unique(fmt.Sprintf("wamid.c%d", i)), 3)
	}
	now := store.Now()
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				js, err := s.ClaimMedia(ctx(t), now, time.Minute, 2)
				if err != nil {
					t.Error(err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					seen[j.Media.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != items {
		t.Errorf("claimed %d distinct items, want %d", len(seen), items)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("item %d claimed %d times", id, n)
		}
	}
}
