package migrations_test

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/migrations"
)

// TestDialectsInStep checks both dialects have the same migration files
// (by version and name), each with goose Up and Down sections: a change to
// the data model lands in both or in neither.
func TestDialectsInStep(t *testing.T) {
	names := func(f fs.FS) []string {
		got, err := fs.Glob(f, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range got {
			b, err := fs.ReadFile(f, name)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "-- +goose Up") || !strings.Contains(string(b), "-- +goose Down") {
				t.Errorf("%s: missing goose Up or Down annotation", name)
			}
		}
		return got
	}
	pg, lite := names(migrations.Postgres()), names(migrations.SQLite())
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("postgres %v, sqlite %v: want the same non-empty set", pg, lite)
	}
}
