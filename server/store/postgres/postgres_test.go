package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/migrate"
	"github.com/switchboard-inbox/switchboard/server/store/postgres"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

func open(t testing.TB) *postgres.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), storetest.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store { return open(t) })
}

// TestConcurrentStartMigratesOnce starts several stores on one empty
// database at once, as replicas do: the advisory lock makes one migrate
// and the rest find the schema current.
func TestConcurrentStartMigratesOnce(t *testing.T) {
	dsn := storetest.FreshPostgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.New(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := postgres.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	current, latest, err := s.SchemaVersion(context.Background())
	if err != nil || current != latest {
		t.Fatalf("version %d of %d, %v", current, latest, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.FreshPostgres(t)
	s, err := postgres.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// A newer binary ran its migration 99999 on this database.
	if _, err := s.Pool().Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = postgres.New(ctx, dsn)
	var tooNew *migrate.TooNewError
	if !errors.As(err, &tooNew) {
		t.Fatalf("opening a newer schema: %v, want *migrate.TooNewError", err)
	}
	latest, _ := migrate.Latest(migrate.Postgres)
	if tooNew.Current != 99999 || tooNew.Latest != latest {
		t.Fatalf("error %+v, want current 99999, latest %d", tooNew, latest)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(t testing.TB) store.Store { return open(t) })
}

// BenchmarkScale compares with the SQLite store's: see storetest.BenchScale.
func BenchmarkScale(b *testing.B) {
	storetest.BenchScale(b, func(t testing.TB) store.Store { return open(t) })
}
