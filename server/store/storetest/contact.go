package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testContacts(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	id := store.Identity{Channel: "whatsapp", ExternalID: "+15550001111"}
	first, created, err := s.UpsertContact(c, a.ws.ID, id, store.NewContact{Name: "Dee", Phone: "+15550001111", Attributes: []byte(`{"plan":"pro"}`)})
	must(t, err)
	if !created || first.Name != "Dee" || !jsonEqual(first.Attributes, []byte(`{"plan":"pro"}`)) || !slices.Equal(first.Identities, []store.Identity{id}) {
		t.Fatalf("created=%v contact %+v", created, first)
	}
	again, created, err := s.UpsertContact(c, a.ws.ID, id, store.NewContact{Name: "Someone else"})
	must(t, err)
	if created || again.ID != first.ID || again.Name != "Dee" || !slices.Equal(again.Identities, []store.Identity{id}) {
		t.Fatalf("second upsert created=%v %+v: want the first contact back", created, again)
	}
	// The same phone number on another channel, or in another workspace,
	// is another identity.
	sms, created, err := s.UpsertContact(c, a.ws.ID, store.Identity{Channel: "sms", ExternalID: id.ExternalID}, store.NewContact{})
	must(t, err)
	if !created || sms.ID == first.ID {
		t.Fatal("sms identity resolved to the whatsapp contact")
	}
	inB, created, err := s.UpsertContact(c, b.ws.ID, id, store.NewContact{})
	must(t, err)
	if !created || inB.ID == first.ID || inB.WorkspaceID != b.ws.ID {
		t.Fatal("workspace B resolved workspace A's contact")
	}

	got, err := s.Contact(c, a.ws.ID, first.ID)
	must(t, err)
	if got.ID != first.ID || got.Phone != "+15550001111" || !slices.Equal(got.Identities, []store.Identity{id}) {
		t.Fatalf("got %+v", got)
	}
	_, err = s.Contact(c, b.ws.ID, first.ID)
	wantErr(t, err, store.ErrNotFound)

	_, _, err = s.UpsertContact(c, a.ws.ID, store.Identity{Channel: "whatsapp"}, store.NewContact{})
	wantInvalid(t, err, "external_id")
	_, _, err = s.UpsertContact(c, a.ws.ID, store.Identity{Channel: "x", ExternalID: "y"}, store.NewContact{Attributes: []byte(`"s"`)})
	wantInvalid(t, err, "attributes")
}

// latestSeq is the newest seq of the workspace's event log.
func latestSeq(t testing.TB, s store.Store, workspaceID int64) int64 {
	t.Helper()
	page, err := s.EventsAfter(ctx(t), workspaceID, 0, 1)
	must(t, err)
	return page.LatestSeq
}

// kinds lists the kinds of events, in order.
func kinds(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

func contactPayload(t testing.TB, ev store.Event) store.ContactPayload {
	t.Helper()
	var p store.ContactPayload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatalf("%s payload %s: %v", ev.Kind, ev.Payload, err)
	}
	return p
}

