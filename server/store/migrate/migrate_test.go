package migrate_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/switchboard-inbox/switchboard/server/store/migrate"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", storetest.FreshPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" database/sql driver

func TestUp(t *testing.T) {
	for _, tc := range []struct {
		dialect migrate.Dialect
		open    func(testing.TB) *sql.DB
	}{
		{migrate.SQLite, openSQLite},
		{migrate.Postgres, openPostgres},
	} {
		t.Run(string(tc.dialect), func(t *testing.T) {
			ctx := context.Background()
			db := tc.open(t)
			latest, err := migrate.Latest(tc.dialect)
			if err != nil || latest < 1 {
				t.Fatalf("latest %d, %v", latest, err)
			}
			current, l, err := migrate.Version(ctx, db, tc.dialect)
			if err != nil || current != 0 || l != latest {
				t.Fatalf("empty database: version %d of %d, %v", current, l, err)
			}
			res, err := migrate.Up(ctx, db, tc.dialect, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.From != 0 || res.To != latest || res.Applied != int(latest) {
				t.Fatalf("first run %+v", res)
			}
			res, err = migrate.Up(ctx, db, tc.dialect, nil)
			if err != nil || res.Applied != 0 || res.From != latest {
				t.Fatalf("second run %+v, %v: want nothing applied", res, err)
			}
			if current, _, err := migrate.Version(ctx, db, tc.dialect); err != nil || current != latest {
				t.Fatalf("after up: version %d, %v", current, err)
			}

			if _, err := db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)`); err != nil {
				t.Fatal(err)
			}
			_, err = migrate.Up(ctx, db, tc.dialect, nil)
			var tooNew *migrate.TooNewError
			if !errors.As(err, &tooNew) || tooNew.Current != 99999 || tooNew.Latest != latest {
				t.Fatalf("newer schema: %v, want TooNewError{99999, %d}", err, latest)
			}
		})
	}
}

func TestUnknownDialect(t *testing.T) {
	if _, err := migrate.Latest("oracle"); err == nil {
		t.Fatal("no error for an unknown dialect")
	}
}
