package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// testAccounts checks sign-in's view of agents: found by email whatever
// its case, created when new, the Google account linked once and for
// good, and listed with their workspaces.
func testAccounts(t *testing.T, s store.Store) {
	c := ctx(t)
	email := unique("ada") + "@example.com"
	a, err := s.UpsertAccount(c, store.NewAccount{Email: " " + email + " ", Name: "Ada", AvatarURL: "https://img.example/a.png", GoogleSub: "sub-1"})
	must(t, err)
	if a.ID == 0 || a.Email != email || a.Name != "Ada" || a.AvatarURL != "https://img.example/a.png" || a.GoogleSub != "sub-1" || a.SessionEpoch != 0 || a.CreatedAt.IsZero() {
		t.Fatalf("new account %+v", a)
	}
	got, err := s.Account(c, a.ID)
	must(t, err)
	if got != a {
		t.Fatalf("Account = %+v, want %+v", got, a)
	}

	// Again, by the email in another case: the same agent; the name stays,
	// the avatar follows Google, an empty avatar keeps the old one.
	again, err := s.UpsertAccount(c, store.NewAccount{Email: "ADA" + email[3:], Name: "Ada L.", AvatarURL: "https://img.example/b.png", GoogleSub: "sub-1"})
	must(t, err)
	if again.ID != a.ID || again.Name != "Ada" || again.AvatarURL != "https://img.example/b.png" {
		t.Fatalf("second sign-in %+v", again)
	}
	again, err = s.UpsertAccount(c, store.NewAccount{Email: email})
	must(t, err)
	if again.ID != a.ID || again.AvatarURL != "https://img.example/b.png" || again.GoogleSub != "sub-1" {
		t.Fatalf("sign-in without Google %+v", again)
	}

	// Another Google account at the same email, or the same Google account
	// at another email, is a conflict.
	_, err = s.UpsertAccount(c, store.NewAccount{Email: email, GoogleSub: "sub-2"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.UpsertAccount(c, store.NewAccount{Email: unique("other") + "@example.com", GoogleSub: "sub-1"})
	wantErr(t, err, store.ErrConflict)
	_, err = s.UpsertAccount(c, store.NewAccount{Email: "nope"})
	wantInvalid(t, err, "email")

	// An agent created by a workspace without a name gets one, and the
	// Google account links on its first Google sign-in.
	f := newFixture(t, s)
	invited, err := s.CreateAgent(c, f.ws.ID, store.NewAgent{Email: unique("bo") + "@example.com", Role: store.RoleAgent})
	must(t, err)
	linked, err := s.UpsertAccount(c, store.NewAccount{Email: invited.Email, Name: "Bo", GoogleSub: unique("sub")})
	must(t, err)
	if linked.ID != invited.ID || linked.Name != "Bo" || linked.GoogleSub == "" {
		t.Fatalf("invited agent's first sign-in %+v", linked)
	}

	// Workspaces, oldest membership first, with the role in each.
	second, _, err := s.CreateWorkspace(c, store.NewWorkspace{Name: "Second", OwnerEmail: invited.Email})
	must(t, err)
	must(t, s.SetRequiredDomain(c, second.ID, " Example.COM "))
	wss, err := s.AccountWorkspaces(c, invited.ID)
	must(t, err)
	if len(wss) != 2 || wss[0].Workspace.ID != f.ws.ID || wss[0].Role != store.RoleAgent || wss[0].RequiredDomain != "" ||
		wss[1].Workspace.ID != second.ID || wss[1].Role != store.RoleOwner || wss[1].RequiredDomain != "example.com" ||
		wss[1].Workspace.AppKey != second.AppKey {
		t.Fatalf("workspaces %+v", wss)
	}
	if !wss[1].Admits("EXAMPLE.com") || wss[1].Admits("") || wss[1].Admits("other.com") || !wss[0].Admits("") {
		t.Fatal("Admits disagrees with the required domain")
	}
	if wss, err := s.AccountWorkspaces(c, a.ID); err != nil || len(wss) != 0 {
		t.Fatalf("workspaces of an agent without any: %+v, %v", wss, err)
	}

	must(t, s.SetRequiredDomain(c, second.ID, ""))
	wantInvalid(t, s.SetRequiredDomain(c, second.ID, "not a domain"), "required_domain")
	wantErr(t, s.SetRequiredDomain(c, second.ID+1000, "example.com"), store.ErrNotFound)
	_, err = s.Account(c, a.ID+1000)
	wantErr(t, err, store.ErrNotFound)
}

// testSessionPrincipal checks a session resolves to its agent in its
// workspace, with the membership's role, and not once its epoch is
// stale, its membership gone or its workspace requires another domain.
func testSessionPrincipal(t *testing.T, s store.Store) {
	c := ctx(t)
	f := newFixture(t, s)
	other := newFixture(t, s)
	agent, err := s.CreateAgent(c, f.ws.ID, store.NewAgent{Email: unique("al") + "@example.com", Name: "Al", Role: store.RoleAdmin})
	must(t, err)
	ref := store.SessionRef{AgentID: agent.ID, WorkspaceID: f.ws.ID, HostedDomain: "example.com"}

	p, err := s.SessionPrincipal(c, ref)
	must(t, err)
	if p.Workspace.ID != f.ws.ID || p.Workspace.AppSecret != f.ws.AppSecret || p.Agent.ID != agent.ID || p.Agent.Email != agent.Email || p.Role != store.RoleAdmin || p.TokenID != 0 {
		t.Fatalf("principal %+v", p)
	}

	for _, bad := range []store.SessionRef{
		{AgentID: agent.ID, WorkspaceID: other.ws.ID, HostedDomain: "example.com"},
		{AgentID: agent.ID, WorkspaceID: f.ws.ID, Epoch: 1, HostedDomain: "example.com"},
		{AgentID: agent.ID + 1000, WorkspaceID: f.ws.ID},
	} {
		_, err := s.SessionPrincipal(c, bad)
		wantErr(t, err, store.ErrUnauthenticated)
	}

	must(t, s.SetRequiredDomain(c, f.ws.ID, "example.com"))
	_, err = s.SessionPrincipal(c, store.SessionRef{AgentID: agent.ID, WorkspaceID: f.ws.ID, HostedDomain: "other.com"})
	wantErr(t, err, store.ErrUnauthenticated)
	_, err = s.SessionPrincipal(c, store.SessionRef{AgentID: agent.ID, WorkspaceID: f.ws.ID, HostedDomain: "Example.com"})
	must(t, err)

	epoch, err := s.RevokeSessions(c, agent.ID)
	must(t, err)
	if epoch != 1 {
		t.Fatalf("epoch %d after the first revocation, want 1", epoch)
	}
	_, err = s.SessionPrincipal(c, ref)
	wantErr(t, err, store.ErrUnauthenticated)
	ref.Epoch = epoch
	_, err = s.SessionPrincipal(c, ref)
	must(t, err)
	// Another agent's sessions are untouched.
	if acct, err := s.Account(c, f.owner.ID); err != nil || acct.SessionEpoch != 0 {
		t.Fatalf("the owner's epoch: %+v, %v", acct, err)
	}
	_, err = s.RevokeSessions(c, agent.ID+1000)
	wantErr(t, err, store.ErrNotFound)
}

// testSessions checks the scs session store: a session is found until it
// expires or is deleted, and a deleted one stays deleted even when
// committed again (a request in flight during sign-out).
func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	now := time.Now()
	live, gone, expired := unique("live"), unique("gone"), unique("expired")

	if _, found, err := s.FindSession(c, live); err != nil || found {
		t.Fatalf("unknown session: found %v, %v", found, err)
	}
	must(t, s.CommitSession(c, live, []byte("one"), now.Add(time.Hour)))
	must(t, s.CommitSession(c, live, []byte("two"), now.Add(2*time.Hour)))
	data, found, err := s.FindSession(c, live)
	must(t, err)
	if !found || !bytes.Equal(data, []byte("two")) {
		t.Fatalf("live session: %q, found %v", data, found)
	}
	must(t, s.CommitSession(c, unique("empty"), nil, now.Add(time.Hour)))

	must(t, s.CommitSession(c, gone, []byte("x"), now.Add(time.Hour)))
	must(t, s.DeleteSession(c, gone))
	must(t, s.DeleteSession(c, gone))
	must(t, s.DeleteSession(c, unique("never")))
	must(t, s.CommitSession(c, gone, []byte("back"), now.Add(time.Hour)))
	if _, found, err := s.FindSession(c, gone); err != nil || found {
		t.Fatalf("deleted session came back: found %v, %v", found, err)
	}

	must(t, s.CommitSession(c, expired, []byte("x"), now.Add(-time.Second)))
	if _, found, err := s.FindSession(c, expired); err != nil || found {
		t.Fatalf("expired session: found %v, %v", found, err)
	}
	n, err := s.DeleteExpiredSessions(c, now)
	must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d expired sessions, want 1", n)
	}
	if _, found, _ := s.FindSession(c, live); !found {
		t.Fatal("the sweep deleted a live session")
	}
	// Past every expiry, the tombstone goes too, and the token is free.
	n, err = s.DeleteExpiredSessions(c, now.Add(3*time.Hour))
	must(t, err)
	if n != 3 {
		t.Fatalf("deleted %d sessions at the end, want 3 (live, empty, tombstone)", n)
	}
	must(t, s.CommitSession(c, gone, []byte("new"), now.Add(time.Hour)))
	if _, found, _ := s.FindSession(c, gone); !found {
		t.Fatal("a swept token cannot be used again")
	}
}
