package drafts_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/hub/rediscluster"
	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// clusterBroker joins a hub to a test cluster on the shared Redis under
// prefix, or skips the test loudly when Redis is unreachable — unless
// REQUIRE_SERVICES=1, when it fails.
func clusterBroker(t testing.TB, prefix string) *rediscluster.Cluster {
	t.Helper()
	url := os.Getenv("SWITCHBOARD_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	rdb, err := rediscluster.Connect(url)
	must(t, err)
	if err := rdb.Ping(ctx(t)).Err(); err != nil {
		rdb.Close()
		if os.Getenv("REQUIRE_SERVICES") == "1" {
			t.Fatalf("Redis at %s is required (REQUIRE_SERVICES=1) but unreachable: %v", url, err)
		}
		t.Skipf("SKIPPING: Redis at %s is unreachable (%v); set REQUIRE_SERVICES=1 to make this a failure", url, err)
	}
	cl, err := rediscluster.New(rediscluster.Options{Client: rdb, Prefix: prefix, Heartbeat: 200 * time.Millisecond})
	must(t, err)
	return cl
}

// TestCancelAcrossReplicas: a draft runs on the replica whose relay saw
// the customer's message, while the agent's reply, the customer's next
// message or AI being turned off may be committed on another replica.
// Each cancels the draft wherever it runs.
func TestCancelAcrossReplicas(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "sbtest-drafts-" + hex.EncodeToString(b[:])
	st := teststore.SQLite(t)
	// Two replicas of one cluster on one database; each has its own relay,
	// which publishes what its replica commits, as in production.
	a := newReplicaRig(t, st, clusterBroker(t, prefix), drafts.Options{})
	b2 := newReplicaRig(t, st, clusterBroker(t, prefix), drafts.Options{})
	a.fake.setMode("stall")
	b2.fake.setMode("stall")
	tn := a.workspace(t, false)
	conv := a.conversation(t, tn, "Carol")
	ch := drafts.Channel(conv.ID)
	canceled := func(r *rig, id string) {
		t.Helper()
		evs := r.rec.ended(t, id)
		if last := evs[len(evs)-1]; last.Name != ai.EventFailed || last.Data.Reason != ai.ReasonCanceled {
			t.Fatalf("draft %s ended with %s %+v, want draft.failed canceled", id, last.Name, last.Data)
		}
	}

	// The agent replies through replica B: A's draft is canceled.
	a.inbound(t, tn, conv, "Where is my order?")
	first := a.rec.draftIn(t, ch, 1)
	b2.agent(t, tn, conv, store.TypeText, "It ships today!")
	canceled(a, first)

	// The customer writes again and B's relay publishes it: A's draft is
	// canceled and B drafts the reply to the new message.
	a.inbound(t, tn, conv, "Thanks! And the invoice?")
	second := a.rec.draftIn(t, ch, 2)
	b2.inbound(t, tn, conv, "Hello??")
	canceled(a, second)
	third := b2.rec.draftIn(t, ch, 1)
	if b2.rec.hasEnded(third) {
		t.Fatal("B's own draft was canceled by its own signal")
	}

	// AI turned off for the workspace on A ends B's draft.
	a.svc.CancelWorkspace(tn.ws.ID)
	canceled(b2, third)

	// A contact's AI turned off on B ends A's draft of that contact.
	a.inbound(t, tn, conv, "Still there?")
	fourth := a.rec.draftIn(t, ch, 3)
	a.rec.waitFor(t, "the fourth draft streaming", func(evs []event) bool {
		return a.fake.requestCount() >= 3
	})
	b2.svc.CancelContact(tn.ws.ID, conv.ContactID)
	canceled(a, fourth)
}

// TestForgetIndexAcrossReplicas: an erasure on one replica drops the
// workspace's cached knowledge index on the others, so none keeps drafting
// from an erased contact's replies.
func TestForgetIndexAcrossReplicas(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "sbtest-drafts-" + hex.EncodeToString(b[:])
	st := teststore.SQLite(t)
	a := newReplicaRig(t, st, clusterBroker(t, prefix), drafts.Options{})
	other := newReplicaRig(t, st, clusterBroker(t, prefix), drafts.Options{})
	tn := a.workspace(t, true)
	conv := a.conversation(t, tn, "Carol")
	// An offline draft on the other replica builds and caches the index.
	other.inbound(t, tn, conv, "Where is my order?")
	other.rec.draftIn(t, drafts.Channel(conv.ID), 1)
	if !other.svc.IndexCached(tn.ws.ID) {
		t.Fatal("the other replica cached no index")
	}
	a.svc.ForgetIndex(tn.ws.ID)
	deadline := time.Now().Add(5 * time.Second)
	for other.svc.IndexCached(tn.ws.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the other replica still caches the workspace's index")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkCancel measures how long a cancellation takes to end a
// streaming draft: made on the replica running it (local), and made on
// another replica of a cluster on the shared Redis, through the drafts
// signal (remote). Each iteration starts a draft on the first replica
// (the fake model stalls after one word), waits for it to stream, cancels
// it and waits for its draft.failed; the reported ms/cancel is from the
// Cancel call to the draft.failed being published.
//
//	go test -run '^$' -bench Cancel -benchtime 200x ./server/drafts/
func BenchmarkCancel(b *testing.B) {
	var pfx [6]byte
	_, _ = rand.Read(pfx[:])
	prefix := "sbtest-drafts-bench-" + hex.EncodeToString(pfx[:])
	st := teststore.SQLite(b)
	runner := newReplicaRig(b, st, clusterBroker(b, prefix), drafts.Options{})
	other := newReplicaRig(b, st, clusterBroker(b, prefix), drafts.Options{})
	runner.fake.setMode("stall")
	tn := runner.workspace(b, false)
	for _, bc := range []struct {
		name     string
		canceler *rig
	}{{"local", runner}, {"remote", other}} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				conv := runner.conversation(b, tn, fmt.Sprintf("Bench %s %d", bc.name, i))
				runner.inbound(b, tn, conv, "Where is my order?")
				id := runner.rec.draftIn(b, drafts.Channel(conv.ID), 1)
				runner.rec.waitFor(b, "the draft streaming", func(evs []event) bool {
					for _, e := range evs {
						if e.Data.DraftID == id && e.Name == ai.EventDelta {
							return true
						}
					}
					return false
				})
				t0 := time.Now()
				bc.canceler.svc.Cancel(tn.ws.ID, conv.ID)
				evs := runner.rec.ended(b, id)
				last := evs[len(evs)-1]
				if last.Data.Reason != ai.ReasonCanceled {
					b.Fatalf("the draft ended with %+v", last)
				}
				total += last.At.Sub(t0)
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/cancel")
			b.ReportMetric(0, "ns/op")
		})
	}
}
