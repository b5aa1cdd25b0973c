package drafts_test

import (
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// BenchmarkInboundToFirstDelta measures the time from an inbound message
// being committed (and the relay told, as a connector does) to the first
// draft.delta reaching a Pusher client subscribed to the conversation's
// presence channel, through the real relay, drafts service and hub, with
// a model endpoint that answers at once. It reports the p50 and p99.
func BenchmarkInboundToFirstDelta(b *testing.B) {
	for _, backend := range teststore.Backends {
		b.Run(backend.Name, func(b *testing.B) {
			r := newRig(b, backend.Open(b), drafts.Options{})
			tn := r.workspace(b, false)
			conv := r.conversation(b, tn, "Carol")
			cl := r.subscribe(b, tn.ws, conv.ID)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, err := r.st.CreateMessage(ctx(b), tn.ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn,
					Body: "Where is my order?", ProviderMessageID: unique("bench")})
				if err != nil {
					b.Fatal(err)
				}
				committed := time.Now()
				r.relay.Notify(tn.ws.ID)
				first := true
				for {
					f := cl.next()
					if f.Event == ai.EventDelta && first {
						lat = append(lat, time.Since(committed))
						first = false
					}
					if f.Event == ai.EventCompleted || f.Event == ai.EventFailed {
						break
					}
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}
