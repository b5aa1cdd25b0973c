// Package archive owns workspace archives: a whole workspace — every row
// of it, and its media bytes — as one streamed file, usable as a backup
// and for moving a workspace to another server, between Postgres and
// SQLite in either direction.
//
// # Format
//
// An archive is a gzip-compressed tar stream of, in this order:
//
//	media/<sha256>          each stored media blob once, named by the
//	                        SHA-256 of its content (lower-case hex)
//	tables/<table>.ndjson   each table of store.ArchiveTables, in that
//	                        order, one JSON object per row keyed by column,
//	                        rows in key order
//	manifest.json           Manifest: format and schema versions, source
//	                        dialect, workspace id, and per table its
//	                        columns, row count, size and SHA-256
//
// The manifest comes last because the archive is written as it is read
// from the database: nothing is known of a table until it has been
// written. Values are typed the same whichever database wrote them:
// integers and floats as JSON numbers, booleans as true/false, times as
// RFC 3339 UTC strings with microseconds, bytes as standard base64, JSON
// columns as JSON (compacted, object keys sorted), NULL as null. So two
// archives of equal workspaces are equal byte for byte, whatever stores
// they came from.
//
// A media row's blob_key in the archive is the SHA-256 its bytes are
// stored under in media/ (the blob store's own keys are random names,
// meaningless on another server); an import stores each blob in the
// target's blob store and writes the key it gets there into the row. A
// blob missing from the source's blob store is reported, and its row
// archived with an empty blob_key.
//
// Inbox credentials and the AI API key are archived sealed, as they are
// stored: the target needs the source's SWITCHBOARD_SECRET_KEY to use
// them. An archive holds the workspace's Pusher secret, API token hashes
// and every customer conversation: keep it as safe as the database.
//
// # Import
//
// Import reads an archive twice. The first pass verifies it without
// writing anything: every file's checksum and row count against the
// manifest, the manifest against this server (format and schema not
// newer, tables and columns known). The second pass writes it in one
// store transaction, keeping every id; blobs are stored as they come and
// deleted again if the transaction does not commit (a crash half-way can
// leave unreferenced blob files behind, never rows). Agents, who are
// people across workspaces, are matched by email: an agent the target
// already knows keeps the target's id, and the imported rows follow it.
// The target must not have the workspace (its id, app id or app key) or
// any row with the same key: the import is refused, and nothing written.
//
// Memory stays bounded whatever the workspace's size: rows are read and
// written in pages (keyset by primary key), each table is spooled to a
// temporary file on export (a tar entry needs its size first), and blobs
// are streamed. Only the set of blob digests is kept whole.
package archive

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Format names the archive format in Manifest.Format.
const Format = "switchboard-workspace-archive"

// FormatVersion is the version of the format this package writes and the
// newest it reads.
const FormatVersion = 1

// ManifestName is the manifest's name in the archive.
const ManifestName = "manifest.json"

// MaxManifestBytes bounds the manifest read.
const MaxManifestBytes = 1 << 20

// MaxRowBytes bounds one NDJSON row; a longer line is refused.
const MaxRowBytes = 64 << 20

// Errors callers branch on; each is wrapped with what was wrong.
var (
	// ErrNotArchive: the input is not a workspace archive at all.
	ErrNotArchive = errors.New("archive: not a workspace archive")
	// ErrTruncated: the archive ends early.
	ErrTruncated = errors.New("archive: truncated")
	// ErrCorrupt: the archive's content does not match its manifest, or
	// a file is malformed.
	ErrCorrupt = errors.New("archive: corrupt")
	// ErrTooNew: the archive's format or schema is newer than this
	// server reads.
	ErrTooNew = errors.New("archive: newer than this server")
	// ErrConflict: the target already has the workspace or a row of it.
	ErrConflict = errors.New("archive: the target already has this workspace's data")
)

// Manifest describes an archive.
type Manifest struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// SchemaVersion is the source database's migration version.
	SchemaVersion int64 `json:"schema_version"`
	// Dialect is the source database: "postgres" or "sqlite".
	Dialect     string    `json:"dialect"`
	WorkspaceID int64     `json:"workspace_id"`
	CreatedAt   time.Time `json:"created_at"`
	// Version is the version of the switchboard that wrote it.
	Version string       `json:"version,omitempty"`
	Tables  []TableEntry `json:"tables"`
	Media   MediaEntry   `json:"media"`
}

// TableEntry describes one table file.
type TableEntry struct {
	Name    string   `json:"name"`
	File    string   `json:"file"`
	Columns []string `json:"columns"`
	Rows    int64    `json:"rows"`
	Bytes   int64    `json:"bytes"`
	SHA256  string   `json:"sha256"`
}

// MediaEntry counts the media files; each is named by its SHA-256.
type MediaEntry struct {
	Files int64 `json:"files"`
	Bytes int64 `json:"bytes"`
	// Missing counts the stored media whose blob was not in the source's
	// blob store: their rows are archived without a blob_key.
	Missing int64 `json:"missing,omitempty"`
}

