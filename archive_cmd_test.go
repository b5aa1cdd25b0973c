package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
)

// TestExportImportCommands: "export" writes a workspace's archive with
// progress on stderr and an audit entry; "import" restores it into
// another server, refuses it a second time and refuses a file that is not
// an archive, each time naming the reason.
func TestExportImportCommands(t *testing.T) {
	dir, dstDir := t.TempDir(), t.TempDir()
	src := envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": filepath.Join(dir, "src.db")})
	dst := envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": filepath.Join(dstDir, "dst.db")})
	must := func(err error, stderr *bytes.Buffer) {
		t.Helper()
		if err != nil {
			t.Fatalf("%v (%s)", err, stderr)
		}
	}
	var out, errOut bytes.Buffer
	must(run(context.Background(), []string{"workspace", "create", "--name", "Acme", "--owner-email", "owner@acme.test"}, src, &out, &errOut), &errOut)
	var ws struct {
		WorkspaceID int64 `json:"workspace_id"`
	}
	must(json.Unmarshal(out.Bytes(), &ws), &errOut)
	out.Reset()
	must(run(context.Background(), []string{"seed", "--workspace", "1", "--conversations", "4", "--messages", "3"}, src, &out, &errOut), &errOut)

	file := filepath.Join(dir, "acme.tar.gz")
	out.Reset()
	errOut.Reset()
	must(run(context.Background(), []string{"export", "--workspace", "1", "--out", file}, src, &out, &errOut), &errOut)
	for _, want := range []string{"export: messages", "export: workspace 1:", "rows/s"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("export stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	var m archive.Manifest
	must(json.Unmarshal(out.Bytes(), &m), &errOut)
	if m.WorkspaceID != 1 || m.Dialect != "sqlite" {
		t.Errorf("printed manifest %+v", m)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".acme.tar.gz.partial-*")); len(leftovers) != 0 {
		t.Errorf("partial files left: %v", leftovers)
	}

	out.Reset()
	errOut.Reset()
	must(run(context.Background(), []string{"import", "--in", file}, dst, &out, &errOut), &errOut)
	for _, want := range []string{"verify: messages", "import: messages", "import: workspace 1 (from sqlite"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("import stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	st, err := sqlite.New(context.Background(), filepath.Join(dstDir, "dst.db"))
	must(err, &errOut)
	page, err := st.ListAudit(context.Background(), 1, store.AuditFilter{Action: store.AuditWorkspaceExported, Limit: 5})
	must(err, &errOut)
	if len(page.Entries) != 1 || page.Entries[0].ActorKind != store.AuditActorSystem {
		t.Errorf("imported audit log's exports %+v, want the CLI's one, by the system", page.Entries)
	}
	st.Close()

	err = run(context.Background(), []string{"import", "--in", file}, dst, &out, &errOut)
	if !errors.Is(err, archive.ErrConflict) {
		t.Errorf("second import: %v, want ErrConflict", err)
	}
	junk := filepath.Join(dir, "junk.csv")
	if err := os.WriteFile(junk, []byte("a,b\n1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"import", "--in", junk}, dst, &out, &errOut)
	if !errors.Is(err, archive.ErrNotArchive) {
		t.Errorf("import of a CSV: %v, want ErrNotArchive", err)
	}
	for _, args := range [][]string{{"export"}, {"export", "--workspace", "1"}, {"import"}} {
		if err := run(context.Background(), args, src, &out, &errOut); err == nil || !strings.Contains(err.Error(), "required") {
			t.Errorf("%q: %v, want a required-flag error", args, err)
		}
	}
	if err := run(context.Background(), []string{"export", "--workspace", "99", "--out", file}, src, &out, &errOut); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("export of an unknown workspace: %v, want ErrNotFound", err)
	}
}
