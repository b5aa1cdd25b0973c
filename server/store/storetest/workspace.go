package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
)

func testSchemaVersion(t *testing.T, s store.Store) {
	current, latest, err := s.SchemaVersion(ctx(t))
	must(t, err)
	if current <= 0 || current != latest {
		t.Fatalf("schema version %d, latest %d: want migrated to latest", current, latest)
	}
	must(t, s.Ping(ctx(t)))
}

func testWorkspaces(t *testing.T, s store.Store) {
	c := ctx(t)
	ws, owner, err := s.CreateWorkspace(c, store.NewWorkspace{Name: " Acme ", OwnerEmail: "boss@acme.test", OwnerName: "Boss"})
	must(t, err)
	if ws.ID == 0 || ws.Name != "Acme" || ws.AppID == "" || len(ws.AppKey) < 16 || len(ws.AppSecret) < 16 || ws.CreatedAt.IsZero() ||
		!ws.Enabled || !jsonEqual(ws.Settings, []byte(`{}`)) {
		t.Fatalf("workspace %+v: want id, trimmed name and Pusher credentials", ws)
	}
	if owner.ID == 0 || owner.Role != store.RoleOwner || owner.Email != "boss@acme.test" {
		t.Fatalf("owner %+v", owner)
	}
	other, _, err := s.CreateWorkspace(c, store.NewWorkspace{Name: "Other", OwnerEmail: "boss@acme.test"})
	must(t, err)
	if other.AppID == ws.AppID || other.AppKey == ws.AppKey || other.AppSecret == ws.AppSecret {
		t.Fatal("two workspaces share Pusher credentials")
	}

	for _, tc := range []struct {
		name string
		get  func() (store.Workspace, error)
	}{
		{"by id", func() (store.Workspace, error) { return s.Workspace(c, ws.ID) }},
		{"by app key", func() (store.Workspace, error) { return s.WorkspaceByAppKey(c, ws.AppKey) }},
		{"by app id", func() (store.Workspace, error) { return s.WorkspaceByAppID(c, ws.AppID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			must(t, err)
			if !reflect.DeepEqual(got, ws) {
				t.Fatalf("got %+v, want %+v", got, ws)
			}
		})
	}

	t.Run("unknown", func(t *testing.T) {
		_, err := s.Workspace(c, ws.ID+1000)
		wantErr(t, err, store.ErrNotFound)
		_, err = s.WorkspaceByAppKey(c, "nope")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.WorkspaceByAppID(c, "nope")
		wantErr(t, err, store.ErrNotFound)
	})

	for _, tc := range []struct {
		name  string
		in    store.NewWorkspace
		field string
	}{
		{"empty name", store.NewWorkspace{Name: " ", OwnerEmail: "a@b.test"}, "name"},
		{"bad email", store.NewWorkspace{Name: "x", OwnerEmail: "not-an-email"}, "owner_email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CreateWorkspace(c, tc.in)
			wantInvalid(t, err, tc.field)
		})
	}
}

func testAgents(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)

	agent, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: "ann@example.com", Name: "Ann", Role: store.RoleAgent})
	must(t, err)
	got, err := s.Agent(c, a.ws.ID, agent.ID)
	must(t, err)
	if got != agent || got.Role != store.RoleAgent {
		t.Fatalf("got %+v, want %+v", got, agent)
	}

	_, err = s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: "ANN@example.com", Role: store.RoleAdmin})
	wantErr(t, err, store.ErrConflict)

	// The same person joins another workspace: one agent, two memberships,
	// a role in each.
	inB, err := s.CreateAgent(c, b.ws.ID, store.NewAgent{Email: "ann@example.com", Role: store.RoleAdmin})
	must(t, err)
	if inB.ID != agent.ID || inB.Role != store.RoleAdmin {
		t.Fatalf("agent in B %+v: want id %d, role admin", inB, agent.ID)
	}

	_, err = s.Agent(c, b.ws.ID, a.owner.ID)
	wantErr(t, err, store.ErrNotFound)

	list, err := s.ListAgents(c, a.ws.ID)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("%d agents in A, want 2 (owner and Ann)", len(list))
	}

	_, err = s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: "x@example.com", Role: "god"})
	wantInvalid(t, err, "role")
}

