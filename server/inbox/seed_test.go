package inbox

import (
	"context"
	"path/filepath"
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
