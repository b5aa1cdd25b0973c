package storetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/archive"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// testArchiveSchema: store.ArchiveTables and store.ArchiveExcluded
// account for every table and column of the schema, and name nothing the
// schema lacks. A migration adding a table or a column fails here until
// it is archived or excluded on purpose.
func testArchiveSchema(t *testing.T, s store.Store) {
	schema, err := s.ArchiveSchema(ctx(t))
	must(t, err)
	if len(schema) == 0 {
		t.Fatal("ArchiveSchema found no tables")
	}
	for table, cols := range schema {
		if _, ok := store.ArchiveExcludes(table); ok {
			continue
		}
		spec := store.ArchiveTableNamed(table)
		if spec == nil {
			t.Errorf("table %s is neither archived (store.ArchiveTables) nor excluded (store.ArchiveExcluded)", table)
			continue
		}
		for _, c := range cols {
			if spec.Column(c) < 0 {
				if _, ok := store.ArchiveExcludes(table + "." + c); !ok {
					t.Errorf("column %s.%s is neither archived nor excluded", table, c)
				}
			}
		}
	}
	for _, spec := range store.ArchiveTables {
		cols, ok := schema[spec.Name]
		if !ok {
			t.Errorf("archived table %s is not in the schema", spec.Name)
			continue
		}
		for _, c := range spec.Columns {
			if !slices.Contains(cols, c.Name) {
				t.Errorf("archived column %s.%s is not in the schema", spec.Name, c.Name)
			}
		}
		for _, k := range spec.Key {
			if spec.Column(k) < 0 {
				t.Errorf("archived table %s pages by %s, which it does not archive", spec.Name, k)
			}
		}
	}
}

// ArchiveSeed is the workspace SeedArchive builds.
type ArchiveSeed struct {
	Workspace store.Workspace
	Owner     store.Agent
	// Conversation holds the messages; BlobContent is its media's bytes.
	Conversation store.Conversation
	BlobContent  []byte
}

