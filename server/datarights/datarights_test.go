package datarights_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeDrafts records what the service asked of the drafts service.
type fakeDrafts struct {
	mu        sync.Mutex
	canceled  [][2]int64
	forgotten []int64
}

func (d *fakeDrafts) CancelContact(workspaceID, contactID int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.canceled = append(d.canceled, [2]int64{workspaceID, contactID})
}

func (d *fakeDrafts) ForgetIndex(workspaceID int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forgotten = append(d.forgotten, workspaceID)
}

// putBlob stores content in blobs and returns its key.
func putBlob(t testing.TB, blobs *media.Dir, content string) string {
	t.Helper()
	b, err := blobs.Put(ctx(t), strings.NewReader(content), 1<<20)
	must(t, err)
	return b.Key
}

// dirText returns the content of every file under dir.
func dirText(t testing.TB, dir string) string {
	t.Helper()
	var b bytes.Buffer
	must(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b.WriteString(path + ": ")
		b.Write(data)
		b.WriteByte('\n')
		return nil
	}))
	return b.String()
}

// TestErasureLeavesNoTrace is the erasure promise end to end, on both
// stores: after an owner's erasure request runs, no table and no blob
// holds the contact's name, phone, email, identities, message texts,
// note, summary, caption or media bytes; the other contacts and their
// blob are intact; the drafts were canceled and the knowledge index
// dropped; the request is completed with its counts and the audit entry
// names ids and counts only.
func TestErasureLeavesNoTrace(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		dir := t.TempDir()
		blobs, err := media.NewDir(dir)
		must(t, err)
		secret := "bytes of the customer's passport " + strings.Repeat("Z", 8) + time.Now().Format("150405.000000")
		key := putBlob(t, blobs, secret)
		keptKey := putBlob(t, blobs, "a blob nobody erases")
		e := storetest.SeedErasable(t, st, key)
		if !strings.Contains(dirText(t, dir), secret) {
			t.Fatal("the blob is not in the directory: the search cannot fail")
		}
		drafts := &fakeDrafts{}
		commits := 0
		svc := datarights.New(datarights.Options{Store: st, Blobs: blobs, Drafts: drafts, Batch: 1,
			OnCommit: func(int64) { commits++ }})

		owner := store.Actor{AgentID: e.Owner.ID, Role: store.RoleOwner}
		req, err := svc.RequestErasure(ctx(t), e.Workspace.ID, e.Contact.ID, owner)
		must(t, err)
		if req.Status != store.ErasurePending {
			t.Fatalf("new request %+v", req)
		}
		svc.RunPending(ctx(t))

		got, err := st.ErasureRequest(ctx(t), e.Workspace.ID, req.ID)
		must(t, err)
		if got.Status != store.ErasureCompleted || got.CompletedAt == nil || got.Attempts != 1 || got.Error != "" {
			t.Fatalf("request after the run %+v", got)
		}
		if c := got.Counts; c.Contacts != 1 || c.Conversations != 2 || c.Messages != 5 || c.Media != 1 || c.DeadLetters != 1 || c.Events == 0 {
			t.Fatalf("counts %+v", c)
		}
		if commits != 2 {
			t.Fatalf("%d commits notified, want one per step (2)", commits)
		}
		if found := storetest.Traces(storetest.DumpText(t, st), e.Needles); len(found) > 0 {
			t.Fatalf("the contact's data is still stored:\n%s", strings.Join(found, "\n"))
		}
		files := dirText(t, dir)
		if strings.Contains(files, secret) {
			t.Fatal("the contact's media blob is still in the blob directory")
		}
		if _, _, err := blobs.Open(ctx(t), key); !errors.Is(err, media.ErrNotFound) {
			t.Fatalf("open the erased blob: %v", err)
		}
		rc, _, err := blobs.Open(ctx(t), keptKey)
		must(t, err)
		rc.Close()
		if kept := storetest.Traces(storetest.DumpText(t, st), e.KeepNeedles); len(kept) != len(e.KeepNeedles) {
			t.Fatalf("the other contacts' data: found only %v of %v", kept, e.KeepNeedles)
		}
		if !slices.Contains(drafts.canceled, [2]int64{e.Workspace.ID, e.Contact.ID}) || !slices.Equal(drafts.forgotten, []int64{e.Workspace.ID}) {
			t.Fatalf("drafts canceled %v, indexes forgotten %v", drafts.canceled, drafts.forgotten)
		}

		// A second run finds nothing pending; a new request for the gone
		// contact is refused.
		svc.RunPending(ctx(t))
		_, err = svc.RequestErasure(ctx(t), e.Workspace.ID, e.Contact.ID, owner)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("erasing an erased contact: %v, want not found", err)
		}
	})
}

