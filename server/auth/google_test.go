package auth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestGoogleSignIn runs the whole OAuth round trip through goth's Google
// provider against the fake Google: the redirect with state, consent, the
// code exchange, the profile, and a first sign-in that creates the agent
// and their workspace.
func TestGoogleSignIn(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		ts := newServer(t, st, nil)
		g := ts.google
		g.person("110248495921238986420", "ada@example.com", "Ada Lovelace", "", true)
		b := newBrowser(t, ts)

		start := b.get(auth.GooglePath)
		if start.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d, want 302", auth.GooglePath, start.StatusCode)
		}
		loc, _ := start.Location()
		q := loc.Query()
		if !strings.HasPrefix(loc.String(), g.srv.URL+"/o/oauth2/auth?") || q.Get("client_id") != clientID ||
			q.Get("redirect_uri") != ts.srv.URL+auth.CallbackPath || q.Get("response_type") != "code" ||
			q.Get("scope") != "openid email profile" || len(q.Get("state")) < 32 ||
			q.Get("access_type") != "online" || q.Get("prompt") != "select_account" {
			t.Fatalf("redirect to %s: want Google's authorization endpoint with client id, callback, scopes and state", loc)
		}
		before := b.cookie()
		if before == "" {
			t.Fatal("no session cookie binds the state to the browser")
		}

		callback := b.follow(start)
		back, _ := callback.Location()
		if back.Query().Get("state") != q.Get("state") || back.Query().Get("code") == "" {
			t.Fatalf("fake Google sent the browser to %s", back)
		}
		done := b.get(back.String())
		if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != "/" {
			t.Fatalf("callback: %d %s, want 303 to /", done.StatusCode, readBody(done))
		}
		if g.hit("token") != 1 || g.hit("userinfo") != 1 {
			t.Fatalf("fake Google saw %d token and %d userinfo requests, want 1 of each", g.hit("token"), g.hit("userinfo"))
		}

		// Session fixation: signing in issued a new token.
		after := b.cookie()
		if after == "" || after == before {
			t.Fatalf("session cookie %q before sign-in, %q after: want a new one", before, after)
		}
		s := b.session()
		if !s.SignedIn || s.Agent == nil || s.Agent.Email != "ada@example.com" || s.Agent.Name != "Ada Lovelace" ||
			s.Agent.AvatarURL != "https://lh3.googleusercontent.com/a/110248495921238986420=s96-c" {
			t.Fatalf("session %+v: want Ada signed in with her Google name and picture", s)
		}
		if s.Workspace == nil || s.Workspace.Name != "Ada Lovelace's workspace" || s.Workspace.Role != "owner" || s.Workspace.AppKey == "" || len(s.Workspaces) != 1 {
			t.Fatalf("session %+v: want a workspace of her own, as owner", s)
		}
		acct, err := st.Account(ctx(t), s.Agent.ID)
		must(t, err)
		if acct.GoogleSub != "110248495921238986420" {
			t.Fatalf("account %+v: want the Google account linked", acct)
		}
		if who := b.whoami(); who == nil || who.WorkspaceID != s.Workspace.ID || who.AgentID != s.Agent.ID || who.Role != "owner" {
			t.Fatalf("principal %+v", who)
		}

		// The same person in another browser: the same agent and
		// workspace, no second workspace.
		other := newBrowser(t, ts)
		if resp := other.googleSignIn(); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second sign-in: %d %s", resp.StatusCode, readBody(resp))
		}
		if s2 := other.session(); s2.Agent == nil || s2.Agent.ID != s.Agent.ID || s2.Workspace.ID != s.Workspace.ID || len(s2.Workspaces) != 1 {
			t.Fatalf("second sign-in: %+v, want the same agent and workspace", s2)
		}

		// The callback cannot be replayed: its state was used up.
		wantError(t, b.get(back.String()), http.StatusBadRequest, "state_mismatch")
	})
}

