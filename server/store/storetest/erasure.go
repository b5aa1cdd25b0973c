package storetest

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Erasable is a contact seeded with personal data in every place a
// contact's data can be (SeedErasable), beside a contact of the same
// workspace and one of another workspace that an erasure must leave
// alone.
type Erasable struct {
	Workspace store.Workspace
	Owner     store.Agent
	Inbox     store.Inbox
	// Contact is the one to erase; Conversations are its own.
	Contact       store.Contact
	Conversations []int64
	// Needles are strings that only the contact's data contains: its
	// name, phone, email, identities, message texts, note, summary,
	// attribute, media caption, and the name of a contact merged into
	// it. After an erasure none may be left anywhere.
	Needles []string
	// Keeper is another contact of the workspace, Other a contact of
	// another workspace; KeepNeedles are strings only their data
	// contains, which must all still be there after the erasure.
	Keeper      store.Contact
	KeeperConv  store.Conversation
	Other       store.Contact
	OtherWS     store.Workspace
	KeepNeedles []string
	// Media is the contact's stored media item, under blob key BlobKey.
	Media   int64
	BlobKey string
	// DeadLetter is a dead letter whose payload names the contact's
	// phone; KeptDeadLetter one that does not.
	DeadLetter, KeptDeadLetter int64
}

