package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// wantPolicy fails unless err is a *store.PolicyError with code.
func wantPolicy(t testing.TB, err error, code string) {
	t.Helper()
	var pe *store.PolicyError
	if !errors.As(err, &pe) || pe.Code != code || !errors.Is(err, store.ErrPolicy) {
		t.Fatalf("got error %v, want the policy error %q", err, code)
	}
}

// reply has the fixture's owner write a message of type typ.
func reply(t testing.TB, s store.Store, f fixture, convID int64, typ store.MessageType, body string) (store.CreatedMessage, error) {
	nm := store.NewMessage{
		ConversationID: convID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: f.owner.ID,
		Type: typ, Body: body,
	}
	if typ == store.TypeTemplate {
		nm.Content = []byte(`{"template":{"name":"hello_world","language":"en_US"}}`)
	}
	return s.CreateMessage(ctx(t), f.ws.ID, nm)
}

// testMessagingWindow: replies on WhatsApp, Messenger and Instagram need
// the contact to have written (their windows run from
// Conversation.LastInboundAt); a WhatsApp template and a note do not; SMS
// and the API channel have no window.
func testMessagingWindow(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	if f.conv.LastInboundAt != nil {
		t.Fatalf("a new conversation has last_inbound_at %v", f.conv.LastInboundAt)
	}
	_, err := reply(t, s, f, f.conv.ID, store.TypeText, "Hi!")
	wantPolicy(t, err, store.CodeOutsideWindow)
	if _, err := reply(t, s, f, f.conv.ID, store.TypeTemplate, "[template hello_world]"); err != nil {
		t.Fatalf("a template outside the window: %v", err)
	}
	if _, err := reply(t, s, f, f.conv.ID, store.TypeNote, "waiting for them"); err != nil {
		t.Fatalf("a note outside the window: %v", err)
	}
	in := inbound(t, s, f.ws.ID, f.conv.ID, "Hello?", unique("wamid.w"))
	conv, err := s.Conversation(c, f.ws.ID, f.conv.ID)
	must(t, err)
	if conv.LastInboundAt == nil || !conv.LastInboundAt.Equal(in.Message.CreatedAt) {
		t.Fatalf("last_inbound_at %v, want the inbound message's %v", conv.LastInboundAt, in.Message.CreatedAt)
	}
	out, err := reply(t, s, f, f.conv.ID, store.TypeText, "Hi! How can I help?")
	must(t, err)
	conv, err = s.Conversation(c, f.ws.ID, f.conv.ID)
	must(t, err)
	if !conv.LastInboundAt.Equal(in.Message.CreatedAt) || out.Message.Status != store.DeliveryQueued {
		t.Fatalf("a reply moved last_inbound_at to %v, or was not queued: %+v", conv.LastInboundAt, out.Message)
	}

	for _, kind := range []store.InboxKind{store.InboxMessenger, store.InboxInstagram, store.InboxSMS, store.InboxAPI} {
		inbox, err := s.CreateInbox(c, f.ws.ID, store.NewInbox{Kind: kind, Name: string(kind)})
		must(t, err)
		conv := newConversation(t, s, f.ws.ID, inbox.ID, f.contact.ID)
		_, err = reply(t, s, f, conv.ID, store.TypeText, "Hello from us")
		if store.MessagingWindow(kind) == 0 {
			must(t, err)
			continue
		}
		wantPolicy(t, err, store.CodeOutsideWindow)
		inbound(t, s, f.ws.ID, conv.ID, "hi", unique(string(kind)))
		if _, err := reply(t, s, f, conv.ID, store.TypeText, "Hello from us"); err != nil {
			t.Fatalf("%s reply after the contact wrote: %v", kind, err)
		}
	}
}