// TestGoogleSignInRefusals checks every refusal leaves the browser signed
// out.
func TestGoogleSignInRefusals(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		ts := newServer(t, st, nil)
		g := ts.google

		refused := func(t *testing.T, b *browser, resp *http.Response, status int, code string) {
			t.Helper()
			wantError(t, resp, status, code)
			if s := b.session(); s.SignedIn {
				t.Fatalf("signed in after a refusal: %+v", s)
			}
			if b.whoami() != nil {
				t.Fatal("the principal resolves after a refusal")
			}
		}

		t.Run("state from another browser", func(t *testing.T) {
			g.person(unique("sub"), unique("eve")+"@example.com", "Eve", "", true)
			victim, attacker := newBrowser(t, ts), newBrowser(t, ts)
			callback := attacker.googleStart()
			// The attacker's callback, delivered to the victim.
			refused(t, victim, victim.get(callback), http.StatusBadRequest, "state_mismatch")
		})
		t.Run("state tampered with", func(t *testing.T) {
			g.person(unique("sub"), unique("eve")+"@example.com", "Eve", "", true)
			b := newBrowser(t, ts)
			u, _ := url.Parse(b.googleStart())
			q := u.Query()
			q.Set("state", q.Get("state")+"x")
			u.RawQuery = q.Encode()
			refused(t, b, b.get(u.String()), http.StatusBadRequest, "state_mismatch")
		})
		t.Run("no sign-in started", func(t *testing.T) {
			b := newBrowser(t, ts)
			refused(t, b, b.get(auth.CallbackPath+"?code=abc&state=def"), http.StatusBadRequest, "state_mismatch")
		})
		t.Run("consent declined", func(t *testing.T) {
			g.person(unique("sub"), unique("dan")+"@example.com", "Dan", "", true)
			g.setDeny(true)
			defer g.setDeny(false)
			b := newBrowser(t, ts)
			refused(t, b, b.googleSignIn(), http.StatusForbidden, "access_denied")
		})
		t.Run("email not verified", func(t *testing.T) {
			g.person(unique("sub"), unique("una")+"@example.com", "Una", "", false)
			b := newBrowser(t, ts)
			refused(t, b, b.googleSignIn(), http.StatusForbidden, "email_unverified")
		})
		t.Run("workspace requires another domain", func(t *testing.T) {
			email := unique("wes") + "@acme.test"
			ws, _, err := st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Acme", OwnerEmail: email})
			must(t, err)
			must(t, st.SetRequiredDomain(ctx(t), ws.ID, "acme.test"))

			sub := unique("sub")
			for _, hd := range []string{"", "other.test"} {
				g.person(sub, email, "Wes", hd, true)
				b := newBrowser(t, ts)
				refused(t, b, b.googleSignIn(), http.StatusForbidden, "domain_required")
			}
			g.person(sub, email, "Wes", "acme.test", true)
			b := newBrowser(t, ts)
			if resp := b.googleSignIn(); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in with the required domain: %d %s", resp.StatusCode, readBody(resp))
			}
			if s := b.session(); s.Workspace == nil || s.Workspace.ID != ws.ID {
				t.Fatalf("session %+v, want workspace Acme", s)
			}
		})
		t.Run("email linked to another Google account", func(t *testing.T) {
			email := unique("lin") + "@example.com"
			g.person(unique("sub"), email, "Lin", "", true)
			first := newBrowser(t, ts)
			if resp := first.googleSignIn(); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("first sign-in: %d %s", resp.StatusCode, readBody(resp))
			}
			// A recycled address at another Google account.
			g.person(unique("sub"), email, "Not Lin", "", true)
			b := newBrowser(t, ts)
			refused(t, b, b.googleSignIn(), http.StatusForbidden, "account_conflict")
		})
		t.Run("a browser gets a page", func(t *testing.T) {
			b := newBrowser(t, ts)
			resp := b.get(auth.CallbackPath+"?state=x&code=y", "Accept", "text/html,application/xhtml+xml")
			body := readBody(resp)
			if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(body, "did not start in this browser") || resp.Header.Get("Content-Security-Policy") == "" {
				t.Fatalf("%d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	})
}

func TestGoogleOff(t *testing.T) {
	ts := newServer(t, teststore.SQLite(t), func(o *auth.Options) { o.Google = nil })
	b := newBrowser(t, ts)
	wantError(t, b.get(auth.GooglePath), http.StatusNotFound, "not_found")
	wantError(t, b.get(auth.CallbackPath+"?state=a&code=b"), http.StatusNotFound, "not_found")
	if s := b.session(); s.Methods.Google || !s.Methods.Dev {
		t.Fatalf("sign-in methods %+v", s.Methods)
	}
}

func TestNewRefusesGoogleWithoutPublicURL(t *testing.T) {
	_, err := auth.New(auth.Options{Store: teststore.SQLite(t), Google: &auth.Google{ClientID: "a", ClientSecret: "b"}})
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_PUBLIC_URL") {
		t.Fatalf("New: %v, want a refusal naming SWITCHBOARD_PUBLIC_URL", err)
	}
}

// TestSignInJoinsAndAudits checks a first sign-in accepts the person's
// invitation and joins their domain's auto-join workspace instead of
// creating a workspace of their own, and that each workspace's audit log
// records the sign-in and the sign-out.
func TestSignInJoinsAndAudits(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		ts := newServer(t, st, nil)
		inviting, _, err := st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Inviting", OwnerEmail: unique("boss") + "@example.com"})
		must(t, err)
		domain := unique("corp") + ".test"
		autoJoin, _, err := st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Auto-join", OwnerEmail: unique("boss") + "@" + domain})
		must(t, err)
		_, err = st.UpdateWorkspace(ctx(t), autoJoin.ID, store.WorkspaceUpdate{AutoJoinDomain: &domain}, store.Actor{})
		must(t, err)
		email := unique("ivy") + "@" + domain
		_, err = st.CreateInvitation(ctx(t), inviting.ID, store.NewInvitation{Email: email, Role: store.RoleAdmin}, store.Actor{})
		must(t, err)

		ts.google.person(unique("sub"), email, "Ivy", domain, true)
		b := newBrowser(t, ts)
		if resp := b.googleSignIn(); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", resp.StatusCode, readBody(resp))
		}
		s := b.session()
		roles := map[int64]string{}
		for _, w := range s.Workspaces {
			roles[w.ID] = w.Role
		}
		if len(roles) != 2 || roles[inviting.ID] != "admin" || roles[autoJoin.ID] != "agent" {
			t.Fatalf("workspaces %+v: want the invitation's (admin) and the domain's (agent), and no new one", s.Workspaces)
		}

		if resp := b.do(http.MethodPost, auth.LogoutPath, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		for _, ws := range []int64{inviting.ID, autoJoin.ID} {
			page, err := st.ListAudit(ctx(t), ws, store.AuditFilter{Action: store.AuditSignIn})
			must(t, err)
			var details struct{ Method, IP string }
			if len(page.Entries) == 1 {
				must(t, json.Unmarshal(page.Entries[0].Details, &details))
			}
			if len(page.Entries) != 1 || page.Entries[0].ActorID != s.Agent.ID || details.Method != "google" || details.IP == "" {
				t.Fatalf("workspace %d sign-in audit: %+v", ws, page.Entries)
			}
		}
		page, err := st.ListAudit(ctx(t), s.Workspace.ID, store.AuditFilter{Action: store.AuditSignOut})
		must(t, err)
		if len(page.Entries) != 1 || page.Entries[0].ActorID != s.Agent.ID {
			t.Fatalf("sign-out audit: %+v", page.Entries)
		}
	})
}
