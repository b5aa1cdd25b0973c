package storetest

import (
	"bytes"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testChannelInbox covers what a connector needs of an inbox: replacing
// its settings and sealed credentials, finding it from a webhook URL, and
// finding messages by their provider id, all still scoped by workspace.
func testChannelInbox(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)

	sealed := []byte{0, 1, 2, 0xff}
	in, err := s.ConfigureInbox(c, a.ws.ID, a.inbox.ID, []byte(`{"phone_number_id":"1065"}`), sealed)
	must(t, err)
	if !bytes.Equal(in.Credentials, sealed) || !jsonEqual(in.Settings, []byte(`{"phone_number_id":"1065"}`)) {
		t.Fatalf("configured inbox %+v", in)
	}
	got, err := s.WebhookInbox(c, a.inbox.ID)
	must(t, err)
	if got.WorkspaceID != a.ws.ID || !bytes.Equal(got.Credentials, sealed) {
		t.Fatalf("WebhookInbox = %+v, want workspace %d with the credentials", got, a.ws.ID)
	}
	_, err = s.WebhookInbox(c, 1<<40)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ConfigureInbox(c, b.ws.ID, a.inbox.ID, nil, sealed)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.ConfigureInbox(c, a.ws.ID, a.inbox.ID, []byte(`"x"`), sealed)
	wantErr(t, err, store.ErrInvalid)

	m := inbound(t, s, a.ws.ID, a.conv.ID, "hello", "wamid.1")
	found, err := s.MessageByProviderID(c, a.ws.ID, a.inbox.ID, "wamid.1")
	must(t, err)
	if found.ID != m.Message.ID {
		t.Fatalf("MessageByProviderID = %d, want %d", found.ID, m.Message.ID)
	}
	_, err = s.MessageByProviderID(c, b.ws.ID, a.inbox.ID, "wamid.1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.MessageByProviderID(c, a.ws.ID, a.inbox.ID, "wamid.2")
	wantErr(t, err, store.ErrNotFound)
}

func testDeadLetters(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	raw := []byte(`{"object":"whatsapp_business_account","entry":[`)
	d, err := s.CreateDeadLetter(c, a.ws.ID, store.NewDeadLetter{InboxID: a.inbox.ID, Provider: "whatsapp", Body: raw, Error: "unexpected end of JSON input"})
	must(t, err)
	if d.ID == 0 || d.WorkspaceID != a.ws.ID || d.ReceivedAt.IsZero() {
		t.Fatalf("dead letter %+v", d)
	}
	_, err = s.CreateDeadLetter(c, a.ws.ID, store.NewDeadLetter{InboxID: a.inbox.ID, Provider: "whatsapp", Body: []byte{}, Error: "second"})
	must(t, err)
	list, err := s.ListDeadLetters(c, a.ws.ID, 10)
	must(t, err)
	if len(list) != 2 || list[0].Error != "second" || !bytes.Equal(list[1].Body, raw) || list[1].Provider != "whatsapp" || !list[1].ReceivedAt.Equal(d.ReceivedAt) {
		t.Fatalf("ListDeadLetters = %+v", list)
	}
	// Another workspace neither sees them nor can file one against a's inbox.
	other, err := s.ListDeadLetters(c, b.ws.ID, 10)
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("workspace b sees %d dead letters", len(other))
	}
	_, err = s.CreateDeadLetter(c, b.ws.ID, store.NewDeadLetter{InboxID: a.inbox.ID, Provider: "whatsapp", Body: raw})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateDeadLetter(c, a.ws.ID, store.NewDeadLetter{InboxID: a.inbox.ID, Body: raw})
	wantErr(t, err, store.ErrInvalid)
}
