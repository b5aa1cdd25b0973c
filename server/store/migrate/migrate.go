// Package migrate applies the embedded schema migrations (package
// migrations) to a database with goose, and refuses a database whose schema
// is newer than this binary: an old binary writing to a newer schema is how
// data gets corrupted during a botched rollback.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchboard-inbox/switchboard/migrations"
)

// Dialect selects a migration folder and goose dialect.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// lockID is the Postgres advisory lock key held while migrating, so that
// replicas starting together migrate one at a time. Fixed and arbitrary:
// "swbd" in ASCII.
const lockID = 0x73776264

// TooNewError is returned when the database's schema version is newer than
// the newest migration embedded in this binary.
type TooNewError struct {
	Current, Latest int64
}

// Error implements error.
func (e *TooNewError) Error() string {
	return fmt.Sprintf("migrate: database schema version %d is newer than this binary's newest migration %d: upgrade switchboard instead of running an older version", e.Current, e.Latest)
}

// Result reports what Up did.
type Result struct {
	From, To int64
	Applied  int
}

func provider(db *sql.DB, d Dialect) (*goose.Provider, error) {
	var (
		gd   goose.Dialect
		fsys fs.FS
		opts = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	switch d {
	case Postgres:
		gd, fsys = goose.DialectPostgres, migrations.Postgres()
		// A session-level advisory lock held for the whole run; each
		// migration still runs in its own transaction.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID))
		if err != nil {
			return nil, fmt.Errorf("migrate: locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		// SQLite has a single writer; a second process waits on the
		// database lock (busy_timeout) instead of an advisory lock.
		gd, fsys = goose.DialectSQLite3, migrations.SQLite()
	default:
		return nil, fmt.Errorf("migrate: unknown dialect %q", d)
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return p, nil
}

// Latest returns the newest migration version embedded for d.
func Latest(d Dialect) (int64, error) {
	var fsys fs.FS
	switch d {
	case Postgres:
		fsys = migrations.Postgres()
	case SQLite:
		fsys = migrations.SQLite()
	default:
		return 0, fmt.Errorf("migrate: unknown dialect %q", d)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("migrate: list: %w", err)
	}
	var latest int64
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return 0, fmt.Errorf("migrate: %s: %w", name, err)
		}
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, fmt.Errorf("migrate: no %s migrations embedded", d)
	}
	return latest, nil
}

// Version reports the database's current schema version (0 for an empty
// database) and the newest embedded version. It takes no lock.
func Version(ctx context.Context, db *sql.DB, d Dialect) (current, latest int64, err error) {
	p, err := provider(db, d)
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: version: %w", err)
	}
	return current, latest, nil
}

// Up applies every pending migration in order, each in its own
// transaction, under the dialect's lock. It returns *TooNewError, applying
// nothing, when the database is ahead of this binary.
func Up(ctx context.Context, db *sql.DB, d Dialect, log *slog.Logger) (Result, error) {
	p, err := provider(db, d)
	if err != nil {
		return Result{}, err
	}
	// GetDBVersion creates the version table if needed. The check is not
	// under the same lock hold as Up, but the only way to race it is a
	// newer binary migrating at the same moment, and then Up finds
	// nothing of ours pending.
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrate: version: %w", err)
	}
	latest, err := Latest(d)
	if err != nil {
		return Result{}, err
	}
	if current > latest {
		return Result{}, &TooNewError{Current: current, Latest: latest}
	}
	results, err := p.Up(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrate: up: %w", err)
	}
	for _, r := range results {
		if log != nil {
			log.Info("migration applied", "dialect", string(d), "version", r.Source.Version, "duration", r.Duration)
		}
	}
	return Result{From: current, To: latest, Applied: len(results)}, nil
}