func contactIDs(cs []store.Contact) []int64 {
	var out []int64
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// wantNoEvents fails if the workspace's log moved past seq.
func wantNoEvents(t testing.TB, s store.Store, workspaceID, seq int64) {
	t.Helper()
	if got := latestSeq(t, s, workspaceID); got != seq {
		t.Fatalf("log moved from seq %d to %d; a refused change must append nothing", seq, got)
	}
}

func testCreateContact(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	wa := store.Identity{Channel: "whatsapp", ExternalID: "+4479000001"}
	mail := store.Identity{Channel: "email", ExternalID: "erin@example.test"}
	before := latestSeq(t, s, a.ws.ID)

	erin, ev, err := s.CreateContact(c, a.ws.ID, store.NewContact{
		Name: " Erin ", Email: "erin@example.test", Phone: "+4479000001", Attributes: []byte(`{"tier":"gold"}`),
	}, []store.Identity{wa, mail})
	must(t, err)
	if erin.ID == 0 || erin.WorkspaceID != a.ws.ID || erin.Name != "Erin" || erin.CreatedAt.IsZero() ||
		!jsonEqual(erin.Attributes, []byte(`{"tier":"gold"}`)) || !slices.Equal(erin.Identities, []store.Identity{wa, mail}) {
		t.Fatalf("created %+v", erin)
	}
	if ev.Kind != store.EventContactCreated || ev.Seq != before+1 || ev.ConversationID != 0 {
		t.Fatalf("event %+v, want contact.created at seq %d", ev, before+1)
	}
	if p := contactPayload(t, ev); p.Contact.ID != erin.ID || p.MergedID != 0 || len(p.Contact.Identities) != 2 {
		t.Fatalf("payload %+v", p)
	}
	got, err := s.Contact(c, a.ws.ID, erin.ID)
	must(t, err)
	if !slices.Equal(got.Identities, []store.Identity{wa, mail}) {
		t.Fatalf("stored identities %v", got.Identities)
	}
	// The identity now resolves to Erin for the channels too.
	viaChannel, created, err := s.UpsertContact(c, a.ws.ID, wa, store.NewContact{Name: "someone"})
	must(t, err)
	if created || viaChannel.ID != erin.ID {
		t.Fatalf("upsert of Erin's identity: created=%v id %d", created, viaChannel.ID)
	}

	bare, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{Name: "No channels yet"}, nil)
	must(t, err)
	if bare.Identities == nil || len(bare.Identities) != 0 || !jsonEqual(bare.Attributes, []byte(`{}`)) {
		t.Fatalf("contact without identities %+v: want [] identities and {} attributes", bare)
	}

	t.Run("taken identity", func(t *testing.T) {
		seq := latestSeq(t, s, a.ws.ID)
		fresh := store.Identity{Channel: "sms", ExternalID: unique("+1555")}
		// The fresh identity comes first: the whole create must roll back.
		_, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{Name: "Imposter"}, []store.Identity{fresh, mail})
		wantErr(t, err, store.ErrConflict)
		wantNoEvents(t, s, a.ws.ID, seq)
		_, created, err := s.UpsertContact(c, a.ws.ID, fresh, store.NewContact{})
		must(t, err)
		if !created {
			t.Fatal("the refused create kept its first identity")
		}
		page, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Query: "Imposter"})
		must(t, err)
		if len(page.Contacts) != 0 {
			t.Fatalf("the refused create left a contact: %+v", page.Contacts)
		}
	})

	t.Run("same identity in another workspace", func(t *testing.T) {
		other, _, err := s.CreateContact(c, b.ws.ID, store.NewContact{Name: "Erin B"}, []store.Identity{wa})
		must(t, err)
		if other.ID == erin.ID || other.WorkspaceID != b.ws.ID {
			t.Fatalf("got %+v", other)
		}
	})

	for _, tc := range []struct {
		name  string
		nc    store.NewContact
		ids   []store.Identity
		field string
	}{
		{"attributes not an object", store.NewContact{Attributes: []byte(`[1]`)}, nil, "attributes"},
		{"identity without channel", store.NewContact{}, []store.Identity{{ExternalID: "x"}}, "identities[0].channel"},
		{"identity without id", store.NewContact{}, []store.Identity{wa, {Channel: "sms", ExternalID: " "}}, "identities[1].external_id"},
		{"identity twice", store.NewContact{}, []store.Identity{{Channel: "sms", ExternalID: "1"}, {Channel: "sms", ExternalID: "1"}}, "identities[1]"},
		{"too many identities", store.NewContact{}, make([]store.Identity, store.MaxContactIdentities+1), "identities"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq := latestSeq(t, s, a.ws.ID)
			_, _, err := s.CreateContact(c, a.ws.ID, tc.nc, tc.ids)
			wantInvalid(t, err, tc.field)
			wantNoEvents(t, s, a.ws.ID, seq)
		})
	}
	_, _, err = s.CreateContact(c, 1<<40, store.NewContact{Name: "nobody's"}, nil)
	wantErr(t, err, store.ErrNotFound)
}