// SeedArchive fills a new workspace of s with a row of every kind an
// archive carries — contacts with identities and attributes, a
// conversation with inbound, outbound, note (with a mention), labelled,
// routed to a team, read, handed over and summarized, a stored media item
// whose bytes are in blobs, consent records, AI settings and an article,
// retention settings, audit entries, invitations, tokens, canned
// responses, a dead letter — and a second workspace beside it that an
// archive of the first must not carry.
func SeedArchive(t testing.TB, s store.Store, blobs media.Blobs) ArchiveSeed {
	t.Helper()
	c := ctx(t)
	ws, owner, err := s.CreateWorkspace(c, store.NewWorkspace{Name: "Acme support", OwnerEmail: unique("owner") + "@acme.test", OwnerName: "Olive Owner"})
	must(t, err)
	by := store.Actor{AgentID: owner.ID, Role: store.RoleOwner}
	agent, err := s.CreateAgent(c, ws.ID, store.NewAgent{Email: unique("agent") + "@acme.test", Name: "Ada Agent", Role: store.RoleAgent})
	must(t, err)
	_, _, err = s.CreateAPIToken(c, ws.ID, store.NewAPIToken{AgentID: agent.ID, Name: "bot", Role: store.RoleAgent, By: by})
	must(t, err)
	team, err := s.CreateTeam(c, ws.ID, store.NewTeam{Name: "Billing", Description: "money things"})
	must(t, err)
	must(t, s.AddTeamMember(c, ws.ID, team.ID, agent.ID))
	in, err := s.CreateInbox(c, ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support line"})
	must(t, err)
	_, err = s.ConfigureInbox(c, ws.ID, in.ID, json.RawMessage(`{"phone_number_id":"1234","z":{"b":1,"a":[1,2.5,"x"]}}`), []byte{0, 1, 2, 0xfe, 0xff})
	must(t, err)
	contact, _, err := s.CreateContact(c, ws.ID, store.NewContact{Name: "Zoë Quixote", Email: "zoe@example.com", Phone: "+447700900123",
		Attributes: json.RawMessage(`{"plan":"gold","seats":3,"tags":["a","b"]}`)},
		[]store.Identity{{Channel: "whatsapp", ExternalID: "+447700900123"}, {Channel: "api", ExternalID: "crm-77"}})
	must(t, err)
	_, _, err = s.UpdateContact(c, ws.ID, contact.ID, store.ContactUpdate{Attributes: json.RawMessage(`{"vip":true}`)})
	must(t, err)
	conv, _, err := s.CreateConversation(c, ws.ID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
	must(t, err)
	high := store.Priority("high")
	_, _, err = s.UpdateConversation(c, ws.ID, conv.ID, store.ConversationUpdate{AssigneeID: &agent.ID, TeamID: &team.ID, Priority: &high})
	must(t, err)
	_, err = s.CreateMessage(c, ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn,
		Body: "The parcel never arrived, tracking zebra42 <b>&</b>", ProviderMessageID: unique("wamid")})
	must(t, err)
	_, err = s.CreateMessage(c, ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut,
		AuthorKind: store.AuthorAgent, AuthorAgentID: owner.ID, Body: "Sorry! Resending today.", IdempotencyKey: unique("idem"), AIAssisted: true})
	must(t, err)
	_, err = s.CreateMessage(c, ws.ID, store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionOut, Type: store.TypeNote,
		AuthorKind: store.AuthorAgent, AuthorAgentID: owner.ID, Body: "@Ada please check the courier", Mentions: []int64{agent.ID}})
	must(t, err)
	withMedia := store.NewMessage{ConversationID: conv.ID, Direction: store.DirectionIn, Type: store.TypeMedia, Body: "[image]",
		ProviderMessageID: unique("wamid"), Media: []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`{"id":"m-1"}`),
			MimeType: "image/png", Filename: "parcel.png", Caption: "the label"}}}
	_, err = s.CreateMessage(c, ws.ID, withMedia)
	must(t, err)
	content := []byte("\x89PNG not really an image, but bytes all the same \x00\x01")
	blob, err := blobs.Put(c, bytes.NewReader(content), 1<<20)
	must(t, err)
	jobs, err := s.ClaimMedia(c, store.Now(), time.Minute, 10)
	must(t, err)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d media, want 1", len(jobs))
	}
	_, _, err = s.MarkMediaStored(c, jobs[0], store.StoredBlob{Key: blob.Key, Size: blob.Size, SHA256: blob.SHA256})
	must(t, err)
	_, _, err = s.AddLabel(c, ws.ID, conv.ID, "vip")
	must(t, err)
	_, err = s.MarkRead(c, ws.ID, conv.ID, owner.ID)
	must(t, err)
	_, _, err = s.SetContactOptOut(c, ws.ID, contact.ID, store.ConsentChange{OptedOut: true, Channel: "whatsapp", Source: "STOP"})
	must(t, err)
	_, err = s.SetContactAI(c, ws.ID, contact.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)
	_, err = s.SetAISettings(c, ws.ID, store.AISettings{Enabled: true, Provider: store.AIProviderOpenAI, BaseURL: "https://llm.example/v1",
		Model: "m-1", APIKey: []byte("sealed-key"), Instructions: "Be brief.", BrandVoice: "warm", Redact: true})
	must(t, err)
	_, err = s.CreateKnowledgeArticle(c, ws.ID, store.NewKnowledgeArticle{Title: "Lost parcels", Body: "We resend lost parcels for free."})
	must(t, err)
	_, err = s.SetConversationSummary(c, ws.ID, conv.ID, store.ConversationSummary{Summary: "Parcel lost.", Sentiment: "negative", Intent: "complaint", Model: "offline"})
	must(t, err)
	_, err = s.SetInboxAI(c, ws.ID, in.ID, store.InboxAI{AutoReply: true, MinConfidence: 0.85})
	must(t, err)
	_, _, err = s.HandOver(c, ws.ID, conv.ID, "asked for a person")
	must(t, err)
	_, err = s.SetRetentionSettings(c, ws.ID, store.RetentionSettings{MessageDays: 120, MediaDays: 14, EventDays: 60}, by)
	must(t, err)
	must(t, s.RecordAudit(c, ws.ID, store.AuditEntry{ActorID: owner.ID, Action: "sign_in", Details: json.RawMessage(`{"via":"google","ip":"192.0.2.1"}`)}))
	_, err = s.CreateInvitation(c, ws.ID, store.NewInvitation{Email: unique("invitee") + "@acme.test", Role: store.RoleAdmin}, by)
	must(t, err)
	_, err = s.CreateCannedResponse(c, ws.ID, store.CannedResponse{ShortCode: "resend", Content: "We will resend it."})
	must(t, err)
	_, err = s.CreateDeadLetter(c, ws.ID, store.NewDeadLetter{InboxID: in.ID, Provider: "whatsapp", Body: []byte(`{"broken":`), Error: "unexpected end"})
	must(t, err)

	// Another workspace, sharing the owner: none of it belongs in the
	// archive but the owner.
	other, _, err := s.CreateWorkspace(c, store.NewWorkspace{Name: "Other", OwnerEmail: owner.Email})
	must(t, err)
	oin, err := s.CreateInbox(c, other.ID, store.NewInbox{Kind: store.InboxSMS, Name: "Other line"})
	must(t, err)
	ocontact := newContact(t, s, other.ID, "Other Customer")
	oconv := newConversation(t, s, other.ID, oin.ID, ocontact.ID)
	inbound(t, s, other.ID, oconv.ID, "secret of the other workspace", unique("other"))

	return ArchiveSeed{Workspace: ws, Owner: owner, Conversation: conv, BlobContent: content}
}

