package storetest

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Size of the scale benchmarks' workspace at SWITCHBOARD_BENCH_SCALE=1.
const (
	scaleConversations   = 100_000
	scaleMessagesPerConv = 10
	scaleAgents          = 10 // members, owner included
	scaleTeams           = 5  // with shares falling threefold: the last has 0.5% of conversations
)

// scaleLoadTimeout bounds the fixture's load.
const scaleLoadTimeout = 30 * time.Minute

// ScaleEnv is the environment variable that sizes BenchScale's data set
// as a fraction (or multiple) of 100,000 conversations of 10 messages:
// 0.1 makes a quick run, 1 (the default) the full size.
const ScaleEnv = "SWITCHBOARD_BENCH_SCALE"

// BenchScale runs the benchmarks of a big workspace against the store
// open returns, which must be a store.BulkLoader:
//
//   - Seed bulk-loads the workspace (100,000 conversations, 1,000,000
//     messages at scale 1) and reports the load's rows/s; it runs once,
//     and ns/op is the whole load.
//   - FirstPage/* lists the first page of conversations, unfiltered and
//     with the filters an agent's inbox views use: open, open and
//     unassigned, mine, and a small team's queue.
//   - Search/* runs full-text queries over messages and contacts: a
//     common word, two words together, a needle (one order number) and a
//     contact's name.
//
// The workspace is loaded once, when the first of them runs, into one
// store open(b) opens for the whole BenchmarkScale, so any selection with
// -bench works. Below the default scale, small views hold few
// conversations; under 0.1 some may be empty, which fails the benchmark
// rather than time an empty answer. Queries report p50/p99 latency and queries/s; each is run
// once before timing, so caches are warm as in a running server.
func BenchScale(b *testing.B, open Opener) {
	scale := 1.0
	if v := os.Getenv(ScaleEnv); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 100 {
			b.Fatalf("%s=%q: want a number in (0, 100]", ScaleEnv, v)
		}
		scale = f
	}
	fx := &scaleFixture{s: open(b), spec: store.BulkSpec{
		Conversations:           max(1, int(scale*scaleConversations)),
		MessagesPerConversation: scaleMessagesPerConv,
		Seed:                    1,
		InboxName:               "Scale",
	}}
	if _, ok := fx.s.(store.BulkLoader); !ok {
		b.Skip("store does not implement store.BulkLoader")
	}

	b.Run("Seed", func(b *testing.B) {
		fx.load(b)
		rows := float64(fx.res.Rows)
		b.ReportMetric(float64(fx.took.Nanoseconds()), "ns/op")
		b.ReportMetric(rows/fx.took.Seconds(), "rows/s")
		b.ReportMetric(float64(fx.res.Messages)/fx.took.Seconds(), "msgs/s")
		b.ReportMetric(float64(fx.res.Conversations), "convs")
		b.ReportMetric(float64(fx.res.Messages), "msgs")
	})

	b.Run("FirstPage", func(b *testing.B) {
		for _, tc := range []struct {
			name string
			f    func(fx *scaleFixture) store.ConversationFilter
		}{
			{"all", func(*scaleFixture) store.ConversationFilter { return store.ConversationFilter{} }},
			{"open", func(*scaleFixture) store.ConversationFilter {
				return store.ConversationFilter{Status: store.StatusOpen}
			}},
			{"open-unassigned", func(*scaleFixture) store.ConversationFilter {
				return store.ConversationFilter{Status: store.StatusOpen, Assignee: store.AssigneeUnassigned}
			}},
			{"mine-open", func(fx *scaleFixture) store.ConversationFilter {
				return store.ConversationFilter{Status: store.StatusOpen, Assignee: store.AssigneeMe, AgentID: fx.me}
			}},
			{"mine-pending", func(fx *scaleFixture) store.ConversationFilter {
				return store.ConversationFilter{Status: store.StatusPending, Assignee: store.AssigneeMe, AgentID: fx.me}
			}},
			{"team-small", func(fx *scaleFixture) store.ConversationFilter {
				return store.ConversationFilter{TeamID: fx.smallTeam}
			}},
			{"team-small-open", func(fx *scaleFixture) store.ConversationFilter {
				return store.ConversationFilter{TeamID: fx.smallTeam, Status: store.StatusOpen}
			}},
		} {
			b.Run(tc.name, func(b *testing.B) {
				fx.load(b)
				c, f := ctx(b), tc.f(fx)
				fx.bench(b, func() (int, error) {
					page, err := fx.s.ListConversations(c, fx.ws.ID, f)
					return len(page.Conversations), err
				})
			})
		}
	})

	b.Run("Search", func(b *testing.B) {
		for _, tc := range []struct {
			name     string
			contacts bool
			query    func() string
		}{
			{"messages-common", false, func() string { return "refund" }},
			{"messages-two-words", false, func() string { return "broken headphones" }},
			{"messages-needle", false, func() string { return strconv.Itoa(store.BulkOrderBase + fx.spec.Conversations/2) }},
			{"contacts-name", true, func() string { return "okafor" }},
			{"contacts-full-name", true, func() string { return "maria okafor" }},
		} {
			b.Run(tc.name, func(b *testing.B) {
				fx.load(b)
				c, q := ctx(b), tc.query()
				fx.bench(b, func() (int, error) {
					if tc.contacts {
						hits, err := fx.s.SearchContacts(c, fx.ws.ID, q, store.DefaultPageSize)
						return len(hits), err
					}
					hits, err := fx.s.SearchMessages(c, fx.ws.ID, q, store.DefaultPageSize)
					return len(hits), err
				})
			})
		}
	})
}

