package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testMessages(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	agent, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("m") + "@example.com", Role: store.RoleAgent})
	must(t, err)

	in := inbound(t, s, a.ws.ID, a.conv.ID, "Where is my order?", "wamid.1")
	if in.Duplicate || in.Message.Status != store.DeliveryReceived || in.Message.InboxID != a.inbox.ID ||
		in.Message.AuthorKind != store.AuthorContact || len(in.Events) != 1 {
		t.Fatalf("inbound %+v", in)
	}
	ev := in.Events[0]
	var p store.MessagePayload
	must(t, json.Unmarshal(ev.Payload, &p))
	if ev.Kind != store.EventMessageCreated || p.Message.ID != in.Message.ID || p.Message.Body != "Where is my order?" {
		t.Fatalf("event %+v", ev)
	}
	conv, err := s.Conversation(c, a.ws.ID, a.conv.ID)
	must(t, err)
	if conv.LastActivityAt.Before(in.Message.CreatedAt) || !p.Conversation.LastActivityAt.Equal(conv.LastActivityAt) {
		t.Fatalf("last activity %v, message at %v", conv.LastActivityAt, in.Message.CreatedAt)
	}

	out, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
		ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: agent.ID,
		Body: "On its way", AIAssisted: true, IdempotencyKey: "k1",
	})
	must(t, err)
	if out.Message.Status != store.DeliveryQueued || !out.Message.AIAssisted || out.Message.AuthorAgentID != agent.ID {
		t.Fatalf("outbound %+v", out.Message)
	}

	note, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
		ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: a.owner.ID,
		Type: store.TypeNote, Body: "@agent can you check?", Mentions: []int64{agent.ID},
	})
	must(t, err)
	if note.Events[0].Kind != store.EventNoteCreated || !slices.Equal(note.Message.Mentions, []int64{agent.ID}) ||
		note.Message.Status != store.DeliverySent {
		t.Fatalf("note %+v events %+v", note.Message, note.Events)
	}

	got, err := s.Message(c, a.ws.ID, out.Message.ID)
	must(t, err)
	if got.Body != "On its way" || got.IdempotencyKey != "k1" || !got.CreatedAt.Equal(out.Message.CreatedAt) {
		t.Fatalf("got %+v", got)
	}

	list, err := s.ListMessages(c, a.ws.ID, a.conv.ID, store.MessageFilter{})
	must(t, err)
	if len(list) != 3 || list[0].ID != note.Message.ID || list[2].ID != in.Message.ID {
		t.Fatalf("list %d messages, want note first and inbound last", len(list))
	}
	older, err := s.ListMessages(c, a.ws.ID, a.conv.ID, store.MessageFilter{BeforeID: out.Message.ID, Limit: 5})
	must(t, err)
	if len(older) != 1 || older[0].ID != in.Message.ID {
		t.Fatalf("before %d: %+v", out.Message.ID, older)
	}

	b := newFixture(t, s)
	for _, tc := range []struct {
		name  string
		m     store.NewMessage
		field string
	}{
		{"no direction", store.NewMessage{ConversationID: a.conv.ID, Body: "x"}, "direction"},
		{"empty text", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionIn, Body: "  "}, "body"},
		{"inbound note", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionIn, Type: store.TypeNote, Body: "x"}, "author_kind"},
		{"agent without id", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, Body: "x"}, "author_agent_id"},
		{"note by ai", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAI, Type: store.TypeNote, Body: "x"}, "author_kind"},
		{"mention outside a note", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "x", Mentions: []int64{agent.ID}}, "mentions"},
		{"author from another workspace", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: b.owner.ID, Body: "x"}, "author_agent_id"},
		{"mention from another workspace", store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: a.owner.ID, Type: store.TypeNote, Body: "x", Mentions: []int64{b.owner.ID}}, "mentions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateMessage(c, a.ws.ID, tc.m)
			wantInvalid(t, err, tc.field)
		})
	}
	after, err := s.ListMessages(c, a.ws.ID, a.conv.ID, store.MessageFilter{})
	must(t, err)
	if len(after) != 3 {
		t.Fatalf("%d messages after refused writes, want 3", len(after))
	}
}

func testInboundDedup(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	first := inbound(t, s, a.ws.ID, a.conv.ID, "hi", "wamid.ABC")
	before, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)

	// The provider retries the webhook: same id, maybe even another body.
	again := inbound(t, s, a.ws.ID, a.conv.ID, "hi (retry)", "wamid.ABC")
	if !again.Duplicate || again.Message.ID != first.Message.ID || again.Message.Body != "hi" || len(again.Events) != 0 {
		t.Fatalf("retry: %+v, want the first message flagged duplicate", again)
	}
	after, err := s.EventsAfter(c, a.ws.ID, 0, 1)
	must(t, err)
	if after.LatestSeq != before.LatestSeq {
		t.Fatal("a duplicate appended an event")
	}
	list, err := s.ListMessages(c, a.ws.ID, a.conv.ID, store.MessageFilter{})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("%d messages, want 1", len(list))
	}

	// The same provider id in another inbox is another message.
	inbox2, err := s.CreateInbox(c, a.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Second number"})
	must(t, err)
	conv2 := newConversation(t, s, a.ws.ID, inbox2.ID, a.contact.ID)
	other := inbound(t, s, a.ws.ID, conv2.ID, "hi", "wamid.ABC")
	if other.Duplicate || other.Message.ID == first.Message.ID {
		t.Fatal("provider ids collided across inboxes")
	}
}

func testIdempotencyKey(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	openWindow(t, s, a.ws.ID, a.conv.ID)
	send := func(body string) store.CreatedMessage {
		m, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
			ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent,
			AuthorAgentID: a.owner.ID, Body: body, IdempotencyKey: "send-42",
		})
		must(t, err)
		return m
	}
	first := send("Your refund is processed")
	retry := send("Your refund is processed")
	if first.Duplicate || !retry.Duplicate || retry.Message.ID != first.Message.ID {
		t.Fatalf("first %+v retry %+v", first.Message, retry.Message)
	}
	list, err := s.ListMessages(c, a.ws.ID, a.conv.ID, store.MessageFilter{})
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d messages, want the contact's and one reply", len(list))
	}
	// Keys are per workspace: B may use the same one.
	b := newFixture(t, s)
	openWindow(t, s, b.ws.ID, b.conv.ID)
	m, err := s.CreateMessage(c, b.ws.ID, store.NewMessage{
		ConversationID: b.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "x", IdempotencyKey: "send-42",
	})
	must(t, err)
	if m.Duplicate {
		t.Fatal("idempotency key collided across workspaces")
	}
}

func testMessageStatus(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	openWindow(t, s, a.ws.ID, a.conv.ID)
	out, err := s.CreateMessage(c, a.ws.ID, store.NewMessage{
		ConversationID: a.conv.ID, Direction: store.DirectionOut, AuthorKind: store.AuthorSystem, Body: "ping",
	})
	must(t, err)
	m, ev, err := s.UpdateMessageStatus(c, a.ws.ID, out.Message.ID, store.DeliveryFailed, "131047: re-engagement window closed")
	must(t, err)
	if m.Status != store.DeliveryFailed || m.Error == "" || ev.Kind != store.EventMessageUpdated {
		t.Fatalf("message %+v event %+v", m, ev)
	}
	_, _, err = s.UpdateMessageStatus(c, a.ws.ID, out.Message.ID, "lost", "")
	wantInvalid(t, err, "status")
	_, _, err = s.UpdateMessageStatus(c, b.ws.ID, out.Message.ID, store.DeliveryRead, "")
	wantErr(t, err, store.ErrNotFound)
}