// testOptOut: an opted-out contact gets nothing (on any inbox, also a
// retry), can still write in, and is reachable again after opting in;
// every change is a consent record and a contact.updated event.
func testOptOut(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	openWindow(t, s, f.ws.ID, f.conv.ID)
	failed := outbound(t, s, f.ws.ID, f.conv.ID, "queued before STOP")
	e := claimOne(t, s, store.Now())
	_, _, err := s.FailOutbox(c, e, "timeout")
	must(t, err)

	seq := latestSeq(t, s, f.ws.ID)
	got, changed, err := s.SetContactOptOut(c, f.ws.ID, f.contact.ID, store.ConsentChange{OptedOut: true, Channel: "whatsapp", Source: "STOP"})
	must(t, err)
	if !changed || got.OptedOutAt == nil {
		t.Fatalf("opt-out: changed %v contact %+v", changed, got)
	}
	evs, err := s.EventsAfter(c, f.ws.ID, seq, 10)
	must(t, err)
	if k := kinds(evs.Events); len(k) != 1 || k[0] != store.EventContactUpdated || contactPayload(t, evs.Events[0]).Contact.OptedOutAt == nil {
		t.Fatalf("opt-out events %v", k)
	}
	if _, again, err := s.SetContactOptOut(c, f.ws.ID, f.contact.ID, store.ConsentChange{OptedOut: true, Channel: "whatsapp", Source: "STOP"}); err != nil || again {
		t.Fatalf("second STOP: changed %v, %v; want no change", again, err)
	}
	wantNoEvents(t, s, f.ws.ID, latestSeq(t, s, f.ws.ID))

	_, err = reply(t, s, f, f.conv.ID, store.TypeText, "Are you still there?")
	wantPolicy(t, err, store.CodeOptedOut)
	_, err = reply(t, s, f, f.conv.ID, store.TypeTemplate, "[template]")
	wantPolicy(t, err, store.CodeOptedOut)
	_, _, err = s.RequeueMessage(c, f.ws.ID, failed.ID)
	wantPolicy(t, err, store.CodeOptedOut)
	sms, err := s.CreateInbox(c, f.ws.ID, store.NewInbox{Kind: store.InboxSMS, Name: "SMS"})
	must(t, err)
	_, err = reply(t, s, f, newConversation(t, s, f.ws.ID, sms.ID, f.contact.ID).ID, store.TypeText, "on another channel")
	wantPolicy(t, err, store.CodeOptedOut)
	if _, err := reply(t, s, f, f.conv.ID, store.TypeNote, "they sent STOP"); err != nil {
		t.Fatalf("a note about an opted-out contact: %v", err)
	}
	inbound(t, s, f.ws.ID, f.conv.ID, "START", unique("wamid.start"))

	_, _, err = s.SetContactOptOut(c, newFixture(t, s).ws.ID, f.contact.ID, store.ConsentChange{OptedOut: false})
	wantErr(t, err, store.ErrNotFound)
	got, changed, err = s.SetContactOptOut(c, f.ws.ID, f.contact.ID, store.ConsentChange{OptedOut: false, Channel: "whatsapp", Source: "START"})
	must(t, err)
	if !changed || got.OptedOutAt != nil {
		t.Fatalf("opt-in: changed %v contact %+v", changed, got)
	}
	if _, err := reply(t, s, f, f.conv.ID, store.TypeText, "Welcome back"); err != nil {
		t.Fatalf("reply after opting in: %v", err)
	}
	if _, _, err := s.RequeueMessage(c, f.ws.ID, failed.ID); err != nil {
		t.Fatalf("retry after opting in: %v", err)
	}
	recs, err := s.ConsentRecords(c, f.ws.ID, f.contact.ID)
	must(t, err)
	if len(recs) != 2 || recs[0].Kind != store.ConsentOptOut || recs[0].Source != "STOP" || recs[0].Channel != "whatsapp" ||
		recs[1].Kind != store.ConsentOptIn || recs[1].Source != "START" || recs[1].CreatedAt.Before(recs[0].CreatedAt) {
		t.Fatalf("consent records %+v", recs)
	}
	_, err = s.ConsentRecords(c, newFixture(t, s).ws.ID, f.contact.ID)
	wantErr(t, err, store.ErrNotFound)
}

// testSentElsewhere: a message the business sent from another tool (a
// provider's echo) is stored as sent, bypasses the outbox and the
// channel's policy, and is deduplicated by its provider id.
func testSentElsewhere(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	echo := store.NewMessage{
		ConversationID: f.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem,
		Body: "written on the phone", ProviderMessageID: unique("m_echo"), Sent: true,
	}
	got, err := s.CreateMessage(c, f.ws.ID, echo)
	must(t, err)
	if got.Duplicate || got.Message.Status != store.DeliverySent || got.Message.Direction != store.DirectionOut {
		t.Fatalf("echo stored as %+v", got)
	}
	claimNone(t, s, store.Now())
	again, err := s.CreateMessage(c, f.ws.ID, echo)
	must(t, err)
	if !again.Duplicate || again.Message.ID != got.Message.ID {
		t.Fatalf("repeated echo %+v", again)
	}
	echo.ProviderMessageID = ""
	_, err = s.CreateMessage(c, f.ws.ID, echo)
	wantInvalid(t, err, "provider_message_id")
	echo.ProviderMessageID, echo.Direction = unique("m_in"), store.DirectionIn
	_, err = s.CreateMessage(c, f.ws.ID, echo)
	wantInvalid(t, err, "sent")
}

