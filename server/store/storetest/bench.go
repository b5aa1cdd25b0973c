package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Bench runs the store benchmarks against the stores open returns:
// storing an inbound message with its event (serially, reporting p50/p99,
// and from parallel goroutines), the first page of the conversation list
// and a full-text search over a seeded workspace.
func Bench(b *testing.B, open Opener) {
	b.Run("InboundMessage", func(b *testing.B) {
		s := open(b)
		f := newFixture(b, s)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			_, err := s.CreateMessage(ctx(b), f.ws.ID, store.NewMessage{
				ConversationID: f.conv.ID, Direction: store.DirectionIn, Body: "benchmark message body",
				ProviderMessageID: fmt.Sprintf("wamid.%d", i),
			})
			must(b, err)
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat, "msgs/s")
	})
	b.Run("InboundMessageParallel", func(b *testing.B) {
		s := open(b)
		f := newFixture(b, s)
		convs := make([]store.Conversation, 16)
		for i := range convs {
			convs[i] = newConversation(b, s, f.ws.ID, f.inbox.ID, f.contact.ID)
		}
		b.SetParallelism(4)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n := seq.Add(1)
				_, err := s.CreateMessage(ctx(b), f.ws.ID, store.NewMessage{
					ConversationID: convs[n%int64(len(convs))].ID, Direction: store.DirectionIn, Body: "parallel",
					ProviderMessageID: fmt.Sprintf("wamid.p%d", n),
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})

	const conversations, perConversation = 1000, 5
	seeded := func(b *testing.B) (store.Store, fixture) {
		s := open(b)
		f := newFixture(b, s)
		words := []string{"refund", "delivery", "invoice", "password", "shipping", "broken", "thanks", "upgrade"}
		for i := range conversations {
			conv := newConversation(b, s, f.ws.ID, f.inbox.ID, f.contact.ID)
			for j := range perConversation {
				w := words[(i+j)%len(words)]
				_, err := s.CreateMessage(ctx(b), f.ws.ID, store.NewMessage{
					ConversationID: conv.ID, Direction: store.DirectionIn,
					Body: fmt.Sprintf("hello, question about my %s number %d", w, i*perConversation+j),
				})
				must(b, err)
			}
		}
		return s, f
	}
	b.Run(fmt.Sprintf("ListFirstPage/%dconvs", conversations), func(b *testing.B) {
		s, f := seeded(b)
		b.ResetTimer()
		for b.Loop() {
			page, err := s.ListConversations(ctx(b), f.ws.ID, store.ConversationFilter{Status: store.StatusOpen})
			must(b, err)
			if len(page.Conversations) != store.DefaultPageSize {
				b.Fatalf("%d conversations", len(page.Conversations))
			}
		}
	})
	// What a list page costs with its rows' contacts and newest messages:
	// in one more query (ConversationPreviews, the API's include=preview),
	// against a read per row for each, as the web inbox did before.
	b.Run(fmt.Sprintf("ListFirstPageRows/%dconvs", conversations), func(b *testing.B) {
		s, f := seeded(b)
		list := func(b *testing.B) store.ConversationPage {
			page, err := s.ListConversations(ctx(b), f.ws.ID, store.ConversationFilter{Status: store.StatusOpen})
			must(b, err)
			return page
		}
		b.Run("preview", func(b *testing.B) {
			for b.Loop() {
				page := list(b)
				ids := make([]int64, len(page.Conversations))
				for i, c := range page.Conversations {
					ids[i] = c.ID
				}
				pv, err := s.ConversationPreviews(ctx(b), f.ws.ID, ids)
				must(b, err)
				if len(pv) != store.DefaultPageSize {
					b.Fatalf("%d previews", len(pv))
				}
			}
		})
		b.Run("per-row", func(b *testing.B) {
			for b.Loop() {
				for _, c := range list(b).Conversations {
					_, err := s.Contact(ctx(b), f.ws.ID, c.ContactID)
					must(b, err)
					_, err = s.ListMessages(ctx(b), f.ws.ID, c.ID, store.MessageFilter{Limit: 1})
					must(b, err)
				}
			}
		})
	})
	b.Run(fmt.Sprintf("Search/%dmsgs", conversations*perConversation), func(b *testing.B) {
		s, f := seeded(b)
		b.ResetTimer()
		for b.Loop() {
			hits, err := s.SearchMessages(ctx(b), f.ws.ID, "refund", 20)
			must(b, err)
			if len(hits) == 0 {
				b.Fatal("no hits")
			}
		}
	})
}

// reportLatency reports the median and 99th percentile of lat, and the
// operations per second as rateUnit.
func reportLatency(b *testing.B, lat []time.Duration, rateUnit string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), rateUnit)
}
