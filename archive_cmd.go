package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/config"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

const exportUsage = `Usage: switchboard export --workspace ID --out FILE

Writes the whole workspace — every table as NDJSON and every stored media
blob — to FILE as a gzip-compressed tar archive (see server/archive), from
one consistent snapshot, while the server may keep running. Progress goes to
stderr. The export is recorded in the workspace's audit log. Store and media
settings come from the environment, as for serve.

The archive holds every conversation, the app secret, API token hashes and
the inbox credentials sealed with SWITCHBOARD_SECRET_KEY: keep it safe, and
give the server it is imported into the same SWITCHBOARD_SECRET_KEY.

Flags:
`

const importUsage = `Usage: switchboard import --in FILE

Restores a workspace archive (switchboard export, or GET /api/v1/export) into
the configured store and media directory, keeping every id: Postgres or
SQLite, whichever the archive came from. The archive is read twice: first it
is verified whole (checksums, counts, format and schema versions) without
writing anything; then it is written in one transaction. An agent the server
already knows by email is matched, not duplicated. A server that has the
workspace, its app id or key, or any row with the same id refuses the import
and is left as it was. Progress goes to stderr. Store and media settings come
from the environment, as for serve.

Flags:
`

// exportCommand runs "export" (see exportUsage).
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), exportUsage)
		fs.PrintDefaults()
	}
	wsID := fs.Int64("workspace", 0, "workspace id (required)")
	out := fs.String("out", "", "archive file to write (required); written beside it and renamed into place when complete")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *wsID <= 0 || *out == "" {
		return errors.New("export: --workspace and --out are required")
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := media.NewDir(cfg.MediaPath())
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := st.Workspace(ctx, *wsID); err != nil {
		return fmt.Errorf("export: workspace %d: %w", *wsID, err)
	}
	details, _ := json.Marshal(map[string]any{"via": "cli", "format_version": archive.FormatVersion})
	if err := st.RecordAudit(ctx, *wsID, store.AuditEntry{Action: store.AuditWorkspaceExported,
		TargetKind: store.AuditTargetWorkspace, TargetID: *wsID, Details: details}); err != nil {
		return fmt.Errorf("export: audit: %w", err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".partial-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // gone already once renamed
	}()
	start := time.Now()
	m, err := archive.Export(ctx, st, blobs, *wsID, tmp, archive.ExportOptions{
		Version: buildVersion(), TempDir: filepath.Dir(*out), Progress: progressPrinter(stderr),
	})
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var rows, size int64
	for _, t := range m.Tables {
		rows, size = rows+t.Rows, size+t.Bytes
	}
	took := time.Since(start)
	fmt.Fprintf(stderr, "export: workspace %d: %d rows (%s of NDJSON), %d media files (%s) in %s: %.0f rows/s, %.1f MB/s; %s written to %s\n",
		*wsID, rows, mb(size), m.Media.Files, mb(m.Media.Bytes), took.Round(time.Millisecond),
		float64(rows)/took.Seconds(), float64(size+m.Media.Bytes)/1e6/took.Seconds(), mb(fi.Size()), *out)
	if m.Media.Missing > 0 {
		fmt.Fprintf(stderr, "export: warning: %d stored media had no blob in %s; archived without it\n", m.Media.Missing, cfg.MediaPath())
	}
	return json.NewEncoder(stdout).Encode(m)
}

// importCommand runs "import" (see importUsage).
func importCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), importUsage)
		fs.PrintDefaults()
	}
	in := fs.String("in", "", "archive file to read (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *in == "" {
		return errors.New("import: --in is required")
	}
	if _, err := os.Stat(*in); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := media.NewDir(cfg.MediaPath())
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	start := time.Now()
	res, err := archive.Import(ctx, st, blobs, func() (io.ReadCloser, error) { return os.Open(*in) }, archive.ImportOptions{
		Progress: progressPrinter(stderr),
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	var size int64
	for _, t := range res.Manifest.Tables {
		size += t.Bytes
	}
	fmt.Fprintf(stderr, "import: workspace %d (from %s, schema %d): %d rows, %d media files in %s (both passes): %.0f rows/s, %.1f MB/s\n",
		res.Manifest.WorkspaceID, res.Manifest.Dialect, res.Manifest.SchemaVersion, res.Rows, res.Blobs, took.Round(time.Millisecond),
		float64(res.Rows)/took.Seconds(), float64(size+res.Manifest.Media.Bytes)/1e6/took.Seconds())
	if res.AgentsRenumbered > 0 {
		fmt.Fprintf(stderr, "import: %d agents were known here by email, or their id was taken, and have another id; ids inside old event payloads and audit details keep the source's\n", res.AgentsRenumbered)
	}
	return json.NewEncoder(stdout).Encode(map[string]any{
		"workspace_id": res.Manifest.WorkspaceID, "rows": res.Rows, "media_files": res.Blobs, "agents_renumbered": res.AgentsRenumbered,
	})
}

// progressPrinter prints each finished table (and the media) with its
// rows and bytes.
func progressPrinter(w io.Writer) func(archive.Progress) {
	return func(p archive.Progress) {
		if !p.Done {
			return
		}
		fmt.Fprintf(w, "%s: %-24s %9d rows %10s\n", p.Phase, p.Table, p.Rows, mb(p.Bytes))
	}
}

func mb(n int64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