// testOpenConversation: a contact's open conversation in an inbox is
// found, a resolved one is not reused, and concurrent first messages open
// exactly one.
func testOpenConversation(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	got, created, err := s.OpenConversation(c, f.ws.ID, store.NewConversation{InboxID: f.inbox.ID, ContactID: f.contact.ID})
	must(t, err)
	if created || got.ID != f.conv.ID {
		t.Fatalf("open: %d created %v, want the fixture's %d", got.ID, created, f.conv.ID)
	}
	resolved := store.StatusResolved
	_, _, err = s.UpdateConversation(c, f.ws.ID, f.conv.ID, store.ConversationUpdate{Status: &resolved})
	must(t, err)
	fresh, created, err := s.OpenConversation(c, f.ws.ID, store.NewConversation{InboxID: f.inbox.ID, ContactID: f.contact.ID})
	must(t, err)
	if !created || fresh.ID == f.conv.ID || fresh.Status != store.StatusOpen {
		t.Fatalf("after resolving: %+v created %v, want a new open conversation", fresh, created)
	}
	_, _, err = s.OpenConversation(c, newFixture(t, s).ws.ID, store.NewConversation{InboxID: f.inbox.ID, ContactID: f.contact.ID})
	wantErr(t, err, store.ErrNotFound)

	// First messages of new contacts at once, a few rounds of them.
	const rounds, n = 4, 16
	for r := range rounds {
		contact := newContact(t, s, f.ws.ID, fmt.Sprintf("Racing Rita %d", r))
		ids := make(chan int64, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				conv, _, err := s.OpenConversation(c, f.ws.ID, store.NewConversation{InboxID: f.inbox.ID, ContactID: contact.ID})
				if err != nil {
					t.Error(err)
				}
				ids <- conv.ID
			}()
		}
		close(start)
		seen := map[int64]bool{}
		for range n {
			seen[<-ids] = true
		}
		page, err := s.ListConversations(c, f.ws.ID, store.ConversationFilter{ContactID: contact.ID, Limit: 50})
		must(t, err)
		if len(seen) != 1 || len(page.Conversations) != 1 {
			t.Fatalf("round %d: concurrent opens gave conversations %v, %d stored; want one", r, seen, len(page.Conversations))
		}
	}
}

// testMergeKeepsConsent: merging contacts keeps both consent histories on
// the survivor, and the stricter state: opted out of messages, or of AI
// processing, if either contact was.
func testMergeKeepsConsent(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	from := newContact(t, s, f.ws.ID, "Second Carol")
	_, _, err := s.SetContactOptOut(c, f.ws.ID, from.ID, store.ConsentChange{OptedOut: true, Channel: "sms", Source: "STOP"})
	must(t, err)
	_, err = s.SetContactAI(c, f.ws.ID, from.ID, store.AIConsentChange{Enabled: false, Channel: "api", Source: "agent:1"})
	must(t, err)
	_, _, err = s.SetContactOptOut(c, f.ws.ID, f.contact.ID, store.ConsentChange{OptedOut: true, Channel: "whatsapp", Source: "STOP"})
	must(t, err)
	_, _, err = s.SetContactOptOut(c, f.ws.ID, f.contact.ID, store.ConsentChange{OptedOut: false, Channel: "whatsapp", Source: "START"})
	must(t, err)

	merged, _, err := s.MergeContacts(c, f.ws.ID, f.contact.ID, from.ID)
	must(t, err)
	if merged.OptedOutAt == nil {
		t.Fatal("the survivor accepts messages, but the merged contact had opted out")
	}
	off, err := s.ContactAIOffAt(c, f.ws.ID, f.contact.ID)
	must(t, err)
	if off == nil {
		t.Fatal("the survivor's AI is on, but the merged contact had turned it off")
	}
	recs, err := s.ConsentRecords(c, f.ws.ID, f.contact.ID)
	must(t, err)
	var sources []string
	for _, r := range recs {
		sources = append(sources, r.Kind+":"+r.Source)
	}
	if len(recs) != 4 {
		t.Fatalf("consent records after the merge: %v, want both contacts' four", sources)
	}
}