// scaleFixture is BenchScale's workspace, loaded on first use.
type scaleFixture struct {
	s    store.Store
	spec store.BulkSpec

	once      sync.Once
	err       error
	ws        store.Workspace
	me        int64 // the member "mine" filters are for
	smallTeam int64 // the team with the fewest conversations
	res       store.BulkResult
	took      time.Duration
}

// load bulk-loads the workspace unless that is done.
func (fx *scaleFixture) load(b *testing.B) {
	b.Helper()
	fx.once.Do(func() {
		// A full-size load takes minutes: more than ctx allows a test.
		c, cancel := context.WithTimeout(context.Background(), scaleLoadTimeout)
		defer cancel()
		var owner store.Agent
		fx.ws, owner, fx.err = fx.s.CreateWorkspace(c, store.NewWorkspace{Name: "Scale", OwnerEmail: unique("owner") + "@example.com"})
		if fx.err != nil {
			return
		}
		fx.me = owner.ID
		for range scaleAgents - 1 {
			if _, fx.err = fx.s.CreateAgent(c, fx.ws.ID, store.NewAgent{Email: unique("agent") + "@example.com", Role: store.RoleAgent}); fx.err != nil {
				return
			}
		}
		for range scaleTeams {
			var team store.Team
			if team, fx.err = fx.s.CreateTeam(c, fx.ws.ID, store.NewTeam{Name: unique("team")}); fx.err != nil {
				return
			}
			fx.smallTeam = max(fx.smallTeam, team.ID) // the generator's smallest share goes to the last id
		}
		b.Logf("loading %d conversations of %d messages", fx.spec.Conversations, fx.spec.MessagesPerConversation)
		start := time.Now()
		fx.res, fx.err = fx.s.(store.BulkLoader).BulkLoad(c, fx.ws.ID, fx.spec, nil)
		fx.took = time.Since(start)
		if fx.err == nil {
			b.Logf("loaded %d rows in %s", fx.res.Rows, fx.took.Round(time.Millisecond))
		}
	})
	if fx.err != nil {
		b.Fatalf("scale fixture: %v", fx.err)
	}
}

// bench times query, which returns how many rows it found: none is a
// failure, the fixture being built so every benchmarked query finds some.
func (fx *scaleFixture) bench(b *testing.B, query func() (int, error)) {
	b.Helper()
	if n, err := query(); err != nil || n == 0 {
		b.Fatalf("warm-up: %d rows, %v (is %s too small?)", n, err, ScaleEnv)
	}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		n, err := query()
		lat = append(lat, time.Since(start))
		if err != nil || n == 0 {
			b.Fatalf("%d rows, %v", n, err)
		}
	}
	reportLatency(b, lat, "queries/s")
}
