package media

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir keeps blobs as files in a local directory: {dir}/{key[:2]}/{key}.
// Keys are 128 random bits in hex, never derived from anything a
// customer or provider sent, so no input names a path. A blob is written
// to a temporary file and renamed into place once complete, so a reader
// never sees half a blob and a crash leaves only a temporary file behind.
type Dir struct {
	root string
}

// keyLen is the length of a key: 16 random bytes in hex.
const keyLen = 32

// tmpPrefix starts the temporary files Put writes; they are never keys.
const tmpPrefix = ".put-"

// NewDir returns the blob store in dir, creating it (0700) if needed.
func NewDir(dir string) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("media: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("media: create directory: %w", err)
	}
	return &Dir{root: dir}, nil
}

func (d *Dir) path(key string) (string, bool) {
	if len(key) != keyLen {
		return "", false
	}
	if _, err := hex.DecodeString(key); err != nil {
		return "", false
	}
	return filepath.Join(d.root, key[:2], key), true
}

// Put stores r's content under a new random key.
func (d *Dir) Put(ctx context.Context, r io.Reader, limit int64) (Blob, error) {
	tmp, err := os.CreateTemp(d.root, tmpPrefix+"*")
	if err != nil {
		return Blob{}, fmt.Errorf("media: put: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	// One byte past the limit tells a blob of exactly limit bytes from a
	// longer one, whatever length the sender declared.
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		return Blob{}, fmt.Errorf("media: put: %w", err)
	}
	if n > limit {
		return Blob{}, ErrTooLarge
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, fmt.Errorf("media: put: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, fmt.Errorf("media: put: %w", err)
	}
	key := newKey()
	final, _ := d.path(key)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return Blob{}, fmt.Errorf("media: put: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Blob{}, fmt.Errorf("media: put: %w", err)
	}
	done = true
	return Blob{Key: key, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Open returns a blob's file, which is an io.ReadSeekCloser.
func (d *Dir) Open(_ context.Context, key string) (io.ReadCloser, int64, error) {
	p, ok := d.path(key)
	if !ok {
		return nil, 0, ErrNotFound
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("media: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("media: open: %w", err)
	}
	return f, st.Size(), nil
}

// Delete removes a blob.
func (d *Dir) Delete(_ context.Context, key string) error {
	p, ok := d.path(key)
	if !ok {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("media: delete: %w", err)
	}
	return nil
}

func newKey() string {
	var b [keyLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// ctxReader stops reading once ctx ends, so a stalled copy is abandoned
// with the caller.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
