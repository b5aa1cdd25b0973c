// Package migrations holds the SQL schema migrations, one folder per
// dialect (postgres/, sqlite/), in goose format and embedded in the binary.
// They are applied in order at start-up and by `switchboard migrate` through
// server/store/migrate; a database whose schema is newer than the newest
// migration here is refused rather than written to by an older binary.
//
// The two dialects describe the same data model: a change to one lands with
// the matching change to the other under the same version number.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql
var postgresFS embed.FS

//go:embed sqlite/*.sql
var sqliteFS embed.FS

// Postgres returns the PostgreSQL migrations, rooted so that the .sql files
// sit at the top level as goose expects.
func Postgres() fs.FS { return mustSub(postgresFS, "postgres") }

// SQLite returns the SQLite migrations, rooted like Postgres.
func SQLite() fs.FS { return mustSub(sqliteFS, "sqlite") }

func mustSub(f embed.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		// fs.Sub fails only on an invalid path, which the constants rule out.
		panic(err)
	}
	return sub
}