// ArchiveFiles returns an archive's files by name, failing on anything
// that is not a gzip-compressed tar.
func ArchiveFiles(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	must(t, err)
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		files[hdr.Name] = b
	}
}

// CompareArchives fails unless a and b hold the same files, equal byte
// for byte, and manifests that differ at most in their dialect and
// creation time.
func CompareArchives(t testing.TB, a, b []byte) {
	t.Helper()
	fa, fb := ArchiveFiles(t, a), ArchiveFiles(t, b)
	var names []string
	for n := range fa {
		names = append(names, n)
	}
	for n := range fb {
		if _, ok := fa[n]; !ok {
			t.Errorf("second archive has %s, the first does not", n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if n == archive.ManifestName {
			continue
		}
		if _, ok := fb[n]; !ok {
			t.Errorf("first archive has %s, the second does not", n)
			continue
		}
		if !bytes.Equal(fa[n], fb[n]) {
			t.Errorf("%s differs:\n first: %s\nsecond: %s", n, fa[n], fb[n])
		}
	}
	ma, err := archive.ParseManifest(fa[archive.ManifestName])
	must(t, err)
	mb, err := archive.ParseManifest(fb[archive.ManifestName])
	must(t, err)
	ma.Dialect, mb.Dialect = "", ""
	ma.CreatedAt, mb.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(ma, mb) {
		t.Errorf("manifests differ beyond dialect and time:\n first: %+v\nsecond: %+v", ma, mb)
	}
}

// ExportArchive exports the workspace of s to bytes.
func ExportArchive(t testing.TB, s store.Store, blobs media.Blobs, workspaceID int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := archive.Export(ctx(t), s, blobs, workspaceID, &buf, archive.ExportOptions{BatchRows: 2, TempDir: t.TempDir()})
	must(t, err)
	return buf.Bytes()
}

// ImportArchive imports data into s.
func ImportArchive(t testing.TB, s store.Store, blobs media.Blobs, data []byte) (archive.ImportResult, error) {
	t.Helper()
	return archive.Import(ctx(t), s, blobs, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, archive.ImportOptions{BatchRows: 2})
}

// CompareWorkspaces fails unless reads of the workspace agree between a
// and b: conversations, messages, full-text search of messages and contacts,
// the event log, the audit log, members, consent and AI settings.
func CompareWorkspaces(t testing.TB, a, b store.Store, seed ArchiveSeed) {
	t.Helper()
	c := ctx(t)
	id := seed.Workspace.ID
	read := func(s store.Store) map[string]any {
		out := map[string]any{}
		ws, err := s.Workspace(c, id)
		must(t, err)
		out["workspace"] = ws
		convs, err := s.ListConversations(c, id, store.ConversationFilter{Limit: 100})
		must(t, err)
		out["conversations"] = convs
		msgs, err := s.ListMessages(c, id, seed.Conversation.ID, store.MessageFilter{Limit: 100})
		must(t, err)
		out["messages"] = msgs
		found, err := s.SearchMessages(c, id, "zebra42", 10)
		must(t, err)
		if len(found) != 1 {
			t.Errorf("search for zebra42 found %d messages, want 1", len(found))
		}
		out["search_messages"] = found
		contacts, err := s.SearchContacts(c, id, "Quixote", 10)
		must(t, err)
		if len(contacts) != 1 {
			t.Errorf("search for Quixote found %d contacts, want 1", len(contacts))
		}
		out["search_contacts"] = contacts
		events, err := s.EventsAfter(c, id, 0, 1000)
		must(t, err)
		out["events"] = events
		audit, err := s.ListAudit(c, id, store.AuditFilter{Limit: 100})
		must(t, err)
		out["audit"] = audit
		agents, err := s.ListAgents(c, id)
		must(t, err)
		out["agents"] = agents
		consent, err := s.ConsentRecords(c, id, convs.Conversations[0].ContactID)
		must(t, err)
		out["consent"] = consent
		ai, err := s.AISettings(c, id)
		must(t, err)
		out["ai"] = ai
		return out
	}
	ra, rb := read(a), read(b)
	for k := range ra {
		ja, err := json.Marshal(ra[k])
		must(t, err)
		jb, err := json.Marshal(rb[k])
		must(t, err)
		// As JSON values: JSON columns come back with their keys in
		// another order once they went through an archive.
		var va, vb any
		must(t, json.Unmarshal(ja, &va))
		must(t, json.Unmarshal(jb, &vb))
		if !reflect.DeepEqual(va, vb) {
			t.Errorf("%s differ:\nsource: %s\ntarget: %s", k, ja, jb)
		}
	}
}

// testArchiveRoundTrip: a workspace exported and imported into an empty
// store exports again equal byte for byte, reads the same (search
// included), keeps its media bytes, carries nothing of another
// workspace, and new rows on the target get fresh ids.
func testArchiveRoundTrip(t *testing.T, src, dst store.Store) {
	c := ctx(t)
	srcBlobs, dstBlobs := newBlobs(t), newBlobs(t)
	seed := SeedArchive(t, src, srcBlobs)
	first := ExportArchive(t, src, srcBlobs, seed.Workspace.ID)
	if bytes.Contains(ArchiveFiles(t, first)["tables/messages.ndjson"], []byte("secret of the other workspace")) {
		t.Fatal("the archive carries another workspace's message")
	}
	res, err := ImportArchive(t, dst, dstBlobs, first)
	must(t, err)
	if res.Blobs != 1 || res.Rows == 0 {
		t.Errorf("import result %+v, want 1 blob and rows", res)
	}
	second := ExportArchive(t, dst, dstBlobs, seed.Workspace.ID)
	CompareArchives(t, first, second)
	CompareWorkspaces(t, src, dst, seed)

	msgs, err := dst.ListMessages(c, seed.Workspace.ID, seed.Conversation.ID, store.MessageFilter{Limit: 100})
	must(t, err)
	var mediaID int64
	for _, m := range msgs {
		for _, md := range m.Media {
			mediaID = md.ID
		}
	}
	md, err := dst.Media(c, seed.Workspace.ID, mediaID)
	must(t, err)
	rc, _, err := dstBlobs.Open(c, md.BlobKey)
	must(t, err)
	got, err := io.ReadAll(rc)
	rc.Close()
	must(t, err)
	if !bytes.Equal(got, seed.BlobContent) {
		t.Errorf("imported blob = %q, want %q", got, seed.BlobContent)
	}

	// The target goes on: new rows get ids past the imported ones, and
	// the event log continues gap-free from the imported sequence.
	before, err := dst.EventsAfter(c, seed.Workspace.ID, 0, 1000)
	must(t, err)
	m, err := dst.CreateMessage(c, seed.Workspace.ID, store.NewMessage{ConversationID: seed.Conversation.ID, Direction: store.DirectionIn, Body: "after the move", ProviderMessageID: unique("wamid")})
	must(t, err)
	if m.Message.ID <= msgs[0].ID {
		t.Errorf("new message id %d, not past the imported %d", m.Message.ID, msgs[0].ID)
	}
	last := before.Events[len(before.Events)-1].Seq
	if m.Events[0].Seq != last+1 {
		t.Errorf("new event seq %d, want %d", m.Events[0].Seq, last+1)
	}
	ws2, _, err := dst.CreateWorkspace(c, store.NewWorkspace{Name: "New here", OwnerEmail: unique("new") + "@example.com"})
	must(t, err)
	if ws2.ID <= seed.Workspace.ID {
		t.Errorf("new workspace id %d, not past the imported %d", ws2.ID, seed.Workspace.ID)
	}
	// The relay has nothing to publish: the events were published at
	// the source.
	pub, err := dst.PublishedSeq(c, seed.Workspace.ID)
	must(t, err)
	if pub != last {
		t.Errorf("published mark %d after import, want %d", pub, last)
	}
}

// testArchiveBadInput: every damaged or unfit archive is refused with
// its own error, and nothing is written: not a row, not a blob.
func testArchiveBadInput(t *testing.T, src, dst store.Store) {
	srcBlobs, dstBlobs := newBlobs(t), newBlobs(t)
	seed := SeedArchive(t, src, srcBlobs)
	good := ExportArchive(t, src, srcBlobs, seed.Workspace.ID)

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", good[:len(good)*2/3], archive.ErrTruncated},
		{"truncated before the manifest", rewrite(t, good, func(name string, b []byte) ([]byte, bool) { return b, name != archive.ManifestName }), archive.ErrTruncated},
		{"bad checksum", rewrite(t, good, func(name string, b []byte) ([]byte, bool) {
			if name == "tables/messages.ndjson" {
				b = bytes.Replace(b, []byte("zebra42"), []byte("zebra43"), 1)
			}
			return b, true
		}), archive.ErrCorrupt},
		{"unknown format version", rewrite(t, good, func(name string, b []byte) ([]byte, bool) {
			if name == archive.ManifestName {
				b = bytes.Replace(b, []byte(`"format_version": 1`), []byte(`"format_version": 99`), 1)
			}
			return b, true
		}), archive.ErrTooNew},
		{"newer schema", rewrite(t, good, func(name string, b []byte) ([]byte, bool) {
			if name == archive.ManifestName {
				var m map[string]any
				must(t, json.Unmarshal(b, &m))
				m["schema_version"] = 99999
				b, _ = json.Marshal(m)
			}
			return b, true
		}), archive.ErrTooNew},
		{"not an archive", []byte("id,name\n1,not an archive\n"), archive.ErrNotArchive},
		{"gzip but not tar", gzipped(t, []byte(strings.Repeat("hello ", 200))), archive.ErrNotArchive},
		{"empty", nil, archive.ErrNotArchive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ImportArchive(t, dst, dstBlobs, tc.data)
			if !errors.Is(err, tc.want) {
				t.Fatalf("import error %v, want %v", err, tc.want)
			}
			assertNothingWritten(t, dst, dstBlobs, seed)
		})
	}

	t.Run("into a non-empty target", func(t *testing.T) {
		_, err := ImportArchive(t, dst, dstBlobs, good)
		must(t, err)
		before := ExportArchive(t, dst, dstBlobs, seed.Workspace.ID)
		_, err = ImportArchive(t, dst, dstBlobs, good)
		if !errors.Is(err, archive.ErrConflict) {
			t.Fatalf("second import error %v, want ErrConflict", err)
		}
		CompareArchives(t, before, ExportArchive(t, dst, dstBlobs, seed.Workspace.ID))
		if n := dstBlobs.count(t); n != 1 {
			t.Errorf("%d blobs after the refused import, want the first import's 1", n)
		}
	})
}

