package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

// TestForeignKeyRaceIsConflict: a write that lost a race with a delete
// (its foreign key now points nowhere) is a 409, not a 500.
func TestForeignKeyRaceIsConflict(t *testing.T) {
	ctx := context.Background()
	s, err := New(ctx, storetest.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO inboxes (workspace_id, kind, name) VALUES (999999, 'api', 'gone')`)
		return err
	})
	if !errors.Is(err, store.ErrConflict) || !isForeignKey(err) {
		t.Fatalf("got %v, want ErrConflict wrapping the foreign-key violation", err)
	}
}
