package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []store.Cursor{
		{LastActivityAt: time.Date(2026, 11, 23, 12, 0, 0, 123456000, time.UTC), ID: 42},
		{LastActivityAt: time.UnixMicro(0).UTC(), ID: 1},
		{LastActivityAt: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), ID: 1 << 62},
	} {
		got, err := store.DecodeCursor(c.Encode())
		if err != nil || !got.LastActivityAt.Equal(c.LastActivityAt) || got.ID != c.ID {
			t.Fatalf("round trip %+v: got %+v, %v", c, got, err)
		}
	}
}

func TestDecodeCursorRejects(t *testing.T) {
	for _, s := range []string{"", "!!", "bm9wZQ", "MTIzNA", "MTIzLjA", "YS5i", "MTIzLi01"} {
		if _, err := store.DecodeCursor(s); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestConversationUpdateApply(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	later := now.Add(time.Hour)
	status := func(s store.Status) *store.Status { return &s }
	for _, tc := range []struct {
		name   string
		start  store.Conversation
		u      store.ConversationUpdate
		status store.Status
		snooze *time.Time
		field  string
	}{
		{"snooze by time alone", store.Conversation{Status: store.StatusOpen}, store.ConversationUpdate{SnoozedUntil: &later}, store.StatusSnoozed, &later, ""},
		{"snoozed keeps its end", store.Conversation{Status: store.StatusSnoozed, SnoozedUntil: &later}, store.ConversationUpdate{Status: status(store.StatusSnoozed)}, store.StatusSnoozed, &later, ""},
		{"reopen clears snooze", store.Conversation{Status: store.StatusSnoozed, SnoozedUntil: &later}, store.ConversationUpdate{Status: status(store.StatusOpen)}, store.StatusOpen, nil, ""},
		{"snooze end with open", store.Conversation{}, store.ConversationUpdate{Status: status(store.StatusOpen), SnoozedUntil: &later}, "", nil, "snoozed_until"},
		{"snooze to now", store.Conversation{}, store.ConversationUpdate{SnoozedUntil: &now}, "", nil, "snoozed_until"},
		{"bad status", store.Conversation{}, store.ConversationUpdate{Status: status("x")}, "", nil, "status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.start
			err := tc.u.Apply(&c, now)
			if tc.field != "" {
				var ve *store.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("got %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != tc.status || (c.SnoozedUntil == nil) != (tc.snooze == nil) ||
				(c.SnoozedUntil != nil && !c.SnoozedUntil.Equal(*tc.snooze)) {
				t.Fatalf("got status %s snooze %v", c.Status, c.SnoozedUntil)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	for _, tc := range []struct{ a, b, weaker store.Role }{
		{store.RoleOwner, store.RoleAgent, store.RoleAgent},
		{store.RoleAdmin, store.RoleOwner, store.RoleAdmin},
		{store.RoleAgent, store.RoleAgent, store.RoleAgent},
	} {
		if got := store.Weaker(tc.a, tc.b); got != tc.weaker {
			t.Errorf("Weaker(%s, %s) = %s, want %s", tc.a, tc.b, got, tc.weaker)
		}
	}
	if !store.RoleOwner.AtLeast(store.RoleAdmin) || store.RoleAgent.AtLeast(store.RoleAdmin) {
		t.Error("AtLeast ordering wrong")
	}
}

func TestTokens(t *testing.T) {
	a, ha, err := store.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := store.GenerateToken()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || !strings.HasPrefix(a, store.TokenPrefix) || len(ha) != 32 {
		t.Fatalf("tokens %q %q hash %x", a, b, ha)
	}
	if string(store.HashToken(a)) != string(ha) || string(store.HashToken(" "+a+"\n")) != string(ha) {
		t.Fatal("HashToken disagrees with GenerateToken")
	}
}

func TestAppCredentials(t *testing.T) {
	id, key, secret, err := store.NewAppCredentials()
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 10 || len(key) != 20 || len(secret) != 32 || key == secret {
		t.Fatalf("id %q key %q secret %q", id, key, secret)
	}
}

func TestNewMessageNormalize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      store.NewMessage
		status store.DeliveryStatus
		field  string
	}{
		{"inbound", store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Body: "hi"}, store.DeliveryReceived, ""},
		{"inbound media without body", store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Type: store.TypeMedia}, store.DeliveryReceived, ""},
		{"ai reply", store.NewMessage{ConversationID: 1, Direction: store.DirectionOut, AuthorKind: store.AuthorAI, Body: "hi"}, store.DeliveryQueued, ""},
		{"note", store.NewMessage{ConversationID: 1, Direction: store.DirectionOut, AuthorKind: store.AuthorAgent, AuthorAgentID: 1, Type: store.TypeNote, Body: "n"}, store.DeliverySent, ""},
		{"huge body", store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Body: strings.Repeat("x", store.MaxBodyBytes+1)}, "", "body"},
		{"content not object", store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, Body: "x", Content: []byte(`1`)}, "", "content"},
		{"inbound by agent", store.NewMessage{ConversationID: 1, Direction: store.DirectionIn, AuthorKind: store.AuthorAgent, Body: "x"}, "", "author_kind"},
		{"no conversation", store.NewMessage{Direction: store.DirectionIn, Body: "x"}, "", "conversation_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, err := tc.m.Normalize()
			if tc.field != "" {
				var ve *store.ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("got %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil || status != tc.status {
				t.Fatalf("got %s, %v; want %s", status, err, tc.status)
			}
		})
	}
}

func TestCheckOutboundWindows(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { at := now.Add(-d); return &at }
	cases := []struct {
		kind        store.InboxKind
		typ         store.MessageType
		optedOut    *time.Time
		lastInbound *time.Time
		want        string
	}{
		{store.InboxWhatsApp, store.TypeText, nil, ago(24 * time.Hour), ""},
		{store.InboxWhatsApp, store.TypeText, nil, ago(24*time.Hour + time.Microsecond), store.CodeOutsideWindow},
		{store.InboxWhatsApp, store.TypeMedia, nil, nil, store.CodeOutsideWindow},
		{store.InboxWhatsApp, store.TypeTemplate, nil, nil, ""},
		{store.InboxWhatsApp, store.TypeTemplate, ago(time.Hour), ago(time.Minute), store.CodeOptedOut},
		{store.InboxMessenger, store.TypeText, nil, ago(7 * 24 * time.Hour), ""},
		{store.InboxMessenger, store.TypeText, nil, ago(7*24*time.Hour + time.Second), store.CodeOutsideWindow},
		{store.InboxInstagram, store.TypeTemplate, nil, ago(8 * 24 * time.Hour), store.CodeUnsupported},
		{store.InboxSMS, store.TypeTemplate, nil, ago(time.Hour), store.CodeUnsupported},
		{store.InboxSMS, store.TypeText, nil, nil, ""},
		{store.InboxSMS, store.TypeText, ago(time.Hour), nil, store.CodeOptedOut},
		{store.InboxAPI, store.TypeText, nil, ago(400 * 24 * time.Hour), ""},
		// A clock behind the database's: a reply a moment "before" the
		// contact wrote is inside the window.
		{store.InboxWhatsApp, store.TypeText, nil, ago(-time.Second), ""},
	}
	for i, c := range cases {
		err := store.CheckOutbound(c.kind, c.typ, c.optedOut, c.lastInbound, now)
		var pe *store.PolicyError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%d %s %s: %v, want allowed", i, c.kind, c.typ, err)
		case c.want != "" && (!errors.As(err, &pe) || pe.Code != c.want || pe.Message == ""):
			t.Errorf("%d %s %s: %v, want %s", i, c.kind, c.typ, err, c.want)
		}
	}
}