func testListContacts(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s) // has one contact already
	var made []int64
	for range 6 {
		made = append(made, newContact(t, s, a.ws.ID, unique("Pager")).ID)
	}
	all := append([]int64{a.contact.ID}, made...)
	slices.Reverse(all) // newest first

	var seen []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("paging does not end")
		}
		page, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Limit: 3, Cursor: cursor})
		must(t, err)
		seen = append(seen, contactIDs(page.Contacts)...)
		if pages == 0 {
			// Editing a contact already seen must not bring it back,
			// nor one not yet seen push it off.
			_, _, err := s.UpdateContact(c, a.ws.ID, all[0], store.ContactUpdate{Name: ptr("edited while paging")})
			must(t, err)
			_, _, err = s.UpdateContact(c, a.ws.ID, all[5], store.ContactUpdate{Name: ptr("also edited")})
			must(t, err)
		}
		for _, ct := range page.Contacts {
			if ct.Identities == nil {
				t.Fatalf("listed contact %d without identities", ct.ID)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if !equalInt64(seen, all) {
		t.Fatalf("paged %v, want %v (newest first by id, each once)", seen, all)
	}

	t.Run("exact page has no next", func(t *testing.T) {
		page, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Limit: len(all)})
		must(t, err)
		if len(page.Contacts) != len(all) || page.Next != "" {
			t.Fatalf("%d contacts, next %q", len(page.Contacts), page.Next)
		}
	})

	t.Run("default and clamped limits", func(t *testing.T) {
		page, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Limit: store.MaxPageSize + 50})
		must(t, err)
		if len(page.Contacts) != len(all) {
			t.Fatalf("%d contacts", len(page.Contacts))
		}
	})

	t.Run("query", func(t *testing.T) {
		zed, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{Name: "Zed Quimby", Email: "zed@quimby.test"}, nil)
		must(t, err)
		for _, q := range []string{"quimby", "Zed", "  zed  "} {
			page, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Query: q})
			must(t, err)
			if !equalInt64(contactIDs(page.Contacts), []int64{zed.ID}) {
				t.Fatalf("query %q: %v", q, contactIDs(page.Contacts))
			}
		}
		// Two of the six Pager contacts were renamed above: four match,
		// in two pages of three.
		page, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Query: "Pager", Limit: 3})
		must(t, err)
		if len(page.Contacts) != 3 || page.Next == "" {
			t.Fatalf("query pages: %d contacts, next %q", len(page.Contacts), page.Next)
		}
		rest, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Query: "Pager", Limit: 3, Cursor: page.Next})
		must(t, err)
		if len(rest.Contacts) != 1 || rest.Next != "" || rest.Contacts[0].ID != all[4] {
			t.Fatalf("query second page: %v next %q, want [%d]", contactIDs(rest.Contacts), rest.Next, all[4])
		}
		page, err = s.ListContacts(c, a.ws.ID, store.ContactFilter{Query: "AND OR ( * :"})
		must(t, err)
		if len(page.Contacts) != 0 {
			t.Fatalf("operator soup matched %v", contactIDs(page.Contacts))
		}
	})

	for _, tc := range []struct {
		name  string
		f     store.ContactFilter
		field string
	}{
		{"malformed cursor", store.ContactFilter{Cursor: "!!"}, "cursor"},
		{"conversation cursor", store.ContactFilter{Cursor: store.Cursor{LastActivityAt: store.Now(), ID: 3}.Encode()}, "cursor"},
		{"query too long", store.ContactFilter{Query: string(make([]byte, store.MaxSearchQuery+1))}, "q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListContacts(c, a.ws.ID, tc.f)
			wantInvalid(t, err, tc.field)
		})
	}
}

