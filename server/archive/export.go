package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// DefaultBatchRows is how many rows a page reads or an insert writes when
// the options leave it zero.
const DefaultBatchRows = 1000

// Store is what archives need of the store.
type Store interface {
	store.ArchiveStore
	SchemaVersion(ctx context.Context) (current, latest int64, err error)
}

// BlobOpener is what an export reads blobs from (media.Blobs).
type BlobOpener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
}

// ExportOptions tune Export.
type ExportOptions struct {
	// BatchRows bounds a page of rows; DefaultBatchRows when zero.
	BatchRows int
	// TempDir holds the table files while they are written (a tar entry
	// needs its size first); the system's when empty.
	TempDir string
	// Version is the switchboard version recorded in the manifest.
	Version string
	// Progress, when set, is told of the export's advance.
	Progress func(Progress)
	// Now is the manifest's clock; time.Now when nil.
	Now func() time.Time
}

// Export writes the workspace's archive to w, reading its rows from one
// snapshot of st and its media from blobs (nil: every blob counts as
// missing). On error, what was written to w is not a valid archive.
func Export(ctx context.Context, st Store, blobs BlobOpener, workspaceID int64, w io.Writer, opts ExportOptions) (Manifest, error) {
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.Progress == nil {
		opts.Progress = func(Progress) {}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	current, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return Manifest{}, fmt.Errorf("archive: export: %w", err)
	}
	m := Manifest{
		Format: Format, FormatVersion: FormatVersion, SchemaVersion: current,
		Dialect: st.ArchiveDialect(), WorkspaceID: workspaceID,
		CreatedAt: now().UTC().Truncate(time.Second), Version: opts.Version,
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	e := &exporter{opts: opts, blobs: blobs, tw: tw, m: &m, modTime: m.CreatedAt}
	err = st.ExportWorkspace(ctx, workspaceID, func(src store.ArchiveSource) error {
		e.src = src
		if err := e.media(ctx); err != nil {
			return err
		}
		for i := range store.ArchiveTables {
			if err := e.table(ctx, &store.ArchiveTables[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("archive: export: %w", err)
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("archive: export: manifest: %w", err)
	}
	if err := e.file(ManifestName, int64(len(data)), bytes.NewReader(data)); err != nil {
		return Manifest{}, fmt.Errorf("archive: export: manifest: %w", err)
	}
	if err := errors.Join(tw.Close(), gz.Close()); err != nil {
		return Manifest{}, fmt.Errorf("archive: export: %w", err)
	}
	return m, nil
}

type exporter struct {
	opts    ExportOptions
	blobs   BlobOpener
	src     store.ArchiveSource
	tw      *tar.Writer
	m       *Manifest
	modTime time.Time
	// digests are the blobs written so far, by digest; missing the blob
	// keys found missing, whose rows are archived without one.
	digests map[string]bool
	missing map[string]bool
}

func (e *exporter) file(name string, size int64, r io.Reader) error {
	if err := e.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: e.modTime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(e.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s: %d bytes, expected %d", name, n, size)
	}
	return err
}

// mediaKeys is the media table's columns the blob pass reads.
var mediaKeys = store.ArchiveTable{Name: store.ArchiveMedia, Key: []string{"id"}, Columns: []store.ArchiveColumn{
	{Name: "id", Type: store.ArchiveInt}, {Name: "blob_key", Type: store.ArchiveText}, {Name: "sha256", Type: store.ArchiveText},
}}

// media writes each stored blob once, named by its digest.
func (e *exporter) media(ctx context.Context) error {
	e.digests, e.missing = map[string]bool{}, map[string]bool{}
	var after []any
	for {
		rows, err := e.src.ArchiveRows(ctx, &mediaKeys, after, e.opts.BatchRows)
		if err != nil {
			return err
		}
		for _, r := range rows {
			key, _ := r[1].(string)
			digest, _ := r[2].(string)
			if key == "" || e.digests[digest] || e.missing[key] {
				continue
			}
			if err := e.blob(ctx, key, digest); err != nil {
				return err
			}
		}
		if len(rows) < e.opts.BatchRows {
			break
		}
		after = []any{rows[len(rows)-1][0]}
	}
	e.opts.Progress(Progress{Phase: "export", Table: MediaFiles, Rows: e.m.Media.Files, Bytes: e.m.Media.Bytes, Done: true})
	return nil
}

func (e *exporter) blob(ctx context.Context, key, digest string) error {
	if !validDigest(digest) {
		return fmt.Errorf("media blob %s: recorded sha256 %q is not a SHA-256", key, digest)
	}
	if e.blobs == nil {
		e.missing[key] = true
		e.m.Media.Missing++
		return nil
	}
	rc, size, err := e.blobs.Open(ctx, key)
	if errors.Is(err, media.ErrNotFound) {
		e.missing[key] = true
		e.m.Media.Missing++
		return nil
	}
	if err != nil {
		return fmt.Errorf("media blob %s: %w", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	if err := e.file(mediaFile(digest), size, io.TeeReader(rc, h)); err != nil {
		return fmt.Errorf("media blob %s: %w", key, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("media blob %s: content's sha256 is %s, the media row records %s", key, got, digest)
	}
	e.digests[digest] = true
	e.m.Media.Files++
	e.m.Media.Bytes += size
	e.opts.Progress(Progress{Phase: "export", Table: MediaFiles, Rows: e.m.Media.Files, Bytes: e.m.Media.Bytes})
	return nil
}

// table spools t's rows to a temporary file, then copies it into the
// archive.
func (e *exporter) table(ctx context.Context, t *store.ArchiveTable) error {
	tmp, err := os.CreateTemp(e.opts.TempDir, "switchboard-export-*.ndjson")
	if err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h), 256<<10)
	entry := TableEntry{Name: t.Name, File: tableFile(t.Name), Columns: t.ColumnNames()}
	keyIdx := make([]int, len(t.Key))
	for i, k := range t.Key {
		keyIdx[i] = t.Column(k)
	}
	blobKey, digestCol := -1, -1
	if t.Name == store.ArchiveMedia {
		blobKey, digestCol = t.Column("blob_key"), t.Column("sha256")
	}
	var buf bytes.Buffer
	var after []any
	for {
		rows, err := e.src.ArchiveRows(ctx, t, after, e.opts.BatchRows)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if blobKey >= 0 {
				archiveBlobKey(r, blobKey, digestCol, e.missing)
			}
			buf.Reset()
			if err := appendRow(&buf, t, r); err != nil {
				return err
			}
			n, _ := bw.Write(buf.Bytes()) // a write error surfaces at Flush
			entry.Rows++
			entry.Bytes += int64(n)
		}
		e.opts.Progress(Progress{Phase: "export", Table: t.Name, Rows: entry.Rows, Bytes: entry.Bytes})
		if len(rows) < e.opts.BatchRows {
			break
		}
		last := rows[len(rows)-1]
		after = make([]any, len(keyIdx))
		for i, k := range keyIdx {
			after[i] = last[k]
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: spool: %w", t.Name, err)
	}
	entry.SHA256 = hex.EncodeToString(h.Sum(nil))
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: spool: %w", t.Name, err)
	}
	if err := e.file(entry.File, entry.Bytes, tmp); err != nil {
		return fmt.Errorf("%s: %w", t.Name, err)
	}
	e.m.Tables = append(e.m.Tables, entry)
	e.opts.Progress(Progress{Phase: "export", Table: t.Name, Rows: entry.Rows, Bytes: entry.Bytes, Done: true})
	return nil
}

// archiveBlobKey replaces a media row's blob key by the name its blob
// has in the archive: its digest, or "" when the blob was missing.
func archiveBlobKey(r []any, blobKey, digestCol int, missing map[string]bool) {
	key, _ := r[blobKey].(string)
	if key == "" {
		return
	}
	if missing[key] {
		r[blobKey] = ""
		return
	}
	r[blobKey] = r[digestCol]
}
