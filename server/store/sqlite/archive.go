package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// ArchiveDialect is "sqlite".
func (s *Store) ArchiveDialect() string { return "sqlite" }

// ArchiveSchema lists the tables (virtual tables and their shadow tables
// included) and their columns.
func (s *Store) ArchiveSchema(ctx context.Context) (map[string][]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' ORDER BY m.name, p.cid`)
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

// ExportWorkspace reads in one read transaction on a reader connection:
// in WAL mode it keeps the snapshot its first read took until it ends,
// while the writer goes on.
func (s *Store) ExportWorkspace(ctx context.Context, workspaceID int64, fn func(store.ArchiveSource) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: export workspace: %w", err)
	}
	defer func() { _ = rollback(tx) }() // read-only: ending it is all there is to do
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM workspaces WHERE id = ?`, workspaceID).Scan(&one); err != nil {
		return fmt.Errorf("store: export workspace: %w", notFound(err))
	}
	if err := fn(archiveSource{tx: tx, workspaceID: workspaceID}); err != nil {
		return err
	}
	return tx.Commit()
}

type archiveSource struct {
	tx          *sql.Tx
	workspaceID int64
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// ArchiveRows pages t by its key within the export's snapshot.
func (a archiveSource) ArchiveRows(ctx context.Context, t *store.ArchiveTable, after []any, limit int) ([][]any, error) {
	sel := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		sel[i] = quote(c.Name)
	}
	scope := t.Scope
	if scope == "" {
		scope = "workspace_id = " + store.ArchiveWorkspaceParam
	}
	args := []any{a.workspaceID}
	where := strings.ReplaceAll(scope, store.ArchiveWorkspaceParam, "?1")
	key := make([]string, len(t.Key))
	for i, k := range t.Key {
		key[i] = quote(k)
	}
	if after != nil {
		ph := make([]string, len(after))
		for i := range after {
			v, err := toSQLite(after[i])
			if err != nil {
				return nil, fmt.Errorf("store: export %s: %w", t.Name, err)
			}
			args = append(args, v)
			ph[i] = fmt.Sprintf("?%d", len(args))
		}
		where += fmt.Sprintf(" AND (%s) > (%s)", strings.Join(key, ", "), strings.Join(ph, ", "))
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d",
		strings.Join(sel, ", "), quote(t.Name), where, strings.Join(key, ", "), limit)
	rows, err := a.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: export %s: %w", t.Name, err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(t.Columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("store: export %s: %w", t.Name, err)
		}
		for i, c := range t.Columns {
			if vals[i], err = fromSQLite(vals[i], c.Type); err != nil {
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

// fromSQLite types a stored value as an archive value of typ: times are
// unix microseconds, booleans 0/1 and JSON text here.
func fromSQLite(v any, typ store.ArchiveType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case store.ArchiveInt:
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case store.ArchiveFloat:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		}
	case store.ArchiveText:
		switch s := v.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
	case store.ArchiveBool:
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
	case store.ArchiveTime:
		if n, ok := v.(int64); ok {
			return fromMicros(n), nil
		}
	case store.ArchiveBytes:
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
	case store.ArchiveJSON:
		switch s := v.(type) {
		case string:
			return json.RawMessage(s), nil
		case []byte:
			return json.RawMessage(s), nil
		}
	}
	return nil, fmt.Errorf("unexpected %T for archive type %d", v, typ)
}

// toSQLite is fromSQLite's inverse.
func toSQLite(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64, float64, string, []byte:
		return x, nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case time.Time:
		return micros(x), nil
	case json.RawMessage:
		return string(x), nil
	}
	return nil, fmt.Errorf("unexpected archive value %T", v)
}

// ImportWorkspace runs fn in one write transaction.
func (s *Store) ImportWorkspace(ctx context.Context, fn func(store.ArchiveSink) error) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return fn(archiveSink{tx: tx})
	})
	if err != nil {
		return fmt.Errorf("store: import workspace: %w", err)
	}
	return nil
}

type archiveSink struct {
	tx *sql.Tx
}

// InsertRows inserts rows one prepared statement execution each.
func (a archiveSink) InsertRows(ctx context.Context, t *store.ArchiveTable, cols []string, rows [][]any) error {
	names := make([]string, len(cols))
	ph := make([]string, len(cols))
	for i, c := range cols {
		names[i], ph[i] = quote(c), "?"
	}
	stmt, err := a.tx.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)",
		quote(t.Name), strings.Join(names, ", "), strings.Join(ph, ", ")))
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	defer stmt.Close()
	args := make([]any, len(cols))
	for _, row := range rows {
		for i, v := range row {
			if args[i], err = toSQLite(v); err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name, cols[i], err)
			}
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			if isUnique(err) {
				return fmt.Errorf("%s: %w: the target already has a row with the same key: %w", t.Name, store.ErrConflict, err)
			}
			return fmt.Errorf("%s: %w", t.Name, err)
		}
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
	err := a.tx.QueryRowContext(ctx, `SELECT id FROM agents WHERE lower(email) = lower(?)`, email).Scan(&found)
	if err == nil {
		return found, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("agents: %w", err)
	}
	var taken bool
	if err := a.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = ?)`, id).Scan(&taken); err != nil {
		return 0, fmt.Errorf("agents: %w", err)
	}
	var names, ph []string
	var args []any
	for i, c := range cols {
		if c == "id" && taken {
			continue
		}
		v, err := toSQLite(row[i])
		if err != nil {
			return 0, fmt.Errorf("agents.%s: %w", c, err)
		}
		names, ph, args = append(names, quote(c)), append(ph, "?"), append(args, v)
	}
	q := fmt.Sprintf("INSERT INTO agents (%s) VALUES (%s) RETURNING id", strings.Join(names, ", "), strings.Join(ph, ", "))
	if err := a.tx.QueryRowContext(ctx, q, args...).Scan(&found); err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("agents: %s: %w: its Google account is another agent's on the target: %w", email, store.ErrConflict, err)
		}
		return 0, fmt.Errorf("agents: %w", err)
	}
	return found, nil
}

// FinishImport marks the workspace's events published. Ids need nothing:
// a rowid table's next id is one past its largest, and SQLite raises an
// AUTOINCREMENT table's sqlite_sequence itself when a larger id is
// inserted.
func (a archiveSink) FinishImport(ctx context.Context, workspaceID int64) error {
	if _, err := a.tx.ExecContext(ctx, `UPDATE workspaces SET published_seq = event_seq WHERE id = ?`, workspaceID); err != nil {
		return fmt.Errorf("workspaces: published mark: %w", err)
	}
	return nil
}