func testUpdateContact(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	ct, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{
		Name: "Fay", Email: "fay@example.test", Phone: "+1555",
		Attributes: []byte(`{"plan":"pro","seats":3,"address":{"city":"Oslo","zip":"0150"},"legacy":true}`),
	}, []store.Identity{{Channel: "sms", ExternalID: "+1555"}})
	must(t, err)

	// Each step applies to the result of the one before.
	steps := []struct {
		name      string
		u         store.ContactUpdate
		wantName  string
		wantEmail string
		wantPhone string
		wantAttrs string
	}{
		{"name only", store.ContactUpdate{Name: ptr("  Fay Wray ")}, "Fay Wray", "fay@example.test", "+1555",
			`{"plan":"pro","seats":3,"address":{"city":"Oslo","zip":"0150"},"legacy":true}`},
		{"attributes merge by key", store.ContactUpdate{Attributes: []byte(`{"plan":"enterprise","vip":true}`)}, "Fay Wray", "fay@example.test", "+1555",
			`{"plan":"enterprise","seats":3,"address":{"city":"Oslo","zip":"0150"},"legacy":true,"vip":true}`},
		{"null deletes a key", store.ContactUpdate{Attributes: []byte(`{"legacy":null,"never-there":null}`)}, "Fay Wray", "fay@example.test", "+1555",
			`{"plan":"enterprise","seats":3,"address":{"city":"Oslo","zip":"0150"},"vip":true}`},
		{"nested object replaced whole", store.ContactUpdate{Attributes: []byte(`{"address":{"city":"Bergen"}}`)}, "Fay Wray", "fay@example.test", "+1555",
			`{"plan":"enterprise","seats":3,"address":{"city":"Bergen"},"vip":true}`},
		{"empty patch keeps attributes", store.ContactUpdate{Attributes: []byte(`{}`), Email: ptr("FAY@example.test")}, "Fay Wray", "FAY@example.test", "+1555",
			`{"plan":"enterprise","seats":3,"address":{"city":"Bergen"},"vip":true}`},
		{"clear fields", store.ContactUpdate{Email: ptr(""), Phone: ptr(" ")}, "Fay Wray", "", "",
			`{"plan":"enterprise","seats":3,"address":{"city":"Bergen"},"vip":true}`},
	}
	for _, st := range steps {
		seq := latestSeq(t, s, a.ws.ID)
		got, ev, err := s.UpdateContact(c, a.ws.ID, ct.ID, st.u)
		must(t, err)
		reread, err := s.Contact(c, a.ws.ID, ct.ID)
		must(t, err)
		for _, g := range []store.Contact{got, reread} {
			if g.Name != st.wantName || g.Email != st.wantEmail || g.Phone != st.wantPhone || !jsonEqual(g.Attributes, []byte(st.wantAttrs)) {
				t.Fatalf("%s: got %+v attrs %s, want %q %q %q %s", st.name, g, g.Attributes, st.wantName, st.wantEmail, st.wantPhone, st.wantAttrs)
			}
			if len(g.Identities) != 1 || g.UpdatedAt.Before(ct.UpdatedAt) {
				t.Fatalf("%s: identities %v updated %v", st.name, g.Identities, g.UpdatedAt)
			}
		}
		if ev.Kind != store.EventContactUpdated || ev.Seq != seq+1 {
			t.Fatalf("%s: event %+v", st.name, ev)
		}
		if p := contactPayload(t, ev); p.Contact.ID != ct.ID || p.Contact.Name != st.wantName || !jsonEqual(p.Contact.Attributes, []byte(st.wantAttrs)) {
			t.Fatalf("%s: payload %+v", st.name, p)
		}
	}

	for _, raw := range []string{`[1]`, `"x"`, `null`, `{`} {
		t.Run("attributes "+raw, func(t *testing.T) {
			seq := latestSeq(t, s, a.ws.ID)
			_, _, err := s.UpdateContact(c, a.ws.ID, ct.ID, store.ContactUpdate{Attributes: []byte(raw), Name: ptr("not applied")})
			wantInvalid(t, err, "attributes")
			wantNoEvents(t, s, a.ws.ID, seq)
			got, err := s.Contact(c, a.ws.ID, ct.ID)
			must(t, err)
			if got.Name != "Fay Wray" {
				t.Fatalf("a refused update changed the name to %q", got.Name)
			}
		})
	}
	_, _, err = s.UpdateContact(c, a.ws.ID, 1<<40, store.ContactUpdate{Name: ptr("x")})
	wantErr(t, err, store.ErrNotFound)
}

