package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/retention"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

const day = 24 * time.Hour

var seq atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// world is a workspace with an inbox and a contact, and a blob
// directory.
type world struct {
	st      store.Store
	blobs   *media.Dir
	ws      store.Workspace
	owner   store.Agent
	inbox   store.Inbox
	contact store.Contact
}

func newWorld(t testing.TB, st store.Store, blobs *media.Dir) world {
	t.Helper()
	c := context.Background()
	w := world{st: st, blobs: blobs}
	var err error
	w.ws, w.owner, err = st.CreateWorkspace(c, store.NewWorkspace{Name: unique("ws"), OwnerEmail: unique("owner") + "@example.com", OwnerName: "Olive"})
	must(t, err)
	w.inbox, err = st.CreateInbox(c, w.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support"})
	must(t, err)
	w.contact, _, err = st.UpsertContact(c, w.ws.ID, store.Identity{Channel: "whatsapp", ExternalID: unique("+4470")}, store.NewContact{Name: "Carol"})
	must(t, err)
	return w
}

// conversation opens a conversation holding one inbound photo whose blob
// is stored in the blob directory, and returns it with the message and
// the blob's key.
func (w world) conversation(t testing.TB) (store.Conversation, store.Message, string) {
	t.Helper()
	c := context.Background()
	conv, _, err := w.st.CreateConversation(c, w.ws.ID, store.NewConversation{InboxID: w.inbox.ID, ContactID: w.contact.ID})
	must(t, err)
	created, err := w.st.CreateMessage(c, w.ws.ID, store.NewMessage{
		ConversationID: conv.ID, Direction: store.DirectionIn, Type: store.TypeMedia, Body: "[image]",
		ProviderMessageID: unique("wamid"),
		Media:             []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`{"id":"1"}`), MimeType: "image/jpeg"}},
	})
	must(t, err)
	js, err := w.st.ClaimMedia(c, store.Now(), time.Minute, 10)
	must(t, err)
	if len(js) != 1 {
		t.Fatalf("claimed %d media, want 1", len(js))
	}
	blob, err := w.blobs.Put(c, strings.NewReader("a photo"), 1<<20)
	must(t, err)
	_, _, err = w.st.MarkMediaStored(c, js[0], store.StoredBlob{Key: blob.Key, Size: blob.Size, SHA256: blob.SHA256})
	must(t, err)
	return conv, created.Message, blob.Key
}

func (w world) blobExists(t testing.TB, key string) bool {
	t.Helper()
	rc, _, err := w.blobs.Open(context.Background(), key)
	if errors.Is(err, media.ErrNotFound) {
		return false
	}
	must(t, err)
	rc.Close()
	return true
}

func (w world) setRetention(t testing.TB, messageDays, mediaDays, eventDays int) {
	t.Helper()
	_, err := w.st.SetRetentionSettings(context.Background(), w.ws.ID,
		store.RetentionSettings{MessageDays: messageDays, MediaDays: mediaDays, EventDays: eventDays},
		store.Actor{AgentID: w.owner.ID, Role: store.RoleOwner})
	must(t, err)
}

func newJob(t testing.TB, w world, now time.Time, reg prometheus.Registerer, onCommit func(int64)) *retention.Job {
	t.Helper()
	m, err := retention.NewMetrics(reg)
	must(t, err)
	return retention.New(retention.Options{
		Store: w.st, Blobs: w.blobs, Metrics: m, Batch: 1, Pause: time.Millisecond,
		Now: func() time.Time { return now }, OnCommit: onCommit,
	})
}

func newBlobs(t testing.TB) *media.Dir {
	t.Helper()
	d, err := media.NewDir(t.TempDir())
	must(t, err)
	return d
}

