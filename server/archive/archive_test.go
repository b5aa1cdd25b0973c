package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newBlobs(t testing.TB) (*media.Dir, string) {
	t.Helper()
	root := t.TempDir()
	d, err := media.NewDir(root)
	must(t, err)
	return d, root
}

func countFiles(t testing.TB, root string) int {
	t.Helper()
	n := 0
	must(t, filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	}))
	return n
}

// TestRoundTripAcrossStores: a workspace moves from SQLite to Postgres and
// from Postgres to SQLite, and each target's archive of it equals the
// source's byte for byte, and reads (search included) agree.
func TestRoundTripAcrossStores(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src, dst func(testing.TB) store.Store
	}{
		{"sqlite to postgres", teststore.SQLite, teststore.Postgres},
		{"postgres to sqlite", teststore.Postgres, teststore.SQLite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, dst := tc.src(t), tc.dst(t)
			srcBlobs, _ := newBlobs(t)
			dstBlobs, _ := newBlobs(t)
			seed := storetest.SeedArchive(t, src, srcBlobs)
			first := storetest.ExportArchive(t, src, srcBlobs, seed.Workspace.ID)
			_, err := storetest.ImportArchive(t, dst, dstBlobs, first)
			must(t, err)
			second := storetest.ExportArchive(t, dst, dstBlobs, seed.Workspace.ID)
			storetest.CompareArchives(t, first, second)
			storetest.CompareWorkspaces(t, src, dst, seed)
			m, err := archive.ParseManifest(storetest.ArchiveFiles(t, second)[archive.ManifestName])
			must(t, err)
			if m.Dialect != dst.ArchiveDialect() {
				t.Errorf("second archive's dialect %q, want %q", m.Dialect, dst.ArchiveDialect())
			}
		})
	}
}

// TestConflictWhileWritingWritesNothing: a row the target already has,
// found only while writing (the workspace itself is new there), rolls
// the whole import back, and the blobs stored before it are deleted.
func TestConflictWhileWritingWritesNothing(t *testing.T) {
	teststore.Each(t, func(t *testing.T, dst store.Store) {
		src := teststore.SQLite(t)
		c := ctx(t)
		// A workspace first on the source, so the archived one is
		// workspace 2 and its first contact is contact 1 ...
		_, _, err := src.CreateWorkspace(c, store.NewWorkspace{Name: "First", OwnerEmail: "first@example.com"})
		must(t, err)
		srcBlobs, _ := newBlobs(t)
		seed := storetest.SeedArchive(t, src, srcBlobs)
		data := storetest.ExportArchive(t, src, srcBlobs, seed.Workspace.ID)
		// ... and on the target workspace 1 has contact 1 already.
		ws, _, err := dst.CreateWorkspace(c, store.NewWorkspace{Name: "Here", OwnerEmail: "here@example.com"})
		must(t, err)
		_, _, err = dst.CreateContact(c, ws.ID, store.NewContact{Name: "Already here"}, nil)
		must(t, err)
		dstBlobs, root := newBlobs(t)
		_, err = storetest.ImportArchive(t, dst, dstBlobs, data)
		if !errors.Is(err, archive.ErrConflict) {
			t.Fatalf("import error %v, want ErrConflict", err)
		}
		if _, err := dst.Workspace(c, seed.Workspace.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("workspace %d on the target after the failed import (err %v)", seed.Workspace.ID, err)
		}
		if a, err := dst.Account(c, seed.Owner.ID); err == nil && a.Email == seed.Owner.Email {
			t.Errorf("agent %s on the target after the failed import", a.Email)
		}
		if n := countFiles(t, root); n != 0 {
			t.Errorf("%d blob files left after the failed import", n)
		}
	})
}

// TestAgentsMatchedByEmail: an agent the target already knows by email
// keeps the target's id, and the imported rows point at it.
func TestAgentsMatchedByEmail(t *testing.T) {
	teststore.Each(t, func(t *testing.T, dst store.Store) {
		src := teststore.SQLite(t)
		c := ctx(t)
		srcBlobs, _ := newBlobs(t)
		seed := storetest.SeedArchive(t, src, srcBlobs)
		data := storetest.ExportArchive(t, src, srcBlobs, seed.Workspace.ID)
		// On the target the owner is a person already, with another id,
		// and the archive's other agent's id is someone else's.
		for i := range 3 {
			_, err := dst.UpsertAccount(c, store.NewAccount{Email: fmt.Sprintf("someone%d@example.com", i)})
			must(t, err)
		}
		known, err := dst.UpsertAccount(c, store.NewAccount{Email: seed.Owner.Email, Name: "Known Here"})
		must(t, err)
		if known.ID == seed.Owner.ID {
			t.Fatalf("test setup: the known agent has the owner's id %d", known.ID)
		}
		dstBlobs, _ := newBlobs(t)
		res, err := storetest.ImportArchive(t, dst, dstBlobs, data)
		must(t, err)
		if res.AgentsRenumbered == 0 {
			t.Errorf("import result %+v, want the owner renumbered", res)
		}
		owner, err := dst.Agent(c, seed.Workspace.ID, known.ID)
		must(t, err)
		if owner.Role != store.RoleOwner {
			t.Errorf("known agent's role in the imported workspace %q, want owner", owner.Role)
		}
		msgs, err := dst.ListMessages(c, seed.Workspace.ID, seed.Conversation.ID, store.MessageFilter{Limit: 100})
		must(t, err)
		authored := 0
		for _, m := range msgs {
			if m.AuthorAgentID != 0 {
				authored++
				if m.AuthorAgentID != known.ID {
					t.Errorf("message %d author %d, want the target's %d", m.ID, m.AuthorAgentID, known.ID)
				}
			}
		}
		if authored == 0 {
			t.Error("no message authored by an agent after import")
		}
	})
}