// SeedErasable seeds an Erasable in s: a fresh workspace whose contact
// "Zebulon Quixwell" has two conversations (inbound texts, an inbound
// media item stored as blobKey, an outbound reply in the outbox, a note
// mentioning the owner, a summary), attributes, an opt-out and AI off,
// a contact merged into it, and a dead letter carrying its phone.
func SeedErasable(t testing.TB, s store.Store, blobKey string) Erasable {
	t.Helper()
	c := ctx(t)
	tag := fmt.Sprintf("zq%dx", seq.Add(1))
	var e Erasable
	var err error
	e.Workspace, e.Owner, err = s.CreateWorkspace(c, store.NewWorkspace{Name: unique("ws"), OwnerEmail: unique("owner") + "@example.com", OwnerName: "Olive Owner"})
	must(t, err)
	e.Inbox, err = s.CreateInbox(c, e.Workspace.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support line"})
	must(t, err)
	ws := e.Workspace.ID
	digits := fmt.Sprintf("1555%07d", seq.Add(1)%10000000)
	name := "Zebulon Quixwell " + tag
	phone := "+" + digits
	email := "zebulon." + tag + "@example.org"
	psid := "PSID" + tag
	e.Contact, _, err = s.CreateContact(c, ws, store.NewContact{Name: name, Phone: phone, Email: email,
		Attributes: json.RawMessage(`{"favourite":"attr-` + tag + `"}`)},
		[]store.Identity{{Channel: "whatsapp", ExternalID: digits}, {Channel: "messenger", ExternalID: psid}})
	must(t, err)
	e.Needles = []string{name, phone, digits, email, psid, "attr-" + tag}

	// A contact merged into it: its name is in its contact.created event.
	mergedName := "Mergee Alias " + tag
	merged, _, err := s.CreateContact(c, ws, store.NewContact{Name: mergedName}, []store.Identity{{Channel: "sms", ExternalID: "+1999" + digits}})
	must(t, err)
	_, _, err = s.MergeContacts(c, ws, e.Contact.ID, merged.ID)
	must(t, err)
	e.Needles = append(e.Needles, mergedName, "+1999"+digits)

	for i := range 2 {
		conv := newConversation(t, s, ws, e.Inbox.ID, e.Contact.ID)
		e.Conversations = append(e.Conversations, conv.ID)
		text := fmt.Sprintf("my parcel %d went missing secret%d%s", i, i, tag)
		inbound(t, s, ws, conv.ID, text, unique("wamid."))
		e.Needles = append(e.Needles, fmt.Sprintf("secret%d%s", i, tag))
	}
	conv := e.Conversations[0]
	caption := "caption" + tag
	m, err := s.CreateMessage(c, ws, store.NewMessage{ConversationID: conv, Direction: store.DirectionIn, Type: store.TypeMedia,
		ProviderMessageID: unique("wamid."), Body: "photo" + tag,
		Media: []store.NewMedia{{Provider: "whatsapp", Source: json.RawMessage(`{"id":"media` + tag + `"}`), Filename: "receipt" + tag + ".jpg", Caption: caption}}})
	must(t, err)
	e.Needles = append(e.Needles, caption, "receipt"+tag, "photo"+tag, "media"+tag)
	jobs, err := s.ClaimMedia(c, store.Now(), time.Minute, 10)
	must(t, err)
	for _, j := range jobs {
		if j.Media.MessageID != m.Message.ID {
			continue
		}
		e.Media = j.Media.ID
		e.BlobKey = blobKey
		_, _, err := s.MarkMediaStored(c, j, store.StoredBlob{Key: blobKey, Size: 5, SHA256: strings.Repeat("0", 64)})
		must(t, err)
	}
	if e.Media == 0 {
		t.Fatal("seeded media item not claimed")
	}
	_, err = s.CreateMessage(c, ws, store.NewMessage{ConversationID: conv, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent,
		AuthorAgentID: e.Owner.ID, Type: store.TypeText, Body: "we will refund you reply" + tag})
	must(t, err)
	_, err = s.CreateMessage(c, ws, store.NewMessage{ConversationID: conv, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent,
		AuthorAgentID: e.Owner.ID, Type: store.TypeNote, Body: "note about the customer note" + tag, Mentions: []int64{e.Owner.ID}})
	must(t, err)
	e.Needles = append(e.Needles, "reply"+tag, "note"+tag)
	_, err = s.SetConversationSummary(c, ws, conv, store.ConversationSummary{Summary: "customer lost parcel summary" + tag,
		Sentiment: "negative", Intent: "complaint", Model: "offline"})
	must(t, err)
	e.Needles = append(e.Needles, "summary"+tag)
	_, _, err = s.AddLabel(c, ws, conv, "vip")
	must(t, err)
	_, err = s.MarkRead(c, ws, conv, e.Owner.ID)
	must(t, err)
	_, _, err = s.SetContactOptOut(c, ws, e.Contact.ID, store.ConsentChange{OptedOut: true, Channel: "whatsapp", Source: "STOP"})
	must(t, err)
	_, err = s.SetContactAI(c, ws, e.Contact.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: fmt.Sprintf("agent:%d", e.Owner.ID)})
	must(t, err)
	dl, err := s.CreateDeadLetter(c, ws, store.NewDeadLetter{InboxID: e.Inbox.ID, Provider: "whatsapp",
		Body: []byte(`{"contacts":[{"wa_id":"` + digits + `"}],"bad":true}`), Error: "unparseable"})
	must(t, err)
	e.DeadLetter = dl.ID

	// What must stay: a contact of the same workspace, one of another.
	keep := fmt.Sprintf("keep%dx", seq.Add(1))
	e.Keeper, _, err = s.CreateContact(c, ws, store.NewContact{Name: "Keeper " + keep, Phone: "+1666000" + keep},
		[]store.Identity{{Channel: "whatsapp", ExternalID: "1666" + keep}})
	must(t, err)
	e.KeeperConv = newConversation(t, s, ws, e.Inbox.ID, e.Keeper.ID)
	inbound(t, s, ws, e.KeeperConv.ID, "keeper text stays"+keep, unique("wamid."))
	kdl, err := s.CreateDeadLetter(c, ws, store.NewDeadLetter{InboxID: e.Inbox.ID, Provider: "whatsapp",
		Body: []byte(`{"wa_id":"1666` + keep + `"}`), Error: "unparseable"})
	must(t, err)
	e.KeptDeadLetter = kdl.ID
	e.OtherWS, _, err = s.CreateWorkspace(c, store.NewWorkspace{Name: unique("ws"), OwnerEmail: unique("owner") + "@example.com", OwnerName: "Otto Other"})
	must(t, err)
	otherInbox, err := s.CreateInbox(c, e.OtherWS.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Other line"})
	must(t, err)
	e.Other, _, err = s.CreateContact(c, e.OtherWS.ID, store.NewContact{Name: "Other " + keep},
		[]store.Identity{{Channel: "messenger", ExternalID: "PSID" + keep}})
	must(t, err)
	otherConv := newConversation(t, s, e.OtherWS.ID, otherInbox.ID, e.Other.ID)
	inbound(t, s, e.OtherWS.ID, otherConv.ID, "other workspace text"+keep, unique("wamid."))
	e.KeepNeedles = []string{"Keeper " + keep, "stays" + keep, "Other " + keep, "text" + keep, "1666" + keep}
	return e
}

// DumpText returns every column of every row of every table of s's
// database as text, one line per row ("table: col1 | col2 ..."), for
// tests that must show something is gone from everywhere. Tables are
// enumerated from the schema (information_schema for Postgres,
// sqlite_master for SQLite, including the full-text index's shadow
// tables), so a table added later is searched too. Binary columns are
// rendered with their bytes as they are.
func DumpText(t testing.TB, s store.Store) string {
	t.Helper()
	switch db := s.(type) {
	case interface{ Pool() *pgxpool.Pool }:
		return dumpPostgres(t, db.Pool())
	case interface{ DB() *sql.DB }:
		return dumpSQLite(t, db.DB())
	}
	t.Fatalf("DumpText: %T offers no raw database access", s)
	return ""
}

func dumpPostgres(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	c := ctx(t)
	rows, err := pool.Query(c, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name IN (
			SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
		ORDER BY table_name, ordinal_position`)
	must(t, err)
	cols := map[string][]string{}
	var tables []string
	for rows.Next() {
		var table, col, typ string
		must(t, rows.Scan(&table, &col, &typ))
		expr := fmt.Sprintf(`coalesce(%q::text, '')`, col)
		if typ == "bytea" {
			// The bytes as they are, not hex: a payload's text must show.
			expr = fmt.Sprintf(`coalesce(encode(%q, 'escape'), '')`, col)
		}
		if !slices.Contains(tables, table) {
			tables = append(tables, table)
		}
		cols[table] = append(cols[table], expr)
	}
	must(t, rows.Err())
	if len(tables) < 10 {
		t.Fatalf("DumpText: only %d tables found: %v", len(tables), tables)
	}
	var b strings.Builder
	for _, table := range tables {
		q := fmt.Sprintf(`SELECT concat_ws(' | ', %s) FROM %q`, strings.Join(cols[table], ", "), table)
		rows, err := pool.Query(c, q)
		must(t, err)
		for rows.Next() {
			var line string
			must(t, rows.Scan(&line))
			fmt.Fprintf(&b, "%s: %s\n", table, line)
		}
		must(t, rows.Err())
	}
	return b.String()
}

func dumpSQLite(t testing.TB, db *sql.DB) string {
	t.Helper()
	c := ctx(t)
	rows, err := db.QueryContext(c, `SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`)
	must(t, err)
	var tables []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	must(t, rows.Err())
	if len(tables) < 10 || !slices.Contains(tables, "messages_fts_data") {
		t.Fatalf("DumpText: tables %v, want the schema's with the full-text shadow tables", tables)
	}
	var b strings.Builder
	for _, table := range tables {
		cr, err := db.QueryContext(c, `SELECT name FROM pragma_table_info(?)`, table)
		must(t, err)
		var exprs []string
		for cr.Next() {
			var col string
			must(t, cr.Scan(&col))
			exprs = append(exprs, fmt.Sprintf(`coalesce(CAST(%q AS TEXT), '')`, col))
		}
		must(t, cr.Err())
		cr.Close()
		rows, err := db.QueryContext(c, fmt.Sprintf(`SELECT %s FROM %q`, strings.Join(exprs, " || ' | ' || "), table))
		must(t, err)
		for rows.Next() {
			var line []byte
			must(t, rows.Scan(&line))
			fmt.Fprintf(&b, "%s: %s\n", table, line)
		}
		must(t, rows.Err())
	}
	return b.String()
}

// Traces returns the needles dump contains, compared case-insensitively
// (a search index may keep a word lower-cased), each with the first line
// it was found on.
func Traces(dump string, needles []string) []string {
	low := strings.ToLower(dump)
	var found []string
	for _, n := range needles {
		i := strings.Index(low, strings.ToLower(n))
		if i < 0 {
			continue
		}
		start := strings.LastIndexByte(low[:i], '\n') + 1
		end := strings.IndexByte(low[i:], '\n')
		if end < 0 {
			end = len(low) - i
		}
		found = append(found, fmt.Sprintf("%q in %.300s", n, dump[start:i+end]))
	}
	return found
}

// EraseAll runs EraseContactStep on the contact until it is done, limit
// conversations a step, and returns the total and the steps taken.
func EraseAll(t testing.TB, s store.Store, workspaceID, contactID int64, limit int) (store.ErasureStep, int) {
	t.Helper()
	var total store.ErasureStep
	for steps := 1; steps < 1000; steps++ {
		st, err := s.EraseContactStep(ctx(t), workspaceID, contactID, limit)
		must(t, err)
		total.ErasureCounts.Add(st.ErasureCounts)
		total.BlobKeys = append(total.BlobKeys, st.BlobKeys...)
		if st.Done {
			total.Done = true
			return total, steps
		}
	}
	t.Fatal("erasure never finished")
	return total, 0
}

// testErasure is the erasure contract: after erasing a contact, no
// column of any table holds its name, phone, email, identities, message
// texts, note, summary or media caption (nor those of a contact merged
// into it), its dead letter is gone, its events are redacted in place
// with the log still gap-free, and only an audit entry without personal
// data is left; another contact of the workspace and a contact of
// another workspace (with the same PSID) keep everything.
func testErasure(t *testing.T, s store.Store) {
	c := ctx(t)
	e := SeedErasable(t, s, unique("blob"))
	before := DumpText(t, s)
	if missing := len(e.Needles) - len(Traces(before, e.Needles)); missing != 0 {
		t.Fatalf("before the erasure %d needles are not in the dump: the search cannot fail; found %v", missing, Traces(before, e.Needles))
	}
	latest := func(ws int64) int64 {
		p, err := s.EventsAfter(c, ws, 0, 1)
		must(t, err)
		return p.LatestSeq
	}
	seqBefore := latest(e.Workspace.ID)

	req, err := s.CreateErasureRequest(c, e.Workspace.ID, store.NewErasureRequest{Source: store.ErasureByAgent,
		ContactIDs: []int64{e.Contact.ID}, By: actor(e.Owner)})
	must(t, err)
	if req.Status != store.ErasurePending || len(req.Code) != 20 || req.CompletedAt != nil {
		t.Fatalf("new request %+v, want pending with a code", req)
	}

	// One conversation a step: two steps, the last one takes the
	// contact with its last conversation.
	total, steps := EraseAll(t, s, e.Workspace.ID, e.Contact.ID, 1)
	if steps != 2 {
		t.Fatalf("%d steps for two conversations one at a time, want 2", steps)
	}
	if total.Contacts != 1 || total.Conversations != 2 || total.Messages != 5 || total.Media != 1 || total.DeadLetters != 1 || total.Events == 0 {
		t.Fatalf("erased %+v, want 1 contact, 2 conversations, 5 messages, 1 media, 1 dead letter, some events", total.ErasureCounts)
	}
	if !slices.Equal(total.BlobKeys, []string{e.BlobKey}) {
		t.Fatalf("blob keys %v, want [%s]", total.BlobKeys, e.BlobKey)
	}
	_, err = s.EraseContactStep(c, e.Workspace.ID, e.Contact.ID, 1)
	wantErr(t, err, store.ErrNotFound)

	done, err := s.UpdateErasureRequest(c, e.Workspace.ID, req.ID, store.ErasureUpdate{Status: store.ErasureCompleted, Counts: total.ErasureCounts, Attempts: 1})
	must(t, err)
	if done.Status != store.ErasureCompleted || done.CompletedAt == nil || done.Counts != total.ErasureCounts {
		t.Fatalf("completed request %+v", done)
	}
	_, err = s.UpdateErasureRequest(c, e.Workspace.ID, req.ID, store.ErasureUpdate{Status: store.ErasureFailed})
	wantErr(t, err, store.ErrConflict)

	after := DumpText(t, s)
	if found := Traces(after, e.Needles); len(found) > 0 {
		t.Fatalf("after the erasure the contact's data is still stored:\n%s", strings.Join(found, "\n"))
	}
	if kept := Traces(after, e.KeepNeedles); len(kept) != len(e.KeepNeedles) {
		t.Fatalf("the other contacts' data: found only %v of %v", kept, e.KeepNeedles)
	}
	for _, n := range e.Needles {
		if ms, err := s.SearchMessages(c, e.Workspace.ID, n, 5); err != nil || len(ms) > 0 {
			t.Fatalf("search %q finds %v, %v", n, ms, err)
		}
	}

	// What is left of the contact: nothing to read.
	_, err = s.Contact(c, e.Workspace.ID, e.Contact.ID)
	wantErr(t, err, store.ErrNotFound)
	for _, id := range e.Conversations {
		_, err = s.Conversation(c, e.Workspace.ID, id)
		wantErr(t, err, store.ErrNotFound)
	}
	_, err = s.Media(c, e.Workspace.ID, e.Media)
	wantErr(t, err, store.ErrNotFound)
	dls, err := s.ListDeadLetters(c, e.Workspace.ID, 10)
	must(t, err)
	if len(dls) != 1 || dls[0].ID != e.KeptDeadLetter {
		t.Fatalf("dead letters %+v, want only the keeper's", dls)
	}
	if ids, err := s.ContactsByIdentity(c, e.Workspace.ID, []string{"messenger"}, e.Contact.Identities[1].ExternalID); err != nil || len(ids) != 0 {
		t.Fatalf("identity still finds %v, %v", ids, err)
	}
	// The keeper and the other workspace's contact are whole.
	k, err := s.Contact(c, e.Workspace.ID, e.Keeper.ID)
	must(t, err)
	if k.Name != e.Keeper.Name || len(k.Identities) != 1 {
		t.Fatalf("keeper %+v", k)
	}
	if ms, err := s.ListMessages(c, e.Workspace.ID, e.KeeperConv.ID, store.MessageFilter{Limit: 10}); err != nil || len(ms) != 1 {
		t.Fatalf("keeper's messages %v, %v", ms, err)
	}
	if o, err := s.Contact(c, e.OtherWS.ID, e.Other.ID); err != nil || o.Name != e.Other.Name {
		t.Fatalf("the other workspace's contact: %+v, %v", o, err)
	}

	// The event log: still gap-free from the first seq, the erased
	// contact's events redacted in place, then conversation.deleted for
	// each conversation and contact.deleted carrying only the id.
	page, err := s.EventsAfter(c, e.Workspace.ID, 0, store.MaxEventPage)
	must(t, err)
	if page.LatestSeq != seqBefore+3 {
		t.Fatalf("latest seq %d, want %d + 2 conversation.deleted + contact.deleted", page.LatestSeq, seqBefore)
	}
	redacted := 0
	for i, ev := range page.Events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the log has a gap", i, ev.Seq)
		}
		var p store.RedactedPayload
		must(t, json.Unmarshal(ev.Payload, &p))
		if p.Redacted != "" {
			redacted++
			if p.Redacted != store.DeletedByErasure || (p.ConversationID == 0 && p.ContactID != e.Contact.ID) {
				t.Fatalf("redacted event %+v payload %s", ev, ev.Payload)
			}
		}
	}
	if int64(redacted) != total.Events {
		t.Fatalf("%d events redacted, the erasure counted %d", redacted, total.Events)
	}
	tail := page.Events[len(page.Events)-3:]
	if tail[0].Kind != store.EventConversationDeleted || tail[1].Kind != store.EventConversationDeleted || tail[2].Kind != store.EventContactDeleted {
		t.Fatalf("last events %s %s %s", tail[0].Kind, tail[1].Kind, tail[2].Kind)
	}
	var cp store.ContactPayload
	must(t, json.Unmarshal(tail[2].Payload, &cp))
	if cp.Contact.ID != e.Contact.ID || cp.Contact.Name != "" {
		t.Fatalf("contact.deleted payload %s", tail[2].Payload)
	}

	// The audit entry: ids and counts, nothing personal.
	actions, entries := auditActions(t, s, e.Workspace.ID)
	i := slices.Index(actions, store.AuditContactErased)
	if i < 0 {
		t.Fatalf("audit %v, want %s", actions, store.AuditContactErased)
	}
	d := details(t, entries[i])
	if entries[i].ActorID != e.Owner.ID || entries[i].TargetID != e.Contact.ID || d["source"] != "agent" || d["request_id"] != float64(req.ID) {
		t.Fatalf("audit entry %+v details %v", entries[i], d)
	}
}

// testErasureRequests: requests are listed newest first, found by code
// across workspaces and by id only in their own; pending ones are listed
// for the worker until they end; bad input is refused.
func testErasureRequests(t *testing.T, s store.Store) {
	c := ctx(t)
	a, b := newFixture(t, s), newFixture(t, s)
	r1, err := s.CreateErasureRequest(c, a.ws.ID, store.NewErasureRequest{Source: store.ErasureByAgent, ContactIDs: []int64{a.contact.ID}, By: actor(a.owner)})
	must(t, err)
	r2, err := s.CreateErasureRequest(c, a.ws.ID, store.NewErasureRequest{Source: store.ErasureByMeta})
	must(t, err)
	if r2.RequestedBy != 0 || len(r2.ContactIDs) != 0 || r2.Source != store.ErasureByMeta || r1.Code == r2.Code {
		t.Fatalf("meta request %+v (agent's %+v)", r2, r1)
	}
	list, err := s.ListErasureRequests(c, a.ws.ID, 10)
	must(t, err)
	if len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r1.ID {
		t.Fatalf("list %+v, want r2, r1", list)
	}
	if list, err := s.ListErasureRequests(c, b.ws.ID, 10); err != nil || len(list) != 0 {
		t.Fatalf("another workspace lists %+v, %v", list, err)
	}
	_, err = s.ErasureRequest(c, b.ws.ID, r1.ID)
	wantErr(t, err, store.ErrNotFound)
	got, err := s.ErasureRequestByCode(c, r1.Code)
	must(t, err)
	if got.ID != r1.ID || got.WorkspaceID != a.ws.ID {
		t.Fatalf("by code %+v", got)
	}
	_, err = s.ErasureRequestByCode(c, "NOSUCHCODE")
	wantErr(t, err, store.ErrNotFound)

	pending, err := s.PendingErasureRequests(c, 10)
	must(t, err)
	if len(pending) != 2 || pending[0].ID != r1.ID {
		t.Fatalf("pending %+v, want r1, r2", pending)
	}
	upd, err := s.UpdateErasureRequest(c, a.ws.ID, r1.ID, store.ErasureUpdate{Status: store.ErasurePending, Attempts: 1, Error: "blob store down"})
	must(t, err)
	if upd.Status != store.ErasurePending || upd.Attempts != 1 || upd.Error != "blob store down" || upd.CompletedAt != nil {
		t.Fatalf("after a failed attempt %+v", upd)
	}
	_, err = s.UpdateErasureRequest(c, a.ws.ID, r1.ID, store.ErasureUpdate{Status: store.ErasureFailed, Attempts: 5, Error: "gave up"})
	must(t, err)
	pending, err = s.PendingErasureRequests(c, 10)
	must(t, err)
	if len(pending) != 1 || pending[0].ID != r2.ID {
		t.Fatalf("pending %+v, want r2", pending)
	}
	_, err = s.UpdateErasureRequest(c, b.ws.ID, r2.ID, store.ErasureUpdate{Status: store.ErasureCompleted})
	wantErr(t, err, store.ErrNotFound)

	for _, tc := range []struct {
		field string
		r     store.NewErasureRequest
	}{
		{"source", store.NewErasureRequest{Source: "robot", ContactIDs: []int64{a.contact.ID}}},
		{"contact_ids", store.NewErasureRequest{Source: store.ErasureByAgent}},
		{"contact_ids", store.NewErasureRequest{Source: store.ErasureByAgent, ContactIDs: []int64{a.contact.ID, a.contact.ID}}},
		{"contact_ids", store.NewErasureRequest{Source: store.ErasureByMeta, ContactIDs: []int64{-1}}},
		{"contact_ids", store.NewErasureRequest{Source: store.ErasureByMeta, ContactIDs: make([]int64, store.MaxErasureContacts+1)}},
	} {
		_, err := s.CreateErasureRequest(c, a.ws.ID, tc.r)
		wantInvalid(t, err, tc.field)
	}
	_, err = s.UpdateErasureRequest(c, a.ws.ID, r2.ID, store.ErasureUpdate{Status: "done"})
	wantInvalid(t, err, "status")
	// Another workspace's contact is not found.
	_, err = s.CreateErasureRequest(c, a.ws.ID, store.NewErasureRequest{Source: store.ErasureByAgent, ContactIDs: []int64{b.contact.ID}})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.EraseContactStep(c, a.ws.ID, b.contact.ID, 10)
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.Contact(c, b.ws.ID, b.contact.ID); err != nil {
		t.Fatalf("another workspace's contact after a refused erasure: %v", err)
	}
}