func testAPITokens(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	agent, err := s.CreateAgent(c, a.ws.ID, store.NewAgent{Email: unique("tok") + "@example.com", Role: store.RoleAgent})
	must(t, err)

	if _, _, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: a.owner.ID, Name: "bad", Role: "god"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("token with an unknown role: %v, want ErrInvalid", err)
	}
	tok, plain, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: a.owner.ID, Name: "ci"})
	must(t, err)
	if tok.Role != store.RoleOwner || len(plain) < 40 || plain[:len(store.TokenPrefix)] != store.TokenPrefix {
		t.Fatalf("token %+v plaintext %q", tok, plain)
	}
	p, err := s.AuthenticateToken(c, plain)
	must(t, err)
	if p.Workspace.ID != a.ws.ID || p.Agent.ID != a.owner.ID || p.Role != store.RoleOwner || p.TokenID != tok.ID {
		t.Fatalf("principal %+v", p)
	}

	// An agent asking for an owner token gets an agent token.
	weak, weakPlain, err := s.CreateAPIToken(c, a.ws.ID, store.NewAPIToken{AgentID: agent.ID, Role: store.RoleOwner})
	must(t, err)
	if weak.Role != store.RoleAgent {
		t.Fatalf("token role %q, want capped at agent", weak.Role)
	}
	p, err = s.AuthenticateToken(c, weakPlain)
	must(t, err)
	if p.Role != store.RoleAgent {
		t.Fatalf("principal role %q, want agent", p.Role)
	}

	for _, bad := range []string{"", "sbt_", "sbt_wrong", plain + "x", "Bearer " + plain} {
		_, err := s.AuthenticateToken(c, bad)
		wantErr(t, err, store.ErrUnauthenticated)
	}

	// Tokens cannot be minted for, or revoked by, another workspace.
	_, _, err = s.CreateAPIToken(c, b.ws.ID, store.NewAPIToken{AgentID: a.owner.ID})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.RevokeAPIToken(c, b.ws.ID, tok.ID, store.Actor{})
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.AuthenticateToken(c, plain); err != nil {
		t.Fatalf("token stopped working after a foreign revoke: %v", err)
	}

	for range 2 { // revoking twice is fine
		_, err = s.RevokeAPIToken(c, a.ws.ID, tok.ID, store.Actor{})
		must(t, err)
	}
	_, err = s.AuthenticateToken(c, plain)
	wantErr(t, err, store.ErrUnauthenticated)
}

func testInboxes(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newFixture(t, s)
	b := newFixture(t, s)
	in, err := s.CreateInbox(c, a.ws.ID, store.NewInbox{
		Kind: store.InboxAPI, Name: "Website", Settings: []byte(`{"webhook_url":"https://example.com/hook"}`), Credentials: []byte{1, 2, 3},
	})
	must(t, err)
	got, err := s.Inbox(c, a.ws.ID, in.ID)
	must(t, err)
	if got.Kind != store.InboxAPI || got.Name != "Website" || string(got.Credentials) != "\x01\x02\x03" || !jsonEqual(got.Settings, in.Settings) {
		t.Fatalf("got %+v, want %+v", got, in)
	}
	_, err = s.Inbox(c, b.ws.ID, in.ID)
	wantErr(t, err, store.ErrNotFound)

	list, err := s.ListInboxes(c, a.ws.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != a.inbox.ID || list[1].ID != in.ID {
		t.Fatalf("list %+v, want the fixture's inbox then %d", list, in.ID)
	}
	renamed, err := s.RenameInbox(c, a.ws.ID, in.ID, "  Web chat ")
	must(t, err)
	if renamed.Name != "Web chat" || string(renamed.Credentials) != "\x01\x02\x03" {
		t.Fatalf("renamed %+v", renamed)
	}
	_, err = s.RenameInbox(c, a.ws.ID, in.ID, " ")
	wantInvalid(t, err, "name")
	_, err = s.RenameInbox(c, b.ws.ID, in.ID, "stolen")
	wantErr(t, err, store.ErrNotFound)
	if list, err = s.ListInboxes(c, b.ws.ID); err != nil || len(list) != 1 || list[0].ID != b.inbox.ID {
		t.Fatalf("B's inboxes %+v %v", list, err)
	}

	for _, tc := range []struct {
		name  string
		in    store.NewInbox
		field string
	}{
		{"unknown kind", store.NewInbox{Kind: "telegram", Name: "x"}, "kind"},
		{"no name", store.NewInbox{Kind: store.InboxSMS}, "name"},
		{"settings not an object", store.NewInbox{Kind: store.InboxSMS, Name: "x", Settings: []byte(`[1]`)}, "settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateInbox(c, a.ws.ID, tc.in)
			wantInvalid(t, err, tc.field)
		})
	}
}