func testDeleteContact(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	ident := store.Identity{Channel: "messenger", ExternalID: unique("psid")}

	t.Run("refused with conversations", func(t *testing.T) {
		seq := latestSeq(t, s, a.ws.ID)
		_, err := s.DeleteContact(c, a.ws.ID, a.contact.ID)
		wantErr(t, err, store.ErrConflict)
		wantNoEvents(t, s, a.ws.ID, seq)
		if _, err := s.Contact(c, a.ws.ID, a.contact.ID); err != nil {
			t.Fatalf("contact gone after a refused delete: %v", err)
		}
		if _, err := s.Conversation(c, a.ws.ID, a.conv.ID); err != nil {
			t.Fatalf("conversation gone after a refused delete: %v", err)
		}
	})

	gus, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{Name: "Gus Grissom"}, []store.Identity{ident})
	must(t, err)
	seq := latestSeq(t, s, a.ws.ID)
	ev, err := s.DeleteContact(c, a.ws.ID, gus.ID)
	must(t, err)
	if ev.Kind != store.EventContactDeleted || ev.Seq != seq+1 {
		t.Fatalf("event %+v", ev)
	}
	if p := contactPayload(t, ev); p.Contact.ID != gus.ID || p.Contact.Name != "Gus Grissom" || !slices.Equal(p.Contact.Identities, []store.Identity{ident}) {
		t.Fatalf("payload %+v: want the contact as it was", p)
	}
	_, err = s.Contact(c, a.ws.ID, gus.ID)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.DeleteContact(c, a.ws.ID, gus.ID)
	wantErr(t, err, store.ErrNotFound)
	// The identity went with the contact: the channel meets a new one.
	// (SQLite may hand the new contact the deleted one's id.)
	again, created, err := s.UpsertContact(c, a.ws.ID, ident, store.NewContact{Name: "Gus again"})
	must(t, err)
	if !created || again.Name != "Gus again" {
		t.Fatalf("identity still resolves to the deleted contact: created=%v %+v", created, again)
	}
}

// mergePair is two contacts of a workspace set up to merge: into with an
// identity and one conversation, from with two identities and two
// conversations, their fields and attributes partly overlapping.
type mergePair struct {
	into, from         store.Contact
	intoIDs, fromIDs   []store.Identity
	intoConv, fromConv []int64
}

func newMergePair(t testing.TB, s store.Store, f fixture) mergePair {
	t.Helper()
	c := ctx(t)
	var p mergePair
	var err error
	p.intoIDs = []store.Identity{{Channel: "whatsapp", ExternalID: unique("+4470")}}
	p.fromIDs = []store.Identity{{Channel: "sms", ExternalID: unique("+4471")}, {Channel: "email", ExternalID: unique("hal") + "@example.test"}}
	p.into, _, err = s.CreateContact(c, f.ws.ID, store.NewContact{
		Email: "into@example.test", Attributes: []byte(`{"plan":"pro","a":1}`),
	}, p.intoIDs)
	must(t, err)
	p.from, _, err = s.CreateContact(c, f.ws.ID, store.NewContact{
		Name: unique("Halvorsen"), Email: "from@example.test", Phone: "+4471", Attributes: []byte(`{"plan":"free","b":2}`),
	}, p.fromIDs)
	must(t, err)
	p.intoConv = []int64{newConversation(t, s, f.ws.ID, f.inbox.ID, p.into.ID).ID}
	for range 2 {
		p.fromConv = append(p.fromConv, newConversation(t, s, f.ws.ID, f.inbox.ID, p.from.ID).ID)
	}
	return p
}

func contactConversations(t testing.TB, s store.Store, workspaceID, contactID int64) []int64 {
	t.Helper()
	page, err := s.ListConversations(ctx(t), workspaceID, store.ConversationFilter{ContactID: contactID, Limit: store.MaxPageSize})
	must(t, err)
	got := ids(page.Conversations)
	slices.Sort(got)
	return got
}

