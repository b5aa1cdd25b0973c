package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Target is what an import needs of the store besides ArchiveStore:
// the workspace look-ups that tell a clear conflict early.
type Target interface {
	Store
	Workspace(ctx context.Context, id int64) (store.Workspace, error)
	WorkspaceByAppKey(ctx context.Context, key string) (store.Workspace, error)
	WorkspaceByAppID(ctx context.Context, appID string) (store.Workspace, error)
}

// ImportOptions tune Import.
type ImportOptions struct {
	// BatchRows bounds the rows of one insert; DefaultBatchRows when zero.
	BatchRows int
	// Progress, when set, is told of the verification's and the
	// import's advance.
	Progress func(Progress)
}

// ImportResult says what an import wrote.
type ImportResult struct {
	Manifest Manifest
	// Rows counts the rows written, Blobs the media blobs stored.
	Rows  int64
	Blobs int64
	// AgentsRenumbered counts the archive's agents who have another id
	// on the target: the target knew them by email, or their id was
	// another agent's.
	AgentsRenumbered int
}

// Verify reads an archive through without writing anything and checks it
// can be imported into st: that it is whole (every checksum and count
// matches its manifest), not newer than st, and that st has neither the
// workspace nor its app id or key.
func Verify(ctx context.Context, st Target, r io.Reader, progress func(Progress)) (Manifest, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	var ws struct {
		ID     int64  `json:"id"`
		AppID  string `json:"app_id"`
		AppKey string `json:"app_key"`
	}
	var files, bytes int64
	seen, err := scan(ctx, r, visitor{
		media: func(digest string, size int64, r io.Reader) error {
			files++
			bytes += size
			progress(Progress{Phase: "verify", Table: MediaFiles, Rows: files, Bytes: bytes})
			return nil
		},
		table: func(name string, r io.Reader) (int64, error) {
			var rows, size int64
			err := lines(r, func(line []byte) error {
				if line[0] != '{' || !json.Valid(line) {
					return fmt.Errorf("%w: %s row %d is not a JSON object", ErrCorrupt, name, rows+1)
				}
				if name == store.ArchiveWorkspaces && rows == 0 {
					if err := json.Unmarshal(line, &ws); err != nil {
						return fmt.Errorf("%w: workspaces row: %w", ErrCorrupt, err)
					}
				}
				rows++
				size += int64(len(line)) + 1
				return nil
			})
			progress(Progress{Phase: "verify", Table: name, Rows: rows, Bytes: size, Done: err == nil})
			return rows, err
		},
	})
	if err != nil {
		return Manifest{}, verifyErr(err)
	}
	m, err := ParseManifest(seen.manifest)
	if err != nil {
		return Manifest{}, verifyErr(err)
	}
	if err := seen.check(m); err != nil {
		return Manifest{}, verifyErr(err)
	}
	if err := checkTarget(ctx, st, m); err != nil {
		return Manifest{}, verifyErr(err)
	}
	if ws.ID != m.WorkspaceID || m.Tables[0].Name != store.ArchiveWorkspaces || m.Tables[0].Rows != 1 {
		return Manifest{}, fmt.Errorf("%w: the workspaces table must hold workspace %d alone", ErrCorrupt, m.WorkspaceID)
	}
	for _, c := range []struct {
		what string
		get  func() (store.Workspace, error)
	}{
		{fmt.Sprintf("workspace %d", ws.ID), func() (store.Workspace, error) { return st.Workspace(ctx, ws.ID) }},
		{fmt.Sprintf("app id %q", ws.AppID), func() (store.Workspace, error) { return st.WorkspaceByAppID(ctx, ws.AppID) }},
		{fmt.Sprintf("app key %q", ws.AppKey), func() (store.Workspace, error) { return st.WorkspaceByAppKey(ctx, ws.AppKey) }},
	} {
		got, err := c.get()
		if err == nil {
			return Manifest{}, fmt.Errorf("%w: %s exists here (workspace %d, %q)", ErrConflict, c.what, got.ID, got.Name)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return Manifest{}, verifyErr(err)
		}
	}
	return m, nil
}

