package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ArchiveDialect is "postgres".
func (s *Store) ArchiveDialect() string { return "postgres" }

// ArchiveSchema lists the tables and columns of the current schema.
func (s *Store) ArchiveSchema(ctx context.Context) (map[string][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("store: archive schema: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("store: archive schema: %w", err)
		}
		out[t] = append(out[t], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: archive schema: %w", err)
	}
	return out, nil
}

// ExportWorkspace reads in one repeatable-read, read-only transaction:
// every page is read from the snapshot its first query took.
func (s *Store) ExportWorkspace(ctx context.Context, workspaceID int64, fn func(store.ArchiveSource) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("store: export workspace: %w", err)
	}
	// A read-only transaction has nothing to undo: rolling back after an
	// error (or after the commit, a no-op) only ends it.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM workspaces WHERE id = $1`, workspaceID).Scan(&one); err != nil {
		return fmt.Errorf("store: export workspace: %w", notFound(err))
	}
	if err := fn(archiveSource{tx: tx, workspaceID: workspaceID}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

type archiveSource struct {
	tx          pgx.Tx
	workspaceID int64
}

// ArchiveRows pages t by its key within the export's snapshot.
func (a archiveSource) ArchiveRows(ctx context.Context, t *store.ArchiveTable, after []any, limit int) ([][]any, error) {
	var sel []string
	for _, c := range t.Columns {
		if c.Type == store.ArchiveJSON {
			sel = append(sel, pgx.Identifier{c.Name}.Sanitize()+"::text")
		} else {
			sel = append(sel, pgx.Identifier{c.Name}.Sanitize())
		}
	}
	scope := t.Scope
	if scope == "" {
		scope = "workspace_id = " + store.ArchiveWorkspaceParam
	}
	args := []any{a.workspaceID}
	where := strings.ReplaceAll(scope, store.ArchiveWorkspaceParam, "$1")
	key := make([]string, len(t.Key))
	for i, k := range t.Key {
		key[i] = pgx.Identifier{k}.Sanitize()
	}
	if after != nil {
		ph := make([]string, len(after))
		for i := range after {
			args = append(args, after[i])
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		where += fmt.Sprintf(" AND (%s) > (%s)", strings.Join(key, ", "), strings.Join(ph, ", "))
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d",
		strings.Join(sel, ", "), pgx.Identifier{t.Name}.Sanitize(), where, strings.Join(key, ", "), limit)
	rows, err := a.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: export %s: %w", t.Name, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, fmt.Errorf("store: export %s: %w", t.Name, err)
		}
		for i, c := range t.Columns {
			if vals[i], err = fromPostgres(vals[i], c.Type); err != nil {
				return nil, fmt.Errorf("store: export %s.%s: %w", t.Name, c.Name, err)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: export %s: %w", t.Name, err)
	}
	return out, nil
}

// fromPostgres types a value pgx decoded as an archive value of typ.
func fromPostgres(v any, typ store.ArchiveType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case store.ArchiveInt:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		case int16:
			return int64(n), nil
		}
	case store.ArchiveFloat:
		switch n := v.(type) {
		case float64:
			return n, nil
		case float32:
			return float64(n), nil
		}
	case store.ArchiveText:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case store.ArchiveBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case store.ArchiveTime:
		if t, ok := v.(time.Time); ok {
			return t.UTC(), nil
		}
	case store.ArchiveBytes:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case store.ArchiveJSON:
		if s, ok := v.(string); ok {
			return json.RawMessage(s), nil
		}
	}
	return nil, fmt.Errorf("unexpected %T for archive type %d", v, typ)
}

// ImportWorkspace runs fn in one transaction.
func (s *Store) ImportWorkspace(ctx context.Context, fn func(store.ArchiveSink) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(archiveSink{tx: tx})
	})
	if err != nil {
		return fmt.Errorf("store: import workspace: %w", err)
	}
	return nil
}

type archiveSink struct {
	tx pgx.Tx
}

// InsertRows copies rows in with COPY, which writes identity columns as
// given.
func (a archiveSink) InsertRows(ctx context.Context, t *store.ArchiveTable, cols []string, rows [][]any) error {
	_, err := a.tx.CopyFrom(ctx, pgx.Identifier{t.Name}, cols, pgx.CopyFromRows(rows))
	if isUnique(err) {
		return fmt.Errorf("%s: %w: the target already has a row with the same key: %w", t.Name, store.ErrConflict, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	return nil
}

// ImportAgent matches the agent by email or creates it.
func (a archiveSink) ImportAgent(ctx context.Context, cols []string, row []any) (int64, error) {
	email, id := "", int64(0)
	for i, c := range cols {
		switch c {
		case "email":
			email, _ = row[i].(string)
		case "id":
			id, _ = row[i].(int64)
		}
	}
	var found int64
	err := a.tx.QueryRow(ctx, `SELECT id FROM agents WHERE lower(email) = lower($1)`, email).Scan(&found)
	if err == nil {
		return found, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("agents: %w", err)
	}
	var taken bool
	if err := a.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1)`, id).Scan(&taken); err != nil {
		return 0, fmt.Errorf("agents: %w", err)
	}
	var names, ph []string
	var args []any
	for i, c := range cols {
		if c == "id" && taken {
			continue
		}
		names = append(names, pgx.Identifier{c}.Sanitize())
		args = append(args, row[i])
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	q := fmt.Sprintf("INSERT INTO agents (%s) OVERRIDING SYSTEM VALUE VALUES (%s) RETURNING id",
		strings.Join(names, ", "), strings.Join(ph, ", "))
	if err := a.tx.QueryRow(ctx, q, args...).Scan(&found); err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("agents: %s: %w: its Google account is another agent's on the target: %w", email, store.ErrConflict, err)
		}
		return 0, fmt.Errorf("agents: %w", err)
	}
	return found, nil
}

// FinishImport moves every identity sequence past the largest id of its
// table (never back) and marks the workspace's events published.
func (a archiveSink) FinishImport(ctx context.Context, workspaceID int64) error {
	for _, t := range store.ArchiveTables {
		if !t.Identity {
			continue
		}
		name := pgx.Identifier{t.Name}.Sanitize()
		_, err := a.tx.Exec(ctx, fmt.Sprintf(`SELECT setval(seq, GREATEST(m, COALESCE(pg_sequence_last_value(seq::regclass), 1)))
			FROM (SELECT pg_get_serial_sequence($1, 'id') AS seq, (SELECT max(id) FROM %s) AS m) x
			WHERE m IS NOT NULL`, name), t.Name)
		if err != nil {
			return fmt.Errorf("%s: sequence: %w", t.Name, err)
		}
	}
	if _, err := a.tx.Exec(ctx, `UPDATE workspaces SET published_seq = event_seq WHERE id = $1`, workspaceID); err != nil {
		return fmt.Errorf("workspaces: published mark: %w", err)
	}
	return nil
}