func testMergeContacts(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	p := newMergePair(t, s, a)
	seq := latestSeq(t, s, a.ws.ID)

	merged, evs, err := s.MergeContacts(c, a.ws.ID, p.into.ID, p.from.ID)
	must(t, err)
	wantIdentities := append(slices.Clone(p.intoIDs), p.fromIDs...)
	reread, err := s.Contact(c, a.ws.ID, p.into.ID)
	must(t, err)
	for _, got := range []store.Contact{merged, reread} {
		if got.ID != p.into.ID || got.Name != p.from.Name || got.Email != "into@example.test" || got.Phone != "+4471" {
			t.Fatalf("merged %+v: want into's email, from's name and phone (into's were empty)", got)
		}
		if !jsonEqual(got.Attributes, []byte(`{"plan":"pro","a":1,"b":2}`)) {
			t.Fatalf("merged attributes %s: want into's winning, from's added", got.Attributes)
		}
		if !slices.Equal(got.Identities, wantIdentities) {
			t.Fatalf("merged identities %v, want %v", got.Identities, wantIdentities)
		}
	}
	_, err = s.Contact(c, a.ws.ID, p.from.ID)
	wantErr(t, err, store.ErrNotFound)
	wantConvs := append(slices.Clone(p.intoConv), p.fromConv...)
	slices.Sort(wantConvs)
	if got := contactConversations(t, s, a.ws.ID, p.into.ID); !equalInt64(got, wantConvs) {
		t.Fatalf("into's conversations %v, want %v", got, wantConvs)
	}
	if got := contactConversations(t, s, a.ws.ID, p.from.ID); len(got) != 0 {
		t.Fatalf("from still has conversations %v", got)
	}
	for _, id := range p.fromIDs {
		got, created, err := s.UpsertContact(c, a.ws.ID, id, store.NewContact{})
		must(t, err)
		if created || got.ID != p.into.ID {
			t.Fatalf("from's identity %v resolves to %d (created %v), want %d", id, got.ID, created, p.into.ID)
		}
	}

	t.Run("events", func(t *testing.T) {
		logged := allEvents(t, s, a.ws.ID, seq, 100)
		want := []string{store.EventConversationUpdated, store.EventConversationUpdated, store.EventContactMerged}
		if !slices.Equal(kinds(logged), want) || !slices.Equal(kinds(evs), want) {
			t.Fatalf("logged %v, returned %v, want %v", kinds(logged), kinds(evs), want)
		}
		for i, ev := range logged {
			if ev.Seq != seq+int64(i)+1 || ev.Seq != evs[i].Seq {
				t.Fatalf("event %d seq %d (returned %d), want %d", i, ev.Seq, evs[i].Seq, seq+int64(i)+1)
			}
		}
		for i, ev := range logged[:2] {
			var cp store.ConversationPayload
			must(t, json.Unmarshal(ev.Payload, &cp))
			if ev.ConversationID != p.fromConv[i] || cp.Conversation.ID != p.fromConv[i] || cp.Conversation.ContactID != p.into.ID {
				t.Fatalf("conversation event %+v payload %+v", ev, cp)
			}
		}
		mp := contactPayload(t, logged[2])
		if mp.Contact.ID != p.into.ID || mp.MergedID != p.from.ID || len(mp.Contact.Identities) != 3 || logged[2].ConversationID != 0 {
			t.Fatalf("contact.merged payload %+v", mp)
		}
	})

	t.Run("again is not found", func(t *testing.T) {
		seq := latestSeq(t, s, a.ws.ID)
		_, _, err := s.MergeContacts(c, a.ws.ID, p.into.ID, p.from.ID)
		wantErr(t, err, store.ErrNotFound)
		_, _, err = s.MergeContacts(c, a.ws.ID, p.from.ID, p.into.ID)
		wantErr(t, err, store.ErrNotFound)
		wantNoEvents(t, s, a.ws.ID, seq)
	})

	t.Run("into itself", func(t *testing.T) {
		seq := latestSeq(t, s, a.ws.ID)
		_, _, err := s.MergeContacts(c, a.ws.ID, p.into.ID, p.into.ID)
		wantInvalid(t, err, "from_id")
		wantNoEvents(t, s, a.ws.ID, seq)
	})

	t.Run("without conversations or identities", func(t *testing.T) {
		bare, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{Name: "Bare", Attributes: []byte(`{"a":"from bare"}`)}, nil)
		must(t, err)
		seq := latestSeq(t, s, a.ws.ID)
		got, evs, err := s.MergeContacts(c, a.ws.ID, p.into.ID, bare.ID)
		must(t, err)
		if !slices.Equal(kinds(evs), []string{store.EventContactMerged}) || evs[0].Seq != seq+1 {
			t.Fatalf("events %+v", evs)
		}
		if got.Name != p.from.Name || !jsonEqual(got.Attributes, []byte(`{"plan":"pro","a":1,"b":2}`)) {
			t.Fatalf("merging a bare contact changed into: %+v %s", got, got.Attributes)
		}
	})
}

