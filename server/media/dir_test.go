package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/media"
)

func newDir(t testing.TB) (*media.Dir, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "media")
	d, err := media.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return d, root
}

// files lists every file under root, relative.
func files(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDirPutOpenDelete(t *testing.T) {
	d, root := newDir(t)
	st, err := os.Stat(root)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", st.Mode().Perm())
	}
	ctx := context.Background()
	content := []byte("\xff\xd8\xff\xe0 a JPEG, more or less")
	b, err := d.Put(ctx, bytes.NewReader(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if b.Size != int64(len(content)) || b.SHA256 != hex.EncodeToString(sum[:]) || len(b.Key) != 32 {
		t.Errorf("Put = %+v", b)
	}
	other, err := d.Put(ctx, bytes.NewReader(content), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if other.Key == b.Key {
		t.Error("the same content got the same key twice: keys must be random")
	}
	r, size, err := d.Open(ctx, b.Key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, content) || size != int64(len(content)) {
		t.Errorf("Open = %q (%d), %v", got, size, err)
	}
	if _, ok := r.(io.Seeker); !ok {
		t.Error("a local blob is not seekable")
	}
	if err := d.Delete(ctx, b.Key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Open(ctx, b.Key); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Open after Delete: %v, want ErrNotFound", err)
	}
	if err := d.Delete(ctx, b.Key); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if fs := files(t, root); len(fs) != 1 || strings.Contains(fs[0], ".put-") {
		t.Errorf("files left: %v, want only the other blob", fs)
	}
}

func TestDirSizeLimit(t *testing.T) {
	d, root := newDir(t)
	ctx := context.Background()
	exact, err := d.Put(ctx, strings.NewReader("12345"), 5)
	if err != nil || exact.Size != 5 {
		t.Fatalf("a blob of exactly the limit: %+v, %v", exact, err)
	}
	if _, err := d.Put(ctx, strings.NewReader("123456"), 5); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("one byte over: %v, want ErrTooLarge", err)
	}
	// An endless body stops at the limit rather than filling the disk.
	if _, err := d.Put(ctx, endless{}, 1<<10); !errors.Is(err, media.ErrTooLarge) {
		t.Errorf("endless body: %v, want ErrTooLarge", err)
	}
	if fs := files(t, root); len(fs) != 1 {
		t.Errorf("files left: %v, want only the blob that fit (no temporary files)", fs)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// failing fails after some bytes, like a connection that drops.
type failing struct{ n int }

func (f *failing) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestDirFailedPutLeavesNothing(t *testing.T) {
	d, root := newDir(t)
	if _, err := d.Put(context.Background(), &failing{n: 100}, 1<<20); err == nil {
		t.Fatal("a broken body was stored")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Put(ctx, strings.NewReader("abc"), 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with an ended context: %v", err)
	}
	if fs := files(t, root); len(fs) != 0 {
		t.Errorf("files left: %v", fs)
	}
}

func TestDirKeysAreNotPaths(t *testing.T) {
	d, _ := newDir(t)
	ctx := context.Background()
	for _, key := range []string{"", "../../etc/passwd", "..", "abc", strings.Repeat("g", 32), "../" + strings.Repeat("a", 29), strings.Repeat("a", 33)} {
		if _, _, err := d.Open(ctx, key); !errors.Is(err, media.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", key, err)
		}
		if err := d.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) = %v", key, err)
		}
	}
	if _, err := media.NewDir(""); err == nil {
		t.Error("NewDir(\"\") succeeded")
	}
}
