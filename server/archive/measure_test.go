package archive_test

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/inbox"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestMeasureRate reports export and import rates on a bulk-seeded
// workspace of SWITCHBOARD_ARCHIVE_MEASURE messages (10 per conversation)
// on each store; without the variable it is skipped. A measurement, not
// a check: it fails only if the export or the import does.
//
//	SWITCHBOARD_ARCHIVE_MEASURE=50000 go test -run TestMeasureRate -v ./server/archive/
func TestMeasureRate(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SWITCHBOARD_ARCHIVE_MEASURE"))
	if n <= 0 {
		t.Skip("set SWITCHBOARD_ARCHIVE_MEASURE to a message count to measure")
	}
	for _, b := range teststore.Backends {
		t.Run(b.Name, func(t *testing.T) {
			src, dst := b.Open(t), b.Open(t)
			ws, _, err := src.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Measured", OwnerEmail: "owner@example.com"})
			must(t, err)
			_, err = inbox.Seed(ctx(t), src, ws.ID, inbox.SeedOptions{Conversations: n / 10, Messages: 10, Mode: inbox.SeedBulk})
			must(t, err)
			blobs, _ := newBlobs(t)

			var buf bytes.Buffer
			start := time.Now()
			m, err := archive.Export(ctx(t), src, blobs, ws.ID, &buf, archive.ExportOptions{TempDir: t.TempDir()})
			must(t, err)
			took := time.Since(start)
			var rows, size int64
			for _, tb := range m.Tables {
				rows, size = rows+tb.Rows, size+tb.Bytes
			}
			t.Logf("%s export: %d rows, %.1f MB NDJSON, %.1f MB gzip in %s: %.0f rows/s, %.1f MB/s (NDJSON)",
				b.Name, rows, float64(size)/1e6, float64(buf.Len())/1e6, took.Round(time.Millisecond), float64(rows)/took.Seconds(), float64(size)/1e6/took.Seconds())

			dstBlobs, _ := newBlobs(t)
			start = time.Now()
			res, err := archive.Import(ctx(t), dst, dstBlobs, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil }, archive.ImportOptions{})
			must(t, err)
			took = time.Since(start)
			t.Logf("%s import (verify and write): %d rows in %s: %.0f rows/s, %.1f MB/s (NDJSON)",
				b.Name, res.Rows, took.Round(time.Millisecond), float64(res.Rows)/took.Seconds(), float64(size)/1e6/took.Seconds())
		})
	}
}
