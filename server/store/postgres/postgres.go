// Package postgres is the production store: the inbox in PostgreSQL through
// pgx's pool.
//
// Concurrency: every write that changes inbox state ends by bumping its
// workspace's event_seq with UPDATE ... RETURNING. That row lock is held to
// commit, so within a workspace events are numbered in commit order with no
// gaps (a rollback returns the number) — something a SEQUENCE cannot give.
// Lock order, to stay deadlock-free: a team or label row first (deleting
// or renaming one; removing a member locks every team of the workspace in
// ascending id order), or contact rows in ascending id order (editing,
// deleting or merging contacts), then membership rows (the owners in
// ascending agent id order, then the member changed; see lockOwners), or
// invitation or API token rows, then conversation rows — one, or several
// in ascending id order (see lockConversations) — then the workspace row,
// never the other way round. JoinByEmail, the one transaction that
// appends events to several workspaces, takes their rows in ascending id
// order after every other lock.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/migrate"
)

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// New connects to dsn and migrates the database to the newest schema under
// an advisory lock, so replicas starting together migrate once. It refuses
// a database whose schema is newer than this binary with a
// *migrate.TooNewError.
func New(ctx context.Context, dsn string) (*Store, error) {
	return NewWithLogger(ctx, dsn, nil)
}

// NewWithLogger is New, logging each applied migration to log.
func NewWithLogger(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	_, err = migrate.Up(ctx, db, migrate.Postgres, log)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// SchemaVersion reports the schema version of the database and of the
// binary.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	return migrate.Version(ctx, db, migrate.Postgres)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Pool returns the connection pool, for tests and maintenance that need
// raw SQL.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// tx runs fn in a read-committed transaction, committing if it returns nil.
//
// A foreign-key violation that reaches here means a row the change refers
// to was deleted by a concurrent transaction after fn checked it (a
// contact merged away, a team or a member removed): it is ErrConflict,
// a 409 the client can retry, not an internal error. The driver's error
// stays in the chain for methods that tell such cases apart themselves.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if isForeignKey(err) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: a row it refers to was deleted meanwhile: %w", store.ErrConflict, err)
	}
	return err
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// nullID maps the zero id to NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func isUnique(err error) bool     { return pgCode(err) == "23505" }
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}
