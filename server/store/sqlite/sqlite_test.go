package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/migrate"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

func open(t testing.TB) *sqlite.Store {
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

func TestContract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store { return open(t) })
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := sqlite.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := s.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "a@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.WorkspaceByAppKey(ctx, ws.AppKey); err != nil || got.ID != ws.ID {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	s, err := sqlite.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// A newer binary ran its migration 99999 on this file.
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.New(ctx, path)
	var tooNew *migrate.TooNewError
	if !errors.As(err, &tooNew) {
		t.Fatalf("opening a newer schema: %v, want *migrate.TooNewError", err)
	}
	latest, _ := migrate.Latest(migrate.SQLite)
	if tooNew.Current != 99999 || tooNew.Latest != latest {
		t.Fatalf("error %+v, want current 99999, latest %d", tooNew, latest)
	}
	t.Log(err)
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(t testing.TB) store.Store { return open(t) })
}

// BenchmarkScale compares with the Postgres store's: see storetest.BenchScale.
func BenchmarkScale(b *testing.B) {
	storetest.BenchScale(b, func(t testing.TB) store.Store { return open(t) })
}

// TestErasureLeavesNothingInTheFile: after a contact is erased and the
// store closed (which checkpoints the write-ahead log into the file), the
// database file holds none of the contact's data, not even in its free
// pages: the store runs with secure_delete on, so SQLite overwrites what
// it deletes.
func TestErasureLeavesNothingInTheFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "switchboard.db")
	s, err := sqlite.New(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	e := storetest.SeedErasable(t, s, "")
	for {
		step, err := s.EraseContactStep(ctx, e.Workspace.ID, e.Contact.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if step.Done {
			break
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(path + "*") // the file, and a WAL if one was left
	if err != nil || len(files) == 0 {
		t.Fatalf("database files %v, %v", files, err)
	}
	var raw []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if found := storetest.Traces(string(raw), e.Needles); len(found) > 0 {
		t.Fatalf("the database file still holds the erased contact's data:\n%s", strings.Join(found, "\n"))
	}
	if kept := storetest.Traces(string(raw), e.KeepNeedles); len(kept) == 0 {
		t.Fatal("the file holds none of the kept contacts' data either: the search cannot fail")
	}
}