// TestExportUnknownWorkspace: exporting a workspace the store lacks is
// store.ErrNotFound, and writes no archive.
func TestExportUnknownWorkspace(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		var buf bytes.Buffer
		_, err := archive.Export(ctx(t), st, nil, 424242, &buf, archive.ExportOptions{TempDir: t.TempDir()})
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("export error %v, want ErrNotFound", err)
		}
	})
}

// TestMissingBlob: a stored media item whose blob is gone from the blob
// store is archived without one and counted, not a failed backup.
func TestMissingBlob(t *testing.T) {
	src := teststore.SQLite(t)
	blobs, root := newBlobs(t)
	seed := storetest.SeedArchive(t, src, blobs)
	must(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			return os.Remove(p)
		}
		return err
	}))
	var buf bytes.Buffer
	m, err := archive.Export(ctx(t), src, blobs, seed.Workspace.ID, &buf, archive.ExportOptions{TempDir: t.TempDir()})
	must(t, err)
	if m.Media.Missing != 1 || m.Media.Files != 0 {
		t.Errorf("manifest media %+v, want 1 missing and no files", m.Media)
	}
	dst := teststore.SQLite(t)
	dstBlobs, _ := newBlobs(t)
	_, err = storetest.ImportArchive(t, dst, dstBlobs, buf.Bytes())
	must(t, err)
}

// TestProgress: both directions report every table, in order, ending
// each with Done.
func TestProgress(t *testing.T) {
	src := teststore.SQLite(t)
	blobs, _ := newBlobs(t)
	seed := storetest.SeedArchive(t, src, blobs)
	var done []string
	var buf bytes.Buffer
	_, err := archive.Export(ctx(t), src, blobs, seed.Workspace.ID, &buf, archive.ExportOptions{TempDir: t.TempDir(), Progress: func(p archive.Progress) {
		if p.Done {
			done = append(done, p.Table)
		}
	}})
	must(t, err)
	want := []string{archive.MediaFiles}
	for _, tb := range store.ArchiveTables {
		want = append(want, tb.Name)
	}
	if !equal(done, want) {
		t.Errorf("export reported %v done, want %v", done, want)
	}
	var phases = map[string]int{}
	dst := teststore.SQLite(t)
	dstBlobs, _ := newBlobs(t)
	_, err = archive.Import(ctx(t), dst, dstBlobs, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil },
		archive.ImportOptions{Progress: func(p archive.Progress) {
			if p.Done {
				phases[p.Phase]++
			}
		}})
	must(t, err)
	if phases["verify"] != len(store.ArchiveTables) || phases["import"] != len(store.ArchiveTables) {
		t.Errorf("import reported %v tables done, want %d in each phase", phases, len(store.ArchiveTables))
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzParseManifest: whatever the bytes, ParseManifest returns a
// manifest or an error, never panics, and what it accepts encodes and
// parses again to the same.
func FuzzParseManifest(f *testing.F) {
	good, _ := json.Marshal(archive.Manifest{Format: archive.Format, FormatVersion: 1, SchemaVersion: 12, Dialect: "sqlite", WorkspaceID: 1,
		Tables: []archive.TableEntry{{Name: "workspaces", File: "tables/workspaces.ndjson", Columns: []string{"id"}, Rows: 1, Bytes: 9,
			SHA256: "0000000000000000000000000000000000000000000000000000000000000000"}}})
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"switchboard-workspace-archive","format_version":2}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"format":"switchboard-workspace-archive","format_version":1,"tables":[{"name":"../x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := archive.ParseManifest(data)
		if err != nil {
			if !errors.Is(err, archive.ErrCorrupt) && !errors.Is(err, archive.ErrNotArchive) && !errors.Is(err, archive.ErrTooNew) {
				t.Fatalf("error %v is none of the archive's errors", err)
			}
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archive.ParseManifest(again); err != nil {
			t.Fatalf("accepted manifest does not parse again: %v", err)
		}
	})
}
