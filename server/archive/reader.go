package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// visitor is told of an archive's entries as scan reads them. Each gets
// the entry's content; what it leaves unread scan reads (and hashes)
// after it returns.
type visitor struct {
	media func(digest string, size int64, r io.Reader) error
	// table returns how many rows (lines) it read.
	table func(name string, r io.Reader) (int64, error)
}

// scanned is what scan saw: each table file's size, lines and digest, and
// the media files, to be held against the manifest.
type scanned struct {
	tables     []TableEntry
	mediaFiles int64
	mediaBytes int64
	manifest   []byte
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// readErr classifies an error of reading the compressed stream: an early
// end is ErrTruncated; anything else gzip, flate or tar complain of is
// ErrCorrupt. A cancelled context stays itself.
func readErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the archive ends in the middle of a file", ErrTruncated)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// scan reads an archive from r, checking the names and the order of its
// entries and hashing them, and calls v for media and tables. It returns
// the manifest's bytes unparsed with what it saw.
func scan(ctx context.Context, r io.Reader, v visitor) (scanned, error) {
	var s scanned
	gz, err := gzip.NewReader(r)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrHeader) {
		return s, fmt.Errorf("%w: not gzip-compressed", ErrNotArchive)
	}
	if err != nil {
		return s, readErr(err)
	}
	tr := tar.NewReader(gz)
	lastTable := -1
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if first && (errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)) {
				return s, fmt.Errorf("%w: not a tar stream", ErrNotArchive)
			}
			return s, readErr(err)
		}
		if s.manifest != nil {
			return s, fmt.Errorf("%w: %q after the manifest", ErrCorrupt, hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			return s, fmt.Errorf("%w: %q is not a regular file", ErrCorrupt, hdr.Name)
		}
		kind, name := entryKind(hdr.Name)
		hr := &hashingReader{r: tr, h: sha256.New()}
		switch kind {
		case "manifest":
			if hdr.Size > MaxManifestBytes {
				return s, fmt.Errorf("%w: manifest larger than %d bytes", ErrCorrupt, MaxManifestBytes)
			}
			if s.manifest, err = io.ReadAll(tr); err != nil {
				return s, readErr(err)
			}
			continue
		case "media":
			if !validDigest(name) {
				return s, fmt.Errorf("%w: media file %q is not named by a SHA-256", ErrCorrupt, hdr.Name)
			}
			if lastTable >= 0 {
				return s, fmt.Errorf("%w: media file %q after the tables", ErrCorrupt, hdr.Name)
			}
			if v.media != nil {
				if err := v.media(name, hdr.Size, hr); err != nil {
					return s, err
				}
			}
			if err := drain(hr); err != nil {
				return s, err
			}
			if got := hex.EncodeToString(hr.h.Sum(nil)); got != name {
				return s, fmt.Errorf("%w: media file %s has sha256 %s", ErrCorrupt, name, got)
			}
			s.mediaFiles++
			s.mediaBytes += hr.n
		case "table":
			i := tableIndex(name)
			if i < 0 {
				return s, fmt.Errorf("%w: unknown table %q (an archive of a newer schema?)", ErrTooNew, name)
			}
			if i <= lastTable {
				return s, fmt.Errorf("%w: table %s out of order", ErrCorrupt, name)
			}
			lastTable = i
			var rows int64
			if v.table != nil {
				if rows, err = v.table(name, hr); err != nil {
					return s, err
				}
			}
			if err := drain(hr); err != nil {
				return s, err
			}
			s.tables = append(s.tables, TableEntry{Name: name, File: hdr.Name, Rows: rows, Bytes: hr.n, SHA256: hex.EncodeToString(hr.h.Sum(nil))})
		default:
			if first {
				return s, fmt.Errorf("%w: unexpected file %q", ErrNotArchive, hdr.Name)
			}
			return s, fmt.Errorf("%w: unexpected file %q", ErrCorrupt, hdr.Name)
		}
	}
	// The tar stream ended; the rest of the gzip stream holds its
	// checksum, which only reading to its end checks.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return s, readErr(err)
	}
	if s.manifest == nil {
		return s, fmt.Errorf("%w: no manifest (it comes last)", ErrTruncated)
	}
	return s, nil
}

func drain(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return readErr(err)
	}
	return nil
}

func tableIndex(name string) int {
	for i := range store.ArchiveTables {
		if store.ArchiveTables[i].Name == name {
			return i
		}
	}
	return -1
}

// lines calls fn with each line of r (without its newline), refusing a
// line longer than MaxRowBytes or empty.
func lines(r io.Reader, fn func(line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxRowBytes)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			return fmt.Errorf("%w: empty line", ErrCorrupt)
		}
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%w: a row longer than %d bytes", ErrCorrupt, MaxRowBytes)
		}
		return readErr(err)
	}
	return nil
}

// check holds what scan saw against the manifest.
func (s scanned) check(m Manifest) error {
	if len(s.tables) != len(m.Tables) {
		return fmt.Errorf("%w: %d table files, the manifest lists %d", ErrCorrupt, len(s.tables), len(m.Tables))
	}
	for i, got := range s.tables {
		want := m.Tables[i]
		switch {
		case got.Name != want.Name:
			return fmt.Errorf("%w: table file %d is %s, the manifest lists %s", ErrCorrupt, i, got.Name, want.Name)
		case got.Bytes != want.Bytes:
			return fmt.Errorf("%w: %s is %d bytes, the manifest says %d", ErrCorrupt, got.File, got.Bytes, want.Bytes)
		case got.SHA256 != want.SHA256:
			return fmt.Errorf("%w: %s has sha256 %s, the manifest says %s (checksum mismatch)", ErrCorrupt, got.File, got.SHA256, want.SHA256)
		case got.Rows != want.Rows:
			return fmt.Errorf("%w: %s has %d rows, the manifest says %d", ErrCorrupt, got.File, got.Rows, want.Rows)
		}
	}
	if s.mediaFiles != m.Media.Files || s.mediaBytes != m.Media.Bytes {
		return fmt.Errorf("%w: %d media files of %d bytes, the manifest says %d of %d",
			ErrCorrupt, s.mediaFiles, s.mediaBytes, m.Media.Files, m.Media.Bytes)
	}
	return nil
}
