package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// tinyArchive is a well-formed archive of one workspaces row and one
// media file.
func tinyArchive(t testing.TB) []byte {
	t.Helper()
	row := []byte(`{"id":1}` + "\n")
	blob := []byte("blob")
	sum := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	m, err := json.Marshal(Manifest{Format: Format, FormatVersion: 1, SchemaVersion: 1, Dialect: "sqlite", WorkspaceID: 1,
		Tables: []TableEntry{{Name: "workspaces", File: "tables/workspaces.ndjson", Columns: []string{"id"}, Rows: 1, Bytes: int64(len(row)), SHA256: sum(row)}},
		Media:  MediaEntry{Files: 1, Bytes: int64(len(blob))}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct {
		name string
		b    []byte
	}{{mediaFile(sum(blob)), blob}, {"tables/workspaces.ndjson", row}, {ManifestName, m}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.b); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// verifyBytes is Verify's store-free part: scan, parse the manifest and
// hold one against the other.
func verifyBytes(data []byte) (Manifest, error) {
	seen, err := scan(context.Background(), bytes.NewReader(data), visitor{
		table: func(_ string, r io.Reader) (int64, error) {
			var n int64
			err := lines(r, func([]byte) error { n++; return nil })
			return n, err
		},
	})
	if err != nil {
		return Manifest{}, err
	}
	m, err := ParseManifest(seen.manifest)
	if err != nil {
		return Manifest{}, err
	}
	return m, seen.check(m)
}

func TestVerifyTinyArchive(t *testing.T) {
	data := tinyArchive(t)
	if _, err := verifyBytes(data); err != nil {
		t.Fatalf("a well-formed archive: %v", err)
	}
	// Every strict prefix is refused, as truncated or as no archive.
	for n := 0; n < len(data); n += 7 {
		if _, err := verifyBytes(data[:n]); err == nil {
			t.Fatalf("the archive cut at %d of %d bytes verified", n, len(data))
		}
	}
}

// FuzzVerify: whatever the bytes, reading them as an archive ends in a
// manifest or an error of the archive's, never a panic or a hang.
func FuzzVerify(f *testing.F) {
	f.Add(tinyArchive(f))
	f.Add([]byte{})
	f.Add([]byte("not an archive"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := verifyBytes(data)
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotArchive) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTooNew) {
			t.Fatalf("error %v is none of the archive's errors", err)
		}
	})
}