// tableFile is the name of table's file in the archive.
func tableFile(table string) string { return "tables/" + table + ".ndjson" }

// mediaFile is the name of a blob's file in the archive.
func mediaFile(digest string) string { return "media/" + digest }

// validDigest reports whether s is a lower-case hex SHA-256.
func validDigest(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// validName reports whether s is a plain SQL identifier.
func validName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// ParseManifest decodes and checks a manifest on its own: its format, its
// version, and that its entries are well formed. Whether this server can
// import it is checked by Verify.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	if len(data) > MaxManifestBytes {
		return m, fmt.Errorf("%w: manifest larger than %d bytes", ErrCorrupt, MaxManifestBytes)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: manifest: %w", ErrCorrupt, err)
	}
	if dec.More() {
		return Manifest{}, fmt.Errorf("%w: manifest: data after the object", ErrCorrupt)
	}
	switch {
	case m.Format != Format:
		return Manifest{}, fmt.Errorf("%w: manifest format %q, want %q", ErrNotArchive, m.Format, Format)
	case m.FormatVersion < 1:
		return Manifest{}, fmt.Errorf("%w: manifest format_version %d", ErrCorrupt, m.FormatVersion)
	case m.FormatVersion > FormatVersion:
		return Manifest{}, fmt.Errorf("%w: format version %d, this server reads up to %d", ErrTooNew, m.FormatVersion, FormatVersion)
	case m.SchemaVersion < 1:
		return Manifest{}, fmt.Errorf("%w: manifest schema_version %d", ErrCorrupt, m.SchemaVersion)
	case m.Dialect != "postgres" && m.Dialect != "sqlite":
		return Manifest{}, fmt.Errorf("%w: manifest dialect %q", ErrCorrupt, m.Dialect)
	case m.WorkspaceID < 1:
		return Manifest{}, fmt.Errorf("%w: manifest workspace_id %d", ErrCorrupt, m.WorkspaceID)
	case m.Media.Files < 0 || m.Media.Bytes < 0 || m.Media.Missing < 0:
		return Manifest{}, fmt.Errorf("%w: manifest media counts negative", ErrCorrupt)
	case len(m.Tables) == 0:
		return Manifest{}, fmt.Errorf("%w: manifest lists no tables", ErrCorrupt)
	}
	seen := map[string]bool{}
	for i, t := range m.Tables {
		switch {
		case !validName(t.Name):
			return Manifest{}, fmt.Errorf("%w: manifest table %d: bad name %q", ErrCorrupt, i, t.Name)
		case seen[t.Name]:
			return Manifest{}, fmt.Errorf("%w: manifest lists table %s twice", ErrCorrupt, t.Name)
		case t.File != tableFile(t.Name):
			return Manifest{}, fmt.Errorf("%w: manifest table %s: file %q, want %q", ErrCorrupt, t.Name, t.File, tableFile(t.Name))
		case t.Rows < 0 || t.Bytes < 0:
			return Manifest{}, fmt.Errorf("%w: manifest table %s: negative count", ErrCorrupt, t.Name)
		case !validDigest(t.SHA256):
			return Manifest{}, fmt.Errorf("%w: manifest table %s: bad sha256 %q", ErrCorrupt, t.Name, t.SHA256)
		case len(t.Columns) == 0:
			return Manifest{}, fmt.Errorf("%w: manifest table %s: no columns", ErrCorrupt, t.Name)
		}
		seen[t.Name] = true
		cols := map[string]bool{}
		for _, c := range t.Columns {
			if !validName(c) || cols[c] {
				return Manifest{}, fmt.Errorf("%w: manifest table %s: bad or repeated column %q", ErrCorrupt, t.Name, c)
			}
			cols[c] = true
		}
	}
	return m, nil
}

// entryKind tells the archive's files apart by name.
func entryKind(name string) (kind, rest string) {
	switch {
	case name == ManifestName:
		return "manifest", ""
	case strings.HasPrefix(name, "media/"):
		return "media", strings.TrimPrefix(name, "media/")
	case strings.HasPrefix(name, "tables/") && strings.HasSuffix(name, ".ndjson") && path.Dir(name) == "tables":
		return "table", strings.TrimSuffix(strings.TrimPrefix(name, "tables/"), ".ndjson")
	}
	return "", ""
}

// MediaFiles is Progress.Table while media blobs are written or read.
const MediaFiles = "media files"

// Progress reports an export's or an import's advance: after each page of
// rows, each blob, and at the end of each table (Done).
type Progress struct {
	// Phase is "export", "verify" or "import".
	Phase string
	// Table is the table being written or read; MediaFiles for blobs.
	Table string
	// Rows counts the table's rows (or blobs) so far; Bytes their size.
	Rows  int64
	Bytes int64
	// Done is set on a table's last report.
	Done bool
}
