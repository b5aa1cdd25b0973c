package inbox

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
)

func TestSeed(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.New(ctx, filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws, _, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	var progress []int
	res, err := Seed(ctx, st, ws.ID, SeedOptions{Conversations: 3, Messages: 2, Progress: func(done, _ int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ConversationIDs) != 3 || res.Messages != 6 || len(progress) != 3 {
		t.Fatalf("seed result %+v, progress %v", res, progress)
	}
	for _, id := range res.ConversationIDs {
		msgs, err := st.ListMessages(ctx, ws.ID, id, store.MessageFilter{Limit: 10})
		if err != nil || len(msgs) != 2 {
			t.Errorf("conversation %d: %d messages, %v", id, len(msgs), err)
		}
	}
	page, err := st.EventsAfter(ctx, ws.ID, 0, store.MaxEventPage)
	if err != nil || len(page.Events) != 3+6 {
		t.Errorf("%d events (%v), want 3 conversation.created + 6 message.created", len(page.Events), err)
	}
	// Seeding again adds, it does not collide.
	if _, err := Seed(ctx, st, ws.ID, SeedOptions{Conversations: 1, Messages: 1}); err != nil {
		t.Errorf("second seed: %v", err)
	}
	for name, opts := range map[string]SeedOptions{
		"negative":      {Conversations: -1},
		"too many msgs": {Messages: 1001},
	} {
		if _, err := Seed(ctx, st, ws.ID, opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Seed(ctx, st, 999999, SeedOptions{}); err == nil {
		t.Error("seeding a missing workspace: no error")
	}
}

// seederOnly hides the store's BulkLoader: a store that cannot bulk-load.
type seederOnly struct{ Seeder }

func TestSeedModes(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.New(ctx, filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws, _, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	large := SeedOptions{Conversations: 20, Messages: BulkSeedThreshold / 20}
	largeRows := large
	largeRows.Mode = SeedRowByRow
	tests := []struct {
		name     string
		seeder   Seeder
		opts     SeedOptions
		wantBulk bool
		wantErr  bool
		// stopEarly cancels the seed at its first progress report, which
		// row by row comes after the first conversation: large seeds
		// written row by row take too long to finish here.
		stopEarly bool
	}{
		{"auto, small: row by row", st, SeedOptions{Conversations: 2, Messages: 2}, false, false, false},
		{"auto, large: bulk", st, large, true, false, false},
		{"auto, large, store cannot: row by row", seederOnly{st}, large, false, true, true},
		{"forced bulk", st, SeedOptions{Conversations: 3, Messages: 4, Mode: SeedBulk}, true, false, false},
		{"forced row by row", st, largeRows, false, true, true},
		{"forced bulk, store cannot", seederOnly{st}, SeedOptions{Mode: SeedBulk}, false, true, false},
		{"unknown mode", st, SeedOptions{Mode: SeedBulk + 1}, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, err := st.EventsAfter(ctx, ws.ID, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			seedCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			var progress []int
			tc.opts.Progress = func(done, _ int) {
				progress = append(progress, done)
				if tc.stopEarly {
					cancel()
				}
			}
			res, err := Seed(seedCtx, tc.seeder, ws.ID, tc.opts)
			if tc.stopEarly && (!errors.Is(err, context.Canceled) || !slices.Equal(progress, []int{1})) {
				t.Fatalf("stopped at %v: %v; want canceled after conversation 1, row by row", progress, err)
			}
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error, result %+v", res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			convs, msgs := tc.opts.Conversations, tc.opts.Conversations*tc.opts.Messages
			if res.Bulk != tc.wantBulk || res.Conversations != convs || res.Messages != msgs || len(progress) == 0 || progress[len(progress)-1] != convs {
				t.Fatalf("result %+v (progress %v), want bulk %v, %d conversations, %d messages", res, progress, tc.wantBulk, convs, msgs)
			}
			if tc.wantBulk != (len(res.ConversationIDs) == 0) {
				t.Errorf("%d conversation ids listed", len(res.ConversationIDs))
			}
			after, err := st.EventsAfter(ctx, ws.ID, before.LatestSeq, store.MaxEventPage)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantBulk && (len(after.Events) != 1 || after.Events[0].Kind != store.EventWorkspaceImported) {
				t.Errorf("bulk seed appended %+v, want one %s", after.Events, store.EventWorkspaceImported)
			}
			if !tc.wantBulk && after.LatestSeq-before.LatestSeq < int64(convs+msgs) {
				t.Errorf("row-by-row seed appended %d events, want one per conversation and message", after.LatestSeq-before.LatestSeq)
			}
		})
	}
}