// isArchiveErr reports whether err is one of the package's sentinels,
// whose text already says where it comes from.
func isArchiveErr(err error) bool {
	for _, e := range []error{ErrNotArchive, ErrTruncated, ErrCorrupt, ErrTooNew, ErrConflict} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func verifyErr(err error) error {
	if isArchiveErr(err) {
		return err
	}
	return fmt.Errorf("archive: verify: %w", err)
}

// checkTarget checks st can take m's rows: schema not newer, every table
// and column known.
func checkTarget(ctx context.Context, st Store, m Manifest) error {
	current, _, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if m.SchemaVersion > current {
		return fmt.Errorf("%w: schema version %d, this server's is %d: upgrade it first", ErrTooNew, m.SchemaVersion, current)
	}
	for _, te := range m.Tables {
		t := store.ArchiveTableNamed(te.Name)
		if t == nil {
			return fmt.Errorf("%w: unknown table %q", ErrTooNew, te.Name)
		}
		if _, err := newRowDecoder(t, te.Columns); err != nil {
			return err
		}
	}
	return nil
}

// Import restores the archive that open returns into st and blobs. It
// reads the archive twice: Verify first, writing nothing; then the
// import proper, in one store transaction. On error nothing is written:
// the transaction rolls back and the blobs stored are deleted.
func Import(ctx context.Context, st Target, blobs media.Blobs, open func() (io.ReadCloser, error), opts ImportOptions) (ImportResult, error) {
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.Progress == nil {
		opts.Progress = func(Progress) {}
	}
	rc, err := open()
	if err != nil {
		return ImportResult{}, fmt.Errorf("archive: import: %w", err)
	}
	m, err := Verify(ctx, st, rc, opts.Progress)
	rc.Close()
	if err != nil {
		return ImportResult{}, err
	}
	if m.Media.Files > 0 && blobs == nil {
		return ImportResult{}, fmt.Errorf("archive: import: %d media files and no blob store to restore them into", m.Media.Files)
	}
	rc, err = open()
	if err != nil {
		return ImportResult{}, fmt.Errorf("archive: import: %w", err)
	}
	defer rc.Close()
	im := &importer{ctx: ctx, opts: opts, m: m, blobs: blobs, keys: map[string]string{}, agents: map[int64]int64{}}
	err = st.ImportWorkspace(ctx, func(sink store.ArchiveSink) error {
		im.sink = sink
		seen, err := scan(ctx, rc, visitor{media: im.media, table: im.table})
		if err != nil {
			return err
		}
		// Against the verified manifest: should the file have changed
		// since it was verified, the checksums tell.
		if err := seen.check(m); err != nil {
			return err
		}
		return sink.FinishImport(ctx, m.WorkspaceID)
	})
	if err != nil {
		for _, k := range im.stored {
			if derr := blobs.Delete(context.WithoutCancel(ctx), k); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete blob %s stored before the failure: %w", k, derr))
			}
		}
		if errors.Is(err, store.ErrConflict) && !errors.Is(err, ErrConflict) {
			err = fmt.Errorf("%w: %w", ErrConflict, err)
		}
		if isArchiveErr(err) {
			return ImportResult{}, fmt.Errorf("%w; nothing was written", err)
		}
		return ImportResult{}, fmt.Errorf("archive: import: %w; nothing was written", err)
	}
	return ImportResult{Manifest: m, Rows: im.rows, Blobs: int64(len(im.stored)), AgentsRenumbered: im.renumbered}, nil
}

type importer struct {
	opts  ImportOptions
	m     Manifest
	blobs media.Blobs
	sink  store.ArchiveSink
	// keys maps a blob's digest to its key in the target's blob store;
	// stored lists those keys, to delete them should the import fail.
	keys   map[string]string
	stored []string
	// agents maps an archived agent id to the target's.
	agents     map[int64]int64
	renumbered int
	rows       int64
	ctx        context.Context
}

func (im *importer) media(digest string, size int64, r io.Reader) error {
	b, err := im.blobs.Put(im.ctx, r, size)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = readErr(err)
		}
		return fmt.Errorf("media %s: %w", digest, err)
	}
	im.stored = append(im.stored, b.Key)
	if b.SHA256 != digest {
		return fmt.Errorf("%w: media file %s has sha256 %s", ErrCorrupt, digest, b.SHA256)
	}
	im.keys[digest] = b.Key
	im.opts.Progress(Progress{Phase: "import", Table: MediaFiles, Rows: int64(len(im.stored)), Bytes: size})
	return nil
}

func (im *importer) table(name string, r io.Reader) (int64, error) {
	i := slices.IndexFunc(im.m.Tables, func(te TableEntry) bool { return te.Name == name })
	if i < 0 {
		return 0, fmt.Errorf("%w: table %s is not in the manifest", ErrCorrupt, name)
	}
	te := im.m.Tables[i]
	t := store.ArchiveTableNamed(name)
	dec, err := newRowDecoder(t, te.Columns)
	if err != nil {
		return 0, err
	}
	ctx := im.ctx
	wsCol := slices.Index(te.Columns, "workspace_id")
	if name == store.ArchiveWorkspaces {
		wsCol = slices.Index(te.Columns, "id")
	}
	var agentCols []int
	for ci, c := range te.Columns {
		if t.Columns[t.Column(c)].Agent {
			agentCols = append(agentCols, ci)
		}
	}
	blobCol := -1
	if name == store.ArchiveMedia {
		blobCol = slices.Index(te.Columns, "blob_key")
	}
	var rows int64
	var size int64
	batch := make([][]any, 0, im.opts.BatchRows)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := im.sink.InsertRows(ctx, t, te.Columns, batch); err != nil {
			return err
		}
		im.rows += int64(len(batch))
		batch = batch[:0]
		im.opts.Progress(Progress{Phase: "import", Table: name, Rows: rows, Bytes: size})
		return nil
	}
	err = lines(r, func(line []byte) error {
		rows++
		size += int64(len(line)) + 1
		row, err := dec.decode(line)
		if err != nil {
			return fmt.Errorf("%w: %s row %d: %w", ErrCorrupt, name, rows, err)
		}
		if wsCol >= 0 && row[wsCol] != any(im.m.WorkspaceID) {
			return fmt.Errorf("%w: %s row %d belongs to workspace %v, the archive is of %d", ErrCorrupt, name, rows, row[wsCol], im.m.WorkspaceID)
		}
		if name == store.ArchiveAgents {
			id, err := im.sink.ImportAgent(ctx, te.Columns, row)
			if err != nil {
				return err
			}
			old, _ := row[slices.Index(te.Columns, "id")].(int64)
			if id != old {
				im.renumbered++
			}
			im.agents[old] = id
			im.rows++
			return nil
		}
		for _, ci := range agentCols {
			if old, ok := row[ci].(int64); ok {
				if id, ok := im.agents[old]; ok {
					row[ci] = id
				}
			}
		}
		if blobCol >= 0 {
			if d, _ := row[blobCol].(string); d != "" {
				key, ok := im.keys[d]
				if !ok {
					return fmt.Errorf("%w: media row %d refers to blob %s, which the archive lacks", ErrCorrupt, rows, d)
				}
				row[blobCol] = key
			}
		}
		batch = append(batch, row)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return rows, err
	}
	im.opts.Progress(Progress{Phase: "import", Table: name, Rows: rows, Bytes: size, Done: true})
	return rows, nil
}