// failingBlobs fails every delete.
type failingBlobs struct{}

func (failingBlobs) Delete(context.Context, string) error {
	return errors.New("blob store unreachable")
}

// TestErasureRetriesThenFails: a request whose blobs cannot be deleted
// stays pending with its error and attempts, erasing nothing (blobs go
// before rows), and is failed after MaxAttempts; a request that then
// runs with a working blob store completes.
func TestErasureRetriesThenFails(t *testing.T) {
	st := teststore.SQLite(t)
	dir := t.TempDir()
	blobs, err := media.NewDir(dir)
	must(t, err)
	key := putBlob(t, blobs, "media bytes")
	e := storetest.SeedErasable(t, st, key)
	svc := datarights.New(datarights.Options{Store: st, Blobs: failingBlobs{}, MaxAttempts: 2})
	req, err := svc.RequestErasure(ctx(t), e.Workspace.ID, e.Contact.ID, store.Actor{AgentID: e.Owner.ID, Role: store.RoleOwner})
	must(t, err)

	svc.RunPending(ctx(t))
	got, err := st.ErasureRequest(ctx(t), e.Workspace.ID, req.ID)
	must(t, err)
	if got.Status != store.ErasurePending || got.Attempts != 1 || !strings.Contains(got.Error, "blob store unreachable") {
		t.Fatalf("after a failed attempt %+v", got)
	}
	if _, err := st.Contact(ctx(t), e.Workspace.ID, e.Contact.ID); err != nil {
		t.Fatalf("the contact after a failed attempt: %v (blobs go first, so nothing is erased)", err)
	}
	svc.RunPending(ctx(t))
	got, err = st.ErasureRequest(ctx(t), e.Workspace.ID, req.ID)
	must(t, err)
	if got.Status != store.ErasureFailed || got.Attempts != 2 || got.CompletedAt == nil {
		t.Fatalf("after MaxAttempts %+v", got)
	}

	// Asked again with the blob store back, it completes.
	ok := datarights.New(datarights.Options{Store: st, Blobs: blobs})
	again, err := ok.RequestErasure(ctx(t), e.Workspace.ID, e.Contact.ID, store.Actor{AgentID: e.Owner.ID, Role: store.RoleOwner})
	must(t, err)
	ok.RunPending(ctx(t))
	got, err = st.ErasureRequest(ctx(t), e.Workspace.ID, again.ID)
	must(t, err)
	if got.Status != store.ErasureCompleted {
		t.Fatalf("retried request %+v", got)
	}
}

// TestRunPicksUpPendingAfterRestart: a request recorded pending (as if
// the process stopped before running it) is carried out by Run at start.
func TestRunPicksUpPendingAfterRestart(t *testing.T) {
	st := teststore.SQLite(t)
	blobs, err := media.NewDir(t.TempDir())
	must(t, err)
	e := storetest.SeedErasable(t, st, "missing-blob-key")
	req, err := st.CreateErasureRequest(ctx(t), e.Workspace.ID, store.NewErasureRequest{Source: store.ErasureByAgent,
		ContactIDs: []int64{e.Contact.ID}, By: store.Actor{AgentID: e.Owner.ID}})
	must(t, err)

	svc := datarights.New(datarights.Options{Store: st, Blobs: blobs, Interval: time.Hour})
	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { svc.Run(runCtx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := st.ErasureRequest(ctx(t), e.Workspace.ID, req.ID)
		must(t, err)
		if got.Status == store.ErasureCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request still %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := st.Contact(ctx(t), e.Workspace.ID, e.Contact.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("contact after Run: %v", err)
	}
}