// rewrite re-packs an archive, passing each file through fn (false drops
// it).
func rewrite(t testing.TB, data []byte, fn func(name string, b []byte) ([]byte, bool)) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(data))
	must(t, err)
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		b, keep := fn(hdr.Name, b)
		if !keep {
			continue
		}
		hdr.Size = int64(len(b))
		must(t, tw.WriteHeader(hdr))
		_, err = tw.Write(b)
		must(t, err)
	}
	must(t, tw.Close())
	must(t, zw.Close())
	return out.Bytes()
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err := zw.Write(b)
	must(t, err)
	must(t, zw.Close())
	return out.Bytes()
}

// testBlobs is a blob directory whose files a test can count.
type testBlobs struct {
	*media.Dir
	root string
}

func newBlobs(t testing.TB) *testBlobs {
	t.Helper()
	root := t.TempDir()
	d, err := media.NewDir(root)
	must(t, err)
	return &testBlobs{Dir: d, root: root}
}

// count counts the blobs: the files of the directory, temporary ones
// included (a failed import must not leave those either).
func (b *testBlobs) count(t testing.TB) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(b.root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	must(t, err)
	return n
}

// assertNothingWritten fails if the workspace, its owner or any blob
// reached the target.
func assertNothingWritten(t testing.TB, s store.Store, blobs *testBlobs, seed ArchiveSeed) {
	t.Helper()
	if _, err := s.Workspace(ctx(t), seed.Workspace.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("workspace %d on the target after a refused import (err %v)", seed.Workspace.ID, err)
	}
	if _, err := s.Account(ctx(t), seed.Owner.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("agent %d on the target after a refused import (err %v)", seed.Owner.ID, err)
	}
	if n := blobs.count(t); n != 0 {
		t.Errorf("%d blob files on the target after a refused import", n)
	}
}