// testContactSearch checks the full-text index follows every change:
// creation, rename, deletion and merge.
func testContactSearch(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	search := func(q string) []int64 {
		t.Helper()
		hits, err := s.SearchContacts(c, a.ws.ID, q, 10)
		must(t, err)
		listed, err := s.ListContacts(c, a.ws.ID, store.ContactFilter{Query: q})
		must(t, err)
		got, viaList := contactIDs(hits), contactIDs(listed.Contacts)
		slices.Sort(got)
		slices.Sort(viaList)
		if !equalInt64(got, viaList) {
			t.Fatalf("search %q finds %v, the filtered list %v", q, got, viaList)
		}
		return got
	}

	hank, _, err := s.CreateContact(c, a.ws.ID, store.NewContact{Name: "Hank Oldname", Email: "hank@oldmail.test"}, nil)
	must(t, err)
	if got := search("Oldname"); !equalInt64(got, []int64{hank.ID}) {
		t.Fatalf("new contact: %v", got)
	}
	_, _, err = s.UpdateContact(c, a.ws.ID, hank.ID, store.ContactUpdate{Name: ptr("Hank Newname"), Email: ptr("hank@newmail.test")})
	must(t, err)
	if got := search("Newname"); !equalInt64(got, []int64{hank.ID}) {
		t.Fatalf("renamed contact not found by its new name: %v", got)
	}
	if got := search("hank@newmail.test"); !equalInt64(got, []int64{hank.ID}) {
		t.Fatalf("renamed contact not found by its new email: %v", got)
	}
	if got := search("Oldname"); len(got) != 0 {
		t.Fatalf("renamed contact still found by its old name: %v", got)
	}
	// An attributes-only update leaves the index alone and correct.
	_, _, err = s.UpdateContact(c, a.ws.ID, hank.ID, store.ContactUpdate{Attributes: []byte(`{"x":1}`)})
	must(t, err)
	if got := search("Newname"); !equalInt64(got, []int64{hank.ID}) {
		t.Fatalf("after an attributes update: %v", got)
	}

	_, err = s.DeleteContact(c, a.ws.ID, hank.ID)
	must(t, err)
	if got := search("Newname"); len(got) != 0 {
		t.Fatalf("deleted contact still found: %v", got)
	}

	p := newMergePair(t, s, a)
	if got := search("from@example.test"); !equalInt64(got, []int64{p.from.ID}) {
		t.Fatalf("before the merge: %v", got)
	}
	_, _, err = s.MergeContacts(c, a.ws.ID, p.into.ID, p.from.ID)
	must(t, err)
	// into had no name and took from's; from's own email went with it.
	if got := search(p.from.Name); !equalInt64(got, []int64{p.into.ID}) {
		t.Fatalf("merged name finds %v, want only the survivor %d", got, p.into.ID)
	}
	if got := search("from@example.test"); len(got) != 0 {
		t.Fatalf("merged-away contact still found: %v", got)
	}
	if got := search("into@example.test"); !equalInt64(got, []int64{p.into.ID}) {
		t.Fatalf("survivor by its email: %v", got)
	}
}

