package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestWorkspaceExport: an agent is refused 403 and nothing is audited;
// an admin or owner gets the workspace's archive as a gzip attachment,
// which imports into an empty server and reads the same there; each
// export is in the audit log, with who took it, and the archive itself
// carries that entry.
func TestWorkspaceExport(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		blobs, err := media.NewDir(t.TempDir())
		must(t, err)
		base, _ := newServerWith(t, st, api.Options{Media: blobs})
		seed := storetest.SeedArchive(t, st, blobs)
		tn := tenant{ws: seed.Workspace, agent: seed.Owner}
		_, ownerToken, err := st.CreateAPIToken(ctx(t), seed.Workspace.ID, store.NewAPIToken{AgentID: seed.Owner.ID, Name: "export", Role: store.RoleOwner})
		must(t, err)
		_, agentToken := member(t, st, tn, store.RoleAgent, "")
		_, adminToken := member(t, st, tn, store.RoleAdmin, "")

		exports := func() []store.AuditEntry {
			page, err := st.ListAudit(ctx(t), seed.Workspace.ID, store.AuditFilter{Action: store.AuditWorkspaceExported, Limit: 10})
			must(t, err)
			return page.Entries
		}

		client{t: t, base: base, token: agentToken}.do("GET", "/api/v1/export", "").wantError(t, 403, "forbidden", "")
		if n := len(exports()); n != 0 {
			t.Fatalf("%d workspace.exported entries after a refused export, want 0", n)
		}

		for _, who := range []struct{ role, token string }{{"admin", adminToken}, {"owner", ownerToken}} {
			r := client{t: t, base: base, token: who.token}.do("GET", "/api/v1/export", "")
			if r.status != 200 {
				t.Fatalf("%s: status %d, body %s", who.role, r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/gzip" {
				t.Errorf("%s: Content-Type %q, want application/gzip", who.role, ct)
			}
			if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=\"switchboard-workspace-") || !strings.HasSuffix(cd, ".tar.gz\"") {
				t.Errorf("%s: Content-Disposition %q", who.role, cd)
			}
			files := storetest.ArchiveFiles(t, r.body)
			if !bytes.Contains(files["tables/audit_log.ndjson"], []byte(`"action":"workspace.exported"`)) {
				t.Errorf("%s: the archive lacks its own workspace.exported entry", who.role)
			}

			dst := teststore.SQLite(t)
			dstBlobs, err := media.NewDir(t.TempDir())
			must(t, err)
			res, err := archive.Import(ctx(t), dst, dstBlobs, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(r.body)), nil }, archive.ImportOptions{})
			must(t, err)
			if res.Blobs != 1 {
				t.Errorf("%s: imported %d blobs, want 1", who.role, res.Blobs)
			}
			storetest.CompareWorkspaces(t, st, dst, seed)

			// The API answers the same on the target, to the same token:
			// tokens move with the workspace.
			dstBase, _ := newServerWith(t, dst, api.Options{Media: dstBlobs})
			for _, path := range []string{
				"/api/v1/conversations",
				fmt.Sprintf("/api/v1/conversations/%d/messages", seed.Conversation.ID),
				"/api/v1/search?q=zebra42",
				"/api/v1/search?q=Quixote",
				"/api/v1/contacts",
				"/api/v1/labels",
				"/api/v1/teams",
				"/api/v1/members",
				"/api/v1/events?after=0",
			} {
				var a, b any
				client{t: t, base: base, token: who.token}.do("GET", path, "").ok(t, 200, &a)
				client{t: t, base: dstBase, token: who.token}.do("GET", path, "").ok(t, 200, &b)
				if !reflect.DeepEqual(a, b) {
					t.Errorf("%s: GET %s differs after the move:\nsource: %v\ntarget: %v", who.role, path, a, b)
				}
			}
		}

		entries := exports()
		if len(entries) != 2 {
			t.Fatalf("%d workspace.exported entries, want 2", len(entries))
		}
		owner := entries[0]
		if owner.ActorID != seed.Owner.ID || owner.TokenID == 0 || owner.TargetKind != store.AuditTargetWorkspace || owner.TargetID != seed.Workspace.ID {
			t.Errorf("audit entry %+v, want the owner's, through a token, on the workspace", owner)
		}
		var details map[string]any
		must(t, json.Unmarshal(owner.Details, &details))
		if details["via"] != "api" {
			t.Errorf("audit details %s, want via api", owner.Details)
		}
	})
}

// TestWorkspaceExportWithoutMediaStore: a server without a media store
// cannot take a whole backup, and says so rather than leave media out.
func TestWorkspaceExportWithoutMediaStore(t *testing.T) {
	st := teststore.SQLite(t)
	base, _ := newServerWith(t, st, api.Options{})
	tn := newTenant(t, st)
	client{t: t, base: base, token: tn.token}.do("GET", "/api/v1/export", "").wantError(t, 503, "unavailable", "")
}