// TestExpiredMediaBlobsDeleted: once media expired, a run deletes the
// blob from the directory and the item from its message, which stays;
// a dry run before it reports the same counts and deletes nothing; the
// counter counts what went.
func TestExpiredMediaBlobsDeleted(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		c := context.Background()
		w := newWorld(t, st, newBlobs(t))
		// Media kept 30 days; messages and events longer (the clock
		// jumps ahead, and the run's own message.updated would be
		// "older" than a 30-day event cutoff from 31 days on).
		w.setRetention(t, 90, 30, 3650)
		_, m, key := w.conversation(t)
		other := newWorld(t, st, newBlobs(t))
		_, otherMsg, otherKey := other.conversation(t)
		reg := prometheus.NewRegistry()
		var commits atomic.Int64
		// 31 days on: media (30 days) expired, messages (90) not.
		j := newJob(t, w, store.Now().Add(31*day), reg, func(int64) { commits.Add(1) })

		dry, err := j.RunWorkspace(c, w.ws.ID, true)
		must(t, err)
		if dry != (store.RetentionCounts{Media: 1}) {
			t.Fatalf("dry run = %+v, want 1 media", dry)
		}
		if !w.blobExists(t, key) {
			t.Fatal("a dry run deleted the blob")
		}
		if _, err := st.Media(c, w.ws.ID, m.Media[0].ID); err != nil {
			t.Fatalf("a dry run deleted the media item: %v", err)
		}

		got, err := j.RunWorkspace(c, w.ws.ID, false)
		must(t, err)
		if got != dry {
			t.Fatalf("run = %+v, want what the dry run said, %+v", got, dry)
		}
		if w.blobExists(t, key) {
			t.Fatal("expired blob still in the blob directory")
		}
		msg, err := st.Message(c, w.ws.ID, m.ID)
		must(t, err)
		if len(msg.Media) != 0 {
			t.Fatalf("message media after expiry = %+v, want none", msg.Media)
		}
		if commits.Load() == 0 {
			t.Error("OnCommit was not called after deleting media")
		}
		if n := deletedTotal(t, reg, "media"); n != 1 {
			t.Errorf("switchboard_retention_deleted_total{kind=media} = %v, want 1", n)
		}
		// The other workspace (defaults, its own job not run) is untouched.
		if !other.blobExists(t, otherKey) {
			t.Fatal("another workspace's blob was deleted")
		}
		if msg, err := st.Message(c, other.ws.ID, otherMsg.ID); err != nil || len(msg.Media) != 1 {
			t.Fatalf("other workspace's message: %+v, %v", msg, err)
		}
	})
}

// deletedTotal reads switchboard_retention_deleted_total{kind} from reg.
func deletedTotal(t testing.TB, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	families, err := reg.Gather()
	must(t, err)
	for _, f := range families {
		if f.GetName() != "switchboard_retention_deleted_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no switchboard_retention_deleted_total{kind=%q} in the registry", kind)
	return 0
}

// later waits until the store's clock has passed at, and returns its
// time then.
func later(at time.Time) time.Time {
	for {
		if now := store.Now(); now.After(at) {
			return now
		}
		time.Sleep(time.Millisecond)
	}
}

