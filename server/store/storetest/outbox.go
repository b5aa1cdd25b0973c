package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

var whatsappOnly = []store.InboxKind{store.InboxWhatsApp}

// outbound queues a reply in a conversation, after a message from the
// contact when there was none, so that WhatsApp's window is open.
func outbound(t testing.TB, s store.Store, workspaceID, convID int64, body string) store.Message {
	t.Helper()
	openWindow(t, s, workspaceID, convID)
	m, err := s.CreateMessage(ctx(t), workspaceID, store.NewMessage{
		ConversationID: convID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: body,
	})
	must(t, err)
	return m.Message
}

// openWindow has the contact write in the conversation, unless they have.
func openWindow(t testing.TB, s store.Store, workspaceID, convID int64) {
	t.Helper()
	conv, err := s.Conversation(ctx(t), workspaceID, convID)
	must(t, err)
	if conv.LastInboundAt == nil {
		inbound(t, s, workspaceID, convID, "Hello?", unique("wamid.hello"))
	}
}

func claimOne(t testing.TB, s store.Store, now time.Time) store.OutboxEntry {
	t.Helper()
	es, err := s.ClaimOutbox(ctx(t), whatsappOnly, now, time.Minute, 10)
	must(t, err)
	if len(es) != 1 {
		t.Fatalf("claimed %d entries, want 1: %+v", len(es), es)
	}
	return es[0]
}

func claimNone(t testing.TB, s store.Store, now time.Time) {
	t.Helper()
	es, err := s.ClaimOutbox(ctx(t), whatsappOnly, now, time.Minute, 10)
	must(t, err)
	if len(es) != 0 {
		t.Fatalf("claimed %d entries, want none: %+v", len(es), es)
	}
}

// testOutboxClaim: only queued sends of the asked-for inbox kinds are
// claimed; a claim hides the entry until its lease ends, after which it
// is claimed again (a drainer that crashed mid-send), and only the newest
// claim can complete it.
func testOutboxClaim(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	api, err := s.CreateInbox(c, f.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "API"})
	must(t, err)
	outbound(t, s, f.ws.ID, newConversation(t, s, f.ws.ID, api.ID, f.contact.ID).ID, "to the api channel")
	_, err = s.CreateMessage(c, f.ws.ID, store.NewMessage{
		ConversationID: f.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID,
		Type: store.TypeNote, Body: "a private note",
	})
	must(t, err)
	m := outbound(t, s, f.ws.ID, f.conv.ID, "hello on whatsapp")

	now := store.Now()
	first := claimOne(t, s, now)
	if first.Message.ID != m.ID || first.WorkspaceID != f.ws.ID || first.Attempts != 1 || first.InboxKind != store.InboxWhatsApp || first.Message.Body != "hello on whatsapp" {
		t.Fatalf("claimed %+v, want message %d at attempt 1", first, m.ID)
	}
	claimNone(t, s, now.Add(30*time.Second))

	// The lease ran out: the drainer holding it is presumed dead.
	second := claimOne(t, s, now.Add(2*time.Minute))
	if second.Message.ID != m.ID || second.Attempts != 2 {
		t.Fatalf("reclaimed %+v, want message %d at attempt 2", second, m.ID)
	}
	_, _, err = s.MarkOutboxSent(c, first, "wamid.stale")
	wantErr(t, err, store.ErrLeaseLost)
	other := second
	other.WorkspaceID = newFixture(t, s).ws.ID
	_, _, err = s.FailOutbox(c, other, "cross-workspace")
	wantErr(t, err, store.ErrLeaseLost)

	sent, ev, err := s.MarkOutboxSent(c, second, "wamid.HBgL")
	must(t, err)
	if sent.Status != store.DeliverySent || sent.ProviderMessageID != "wamid.HBgL" || ev.Kind != store.EventMessageUpdated || ev.Seq == 0 {
		t.Fatalf("sent %+v event %+v", sent, ev)
	}
	byID, err := s.MessageByProviderID(c, f.ws.ID, f.inbox.ID, "wamid.HBgL")
	must(t, err)
	if byID.ID != m.ID {
		t.Fatalf("provider id finds message %d, want %d", byID.ID, m.ID)
	}
	_, _, err = s.MarkOutboxSent(c, second, "wamid.again")
	wantErr(t, err, store.ErrLeaseLost)
	claimNone(t, s, now.Add(time.Hour))
}

