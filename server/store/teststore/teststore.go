// Package teststore opens the real stores for the tests of packages built
// on the store (the API, sign-in, connectors): a fresh SQLite file, and a
// fresh Postgres database from storetest.FreshPostgres, which skips or
// fails loudly when Postgres is unreachable. Each is closed when its test
// ends.
package teststore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/postgres"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

// SQLite returns a migrated store on a new SQLite file in the test's
// temporary directory.
func SQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.New(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Postgres returns a migrated store on a fresh Postgres database.
func Postgres(t testing.TB) store.Store {
	t.Helper()
	s, err := postgres.New(context.Background(), storetest.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	// Registered after FreshPostgres's cleanup, so it runs first: the pool
	// is closed before the database is dropped.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Backends are the stores tests run against, by name.
var Backends = []struct {
	Name string
	Open func(t testing.TB) store.Store
}{
	{"sqlite", SQLite},
	{"postgres", Postgres},
}

// Each runs fn against every backend, in parallel subtests.
func Each(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.Open(t))
		})
	}
}