// TestExpiredConversationsDeletedWithBlobs: an expired conversation goes
// with its messages and media, and the blobs of its media leave the blob
// directory; a newer conversation stays. The run is bounded batch by
// batch and stops when its context ends.
func TestExpiredConversationsDeletedWithBlobs(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		c := context.Background()
		w := newWorld(t, st, newBlobs(t))
		w.setRetention(t, 1, 180, 3650)
		conv1, _, key1 := w.conversation(t)
		conv2, _, key2 := w.conversation(t)
		// Conversations active before cutoff expire a day after it; kept,
		// created later, does not.
		conv2, err := st.Conversation(c, w.ws.ID, conv2.ID)
		must(t, err)
		cutoff := later(conv2.LastActivityAt)
		now := cutoff.Add(day)

		// The context ends as the first batch (of one) commits: the run
		// stops with what it deleted so far.
		cctx, cancel := context.WithCancel(c)
		j := newJob(t, w, now, nil, func(int64) { cancel() })
		got, err := j.RunWorkspace(cctx, w.ws.ID, false)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run with its context ended = %v, want context.Canceled", err)
		}
		if got != (store.RetentionCounts{Conversations: 1, Messages: 1, Media: 1}) {
			t.Fatalf("first batch deleted %+v, want one conversation", got)
		}
		if w.blobExists(t, key1) {
			t.Fatal("the deleted conversation's blob is still there")
		}
		if !w.blobExists(t, key2) {
			t.Fatal("the next batch's blob went early")
		}

		later(cutoff)
		kept, _, keptKey := w.conversation(t)
		j = newJob(t, w, now, nil, nil)
		dry, err := j.RunWorkspace(c, w.ws.ID, true)
		must(t, err)
		got, err = j.RunWorkspace(c, w.ws.ID, false)
		must(t, err)
		if want := (store.RetentionCounts{Conversations: 1, Messages: 1, Media: 1}); got != want || dry != want {
			t.Fatalf("dry run %+v, run %+v; want %+v", dry, got, want)
		}
		for _, id := range []int64{conv1.ID, conv2.ID} {
			if _, err := st.Conversation(c, w.ws.ID, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("expired conversation %d: %v, want not found", id, err)
			}
		}
		if w.blobExists(t, key2) {
			t.Fatal("expired conversation's blob is still there")
		}
		if _, err := st.Conversation(c, w.ws.ID, kept.ID); err != nil {
			t.Fatalf("newer conversation: %v", err)
		}
		if !w.blobExists(t, keptKey) {
			t.Fatal("a newer conversation's blob was deleted")
		}
	})
}

// TestSweepRunsEveryWorkspace: Run sweeps every workspace at start and
// stops when its context ends; a replica that is not the leader does
// not sweep.
func TestSweepRunsEveryWorkspace(t *testing.T) {
	st := teststore.SQLite(t)
	blobs := newBlobs(t)
	a, b := newWorld(t, st, blobs), newWorld(t, st, blobs)
	_, _, keyA := a.conversation(t)
	_, _, keyB := b.conversation(t)

	var leader atomic.Bool
	j := retention.New(retention.Options{
		Store: st, Blobs: blobs, Now: func() time.Time { return store.Now().Add(31 * day) },
		Leader: leader.Load, Interval: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { j.Run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	// Not the leader: a manual dry run shows the work is still there.
	if n, err := j.RunWorkspace(context.Background(), a.ws.ID, true); err != nil || n.Media != 1 {
		t.Fatalf("dry run while not leader = %+v, %v", n, err)
	}
	leader.Store(true)
	deadline := time.Now().Add(30 * time.Second)
	for a.blobExists(t, keyA) || b.blobExists(t, keyB) {
		if time.Now().After(deadline) {
			t.Fatal("the leader's sweep did not delete both workspaces' expired blobs")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
}

// failingBlobs fails every Delete.
type failingBlobs struct{}

func (failingBlobs) Delete(context.Context, string) error { return io.ErrUnexpectedEOF }

// TestBlobFailureKeepsMediaRow: a media blob that cannot be deleted keeps
// its row, so the next run tries again.
func TestBlobFailureKeepsMediaRow(t *testing.T) {
	st := teststore.SQLite(t)
	w := newWorld(t, st, newBlobs(t))
	_, m, _ := w.conversation(t)
	j := retention.New(retention.Options{Store: st, Blobs: failingBlobs{}, Now: func() time.Time { return store.Now().Add(31 * day) }})
	_, err := j.RunWorkspace(context.Background(), w.ws.ID, false)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("run = %v, want the blob store's error", err)
	}
	if _, err := st.Media(context.Background(), w.ws.ID, m.Media[0].ID); err != nil {
		t.Fatalf("media row after a failed blob delete: %v", err)
	}
}