// testOutboxRetry: a retried entry waits until its next attempt with the
// message still queued; a failed one ends with the message failed.
func testOutboxRetry(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	m := outbound(t, s, f.ws.ID, f.conv.ID, "retry me")
	now := store.Now()
	e := claimOne(t, s, now)
	must(t, s.RetryOutbox(c, e, now.Add(10*time.Minute), "HTTP 503"))
	wantErr(t, s.RetryOutbox(c, e, now, "twice"), store.ErrLeaseLost)
	got, err := s.Message(c, f.ws.ID, m.ID)
	must(t, err)
	if got.Status != store.DeliveryQueued {
		t.Fatalf("status %q after a retry, want queued", got.Status)
	}
	claimNone(t, s, now.Add(5*time.Minute))
	e = claimOne(t, s, now.Add(11*time.Minute))
	if e.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", e.Attempts)
	}
	failed, ev, err := s.FailOutbox(c, e, "WhatsApp error 131026: Message undeliverable")
	must(t, err)
	if failed.Status != store.DeliveryFailed || failed.Error != "WhatsApp error 131026: Message undeliverable" || ev.Kind != store.EventMessageUpdated {
		t.Fatalf("failed %+v event %+v", failed, ev)
	}
	claimNone(t, s, now.Add(time.Hour))
}

// testOutboxClaimConcurrent: drainers claiming at once never get the
// same entry.
func testOutboxClaimConcurrent(t *testing.T, s store.Store) {
	const n, drainers = 24, 4
	f := newFixture(t, s)
	for i := range n {
		outbound(t, s, f.ws.ID, f.conv.ID, fmt.Sprintf("m%d", i))
	}
	now := store.Now()
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for range drainers {
		wg.Go(func() {
			for {
				es, err := s.ClaimOutbox(ctx(t), whatsappOnly, now, time.Minute, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(es) == 0 {
					return
				}
				mu.Lock()
				for _, e := range es {
					seen[e.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct entries, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("entry %d claimed %d times", id, k)
		}
	}
}

// testRequeueMessage: a failed send can be queued again, once, and is
// then claimed as new; anything else is not retryable.
func testRequeueMessage(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	m := outbound(t, s, f.ws.ID, f.conv.ID, "try again")
	now := store.Now()
	_, _, err := s.RequeueMessage(c, f.ws.ID, m.ID)
	wantErr(t, err, store.ErrNotRetryable) // queued, not failed
	e := claimOne(t, s, now)
	_, _, err = s.FailOutbox(c, e, "WhatsApp error 131047: Re-engagement message")
	must(t, err)

	_, _, err = s.RequeueMessage(c, newFixture(t, s).ws.ID, m.ID)
	wantErr(t, err, store.ErrNotFound)
	got, ev, err := s.RequeueMessage(c, f.ws.ID, m.ID)
	must(t, err)
	if got.Status != store.DeliveryQueued || got.Error != "" || ev.Kind != store.EventMessageUpdated {
		t.Fatalf("requeued %+v event %+v", got, ev)
	}
	_, _, err = s.RequeueMessage(c, f.ws.ID, m.ID)
	wantErr(t, err, store.ErrNotRetryable)
	e = claimOne(t, s, store.Now())
	if e.Message.ID != m.ID || e.Attempts != 1 {
		t.Fatalf("claimed %+v, want message %d at attempt 1", e, m.ID)
	}

	// Failed after it was sent (a failed receipt): retried as well, the
	// old provider id dropped.
	sent, _, err := s.MarkOutboxSent(c, e, "wamid.FIRST")
	must(t, err)
	_, _, err = s.UpdateMessageStatus(c, f.ws.ID, sent.ID, store.DeliveryFailed, "131026: Message undeliverable")
	must(t, err)
	got, _, err = s.RequeueMessage(c, f.ws.ID, m.ID)
	must(t, err)
	if got.Status != store.DeliveryQueued || got.ProviderMessageID != "" {
		t.Fatalf("requeued after a failed receipt: %+v", got)
	}

	in := inbound(t, s, f.ws.ID, f.conv.ID, "inbound", unique("wamid.in"))
	_, _, err = s.RequeueMessage(c, f.ws.ID, in.Message.ID)
	wantErr(t, err, store.ErrNotRetryable)
}