// testContactIsolation checks every contact method refuses another
// workspace's contacts with ErrNotFound and changes nothing.
func testContactIsolation(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	pa := newMergePair(t, s, a)
	aBefore := latestSeq(t, s, a.ws.ID)
	bBefore := latestSeq(t, s, b.ws.ID)

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := s.Contact(c, b.ws.ID, pa.into.ID); return err }},
		{"update", func() error {
			_, _, err := s.UpdateContact(c, b.ws.ID, pa.into.ID, store.ContactUpdate{Name: ptr("pwned")})
			return err
		}},
		{"delete", func() error { _, err := s.DeleteContact(c, b.ws.ID, pa.into.ID); return err }},
		{"merge A's into A's, as B", func() error { _, _, err := s.MergeContacts(c, b.ws.ID, pa.into.ID, pa.from.ID); return err }},
		{"merge A's into B's", func() error { _, _, err := s.MergeContacts(c, b.ws.ID, b.contact.ID, pa.from.ID); return err }},
		{"merge B's into A's", func() error { _, _, err := s.MergeContacts(c, b.ws.ID, pa.into.ID, b.contact.ID); return err }},
		{"merge B's into A's, as A", func() error { _, _, err := s.MergeContacts(c, a.ws.ID, pa.into.ID, b.contact.ID); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.call(), store.ErrNotFound)
		})
	}

	// An identity A uses is free in B: creating it there is no conflict
	// and no leak.
	_, _, err := s.CreateContact(c, b.ws.ID, store.NewContact{Name: "B's own"}, pa.fromIDs)
	must(t, err)

	listed, err := s.ListContacts(c, b.ws.ID, store.ContactFilter{Limit: store.MaxPageSize})
	must(t, err)
	for _, ct := range listed.Contacts {
		if ct.WorkspaceID != b.ws.ID {
			t.Fatalf("B lists A's contact %+v", ct)
		}
	}
	found, err := s.ListContacts(c, b.ws.ID, store.ContactFilter{Query: pa.from.Name})
	must(t, err)
	if n := len(found.Contacts); n != 0 {
		t.Fatalf("B's filtered list finds %d of A's contacts", n)
	}
	if got := contactConversations(t, s, b.ws.ID, pa.from.ID); len(got) != 0 {
		t.Fatalf("B lists A's contact's conversations %v", got)
	}

	wantNoEvents(t, s, a.ws.ID, aBefore)
	if got := latestSeq(t, s, b.ws.ID); got != bBefore+1 { // only B's own contact.created
		t.Fatalf("B's log moved from %d to %d, want one event", bBefore, got)
	}
	for _, id := range []int64{pa.into.ID, pa.from.ID} {
		got, err := s.Contact(c, a.ws.ID, id)
		must(t, err)
		if got.Name == "pwned" || len(got.Identities) == 0 {
			t.Fatalf("A's contact changed: %+v", got)
		}
	}
	if got := contactConversations(t, s, a.ws.ID, pa.from.ID); !equalInt64(got, pa.fromConv) {
		t.Fatalf("A's conversations moved: %v", got)
	}
	if _, err := s.Contact(c, b.ws.ID, b.contact.ID); err != nil {
		t.Fatalf("B's contact gone: %v", err)
	}
}

// testConcurrentMerge runs the same merge from several goroutines at once,
// and a merge against its mirror image: exactly one wins, the others get
// ErrNotFound, and the survivor has everything.
func testConcurrentMerge(t *testing.T, s store.Store) {
	const callers = 6
	c := ctx(t)
	a := newFixture(t, s)

	for _, mirrored := range []bool{false, true} {
		name := "same pair"
		if mirrored {
			name = "mirrored pair"
		}
		t.Run(name, func(t *testing.T) {
			p := newMergePair(t, s, a)
			seq := latestSeq(t, s, a.ws.ID)
			winners := make([]int64, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					into, from := p.into.ID, p.from.ID
					if mirrored && i%2 == 1 {
						into, from = from, into
					}
					got, _, err := s.MergeContacts(c, a.ws.ID, into, from)
					switch {
					case err == nil:
						winners[i] = got.ID
					case !errors.Is(err, store.ErrNotFound):
						t.Errorf("caller %d: %v, want success or ErrNotFound", i, err)
					}
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			var survivor int64
			n := 0
			for _, w := range winners {
				if w != 0 {
					survivor = w
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d merges succeeded, want 1", n)
			}
			gone, moved := p.from.ID, p.fromConv
			if survivor == p.from.ID {
				gone, moved = p.into.ID, p.intoConv
			}
			_, err := s.Contact(c, a.ws.ID, gone)
			wantErr(t, err, store.ErrNotFound)
			got, err := s.Contact(c, a.ws.ID, survivor)
			must(t, err)
			if len(got.Identities) != 3 {
				t.Fatalf("survivor has identities %v, want 3", got.Identities)
			}
			wantConvs := append(slices.Clone(p.intoConv), p.fromConv...)
			slices.Sort(wantConvs)
			if convs := contactConversations(t, s, a.ws.ID, survivor); !equalInt64(convs, wantConvs) {
				t.Fatalf("survivor has conversations %v, want %v", convs, wantConvs)
			}
			logged := allEvents(t, s, a.ws.ID, seq, 100)
			if k := kinds(logged); len(k) != len(moved)+1 || k[len(moved)] != store.EventContactMerged {
				t.Fatalf("events %v: want one merge's", k)
			}
		})
	}
}
