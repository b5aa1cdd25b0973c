package auth_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestSessionFixation plants a token in a victim's browser before they
// sign in: after the sign-in the planted token signs no one in.
func TestSessionFixation(t *testing.T) {
	ts := newServer(t, teststore.SQLite(t), nil)
	ts.google.person(unique("sub"), unique("vic")+"@example.com", "Victim", "", true)
	attacker, victim := newBrowser(t, ts), newBrowser(t, ts)

	attacker.googleStart() // the attacker gets a real, stored session token
	planted := attacker.cookie()
	if planted == "" {
		t.Fatal("no token to plant")
	}
	victim.setCookie(planted)
	if resp := victim.googleSignIn(); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("victim's sign-in: %d %s", resp.StatusCode, readBody(resp))
	}
	if victim.cookie() == planted {
		t.Fatal("the sign-in kept the planted token")
	}
	if !victim.session().SignedIn {
		t.Fatal("victim not signed in")
	}
	if s := attacker.session(); s.SignedIn {
		t.Fatalf("the planted token is signed in as %+v", s.Agent)
	}
}

func TestLogout(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		ts := newServer(t, st, nil)
		b := newBrowser(t, ts)
		b.devSignIn(unique("lou")+"@example.com", "Lou")
		token := b.cookie()
		if b.whoami() == nil {
			t.Fatal("not signed in")
		}

		resp := b.do(http.MethodPost, auth.LogoutPath, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d %s", resp.StatusCode, readBody(resp))
		}
		if c := b.cookie(); c != "" {
			t.Fatalf("cookie %q still set after logout", c)
		}
		if b.whoami() != nil || b.session().SignedIn {
			t.Fatal("still signed in after logout")
		}
		// The old token, replayed, is worth nothing.
		b.setCookie(token)
		if b.whoami() != nil || b.session().SignedIn {
			t.Fatal("the signed-out token still works")
		}
		// Signing out again is fine.
		if resp := b.do(http.MethodPost, auth.LogoutPath, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("second logout: %d", resp.StatusCode)
		}
	})
}

// TestLogoutEverywhere signs one person in in two browsers; signing out
// everywhere in one ends the other's session too.
func TestLogoutEverywhere(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		var mu sync.Mutex
		var closed []int64 // agents whose connections were closed
		ts := newServer(t, st, func(o *auth.Options) {
			o.OnSignedOutEverywhere = func(_, agentID int64) {
				mu.Lock()
				closed = append(closed, agentID)
				mu.Unlock()
			}
		})
		email := unique("eve") + "@example.com"
		laptop, phone, stranger := newBrowser(t, ts), newBrowser(t, ts), newBrowser(t, ts)
		laptop.devSignIn(email, "Eve")
		phone.devSignIn(email, "Eve")
		stranger.devSignIn(unique("sam")+"@example.com", "Sam")
		if laptop.whoami() == nil || phone.whoami() == nil {
			t.Fatal("not signed in in both browsers")
		}

		wantError(t, newBrowser(t, ts).do(http.MethodPost, auth.LogoutEverywherePath, nil), http.StatusUnauthorized, "unauthenticated")
		if resp := laptop.do(http.MethodPost, auth.LogoutEverywherePath, nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout everywhere: %d %s", resp.StatusCode, readBody(resp))
		}
		if laptop.whoami() != nil {
			t.Fatal("this browser is still signed in")
		}
		if phone.whoami() != nil {
			t.Fatal("the other browser is still signed in")
		}
		if s := phone.session(); s.SignedIn {
			t.Fatalf("the other browser's session: %+v", s)
		}
		if stranger.whoami() == nil {
			t.Fatal("someone else's session ended too")
		}
		mu.Lock()
		if len(closed) != 1 {
			t.Fatalf("connections closed for agents %v, want Eve's in her one workspace", closed)
		}
		mu.Unlock()
		// Signing in again works.
		phone.devSignIn(email, "Eve")
		if phone.whoami() == nil {
			t.Fatal("cannot sign in again after signing out everywhere")
		}
	})
}

func TestSwitchWorkspace(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		ts := newServer(t, st, nil)
		email := unique("wil") + "@example.com"
		b := newBrowser(t, ts)
		first := b.devSignIn(email, "Wil")
		second, _, err := st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Second", OwnerEmail: unique("o") + "@example.com"})
		must(t, err)
		_, err = st.CreateAgent(ctx(t), second.ID, store.NewAgent{Email: email, Role: store.RoleAgent})
		must(t, err)
		foreign, _, err := st.CreateWorkspace(ctx(t), store.NewWorkspace{Name: "Foreign", OwnerEmail: unique("f") + "@example.com"})
		must(t, err)

		if s := b.session(); len(s.Workspaces) != 2 || s.Workspace.ID != first.Workspace.ID {
			t.Fatalf("session %+v: want two workspaces, the first current", s)
		}
		var s session
		decode(t, b.postJSON(auth.WorkspacePath, fmt.Sprintf(`{"workspace_id": %d}`, second.ID)), http.StatusOK, &s)
		if s.Workspace == nil || s.Workspace.ID != second.ID || s.Workspace.Role != "agent" {
			t.Fatalf("after the switch: %+v", s.Workspace)
		}
		if who := b.whoami(); who == nil || who.WorkspaceID != second.ID || who.Role != "agent" {
			t.Fatalf("principal after the switch: %+v", who)
		}

		wantError(t, b.postJSON(auth.WorkspacePath, fmt.Sprintf(`{"workspace_id": %d}`, foreign.ID)), http.StatusForbidden, "forbidden")
		wantError(t, b.postJSON(auth.WorkspacePath, `{"workspace": 1}`), http.StatusBadRequest, "invalid")
		wantError(t, newBrowser(t, ts).postJSON(auth.WorkspacePath, fmt.Sprintf(`{"workspace_id": %d}`, second.ID)), http.StatusUnauthorized, "unauthenticated")
		if who := b.whoami(); who.WorkspaceID != second.ID {
			t.Fatalf("a refused switch moved the session to %d", who.WorkspaceID)
		}

		// A workspace that starts requiring a domain the session did not
		// sign in with stops resolving, and the session moves on.
		must(t, st.SetRequiredDomain(ctx(t), second.ID, "elsewhere.test"))
		if who := b.whoami(); who != nil {
			t.Fatalf("principal %+v in a workspace that no longer admits the session", who)
		}
		if s := b.session(); !s.SignedIn || s.Workspace == nil || s.Workspace.ID != first.Workspace.ID || len(s.Workspaces) != 1 {
			t.Fatalf("session %+v: want it moved back to the first workspace", s)
		}
		if who := b.whoami(); who == nil || who.WorkspaceID != first.Workspace.ID {
			t.Fatalf("principal %+v, want the first workspace again", who)
		}
	})
}

// TestCookieAttributes checks the cookie is HttpOnly and SameSite=Lax
// always, and Secure exactly when the browser reached the server over
// https.
func TestCookieAttributes(t *testing.T) {
	st := teststore.SQLite(t)
	tests := []struct {
		name       string
		publicURL  string
		trustProxy bool
		header     []string
		secure     bool
	}{
		{"http public URL", "", false, nil, false},
		{"https public URL", "https://inbox.example.com", false, nil, true},
		{"forwarded https, proxy trusted", "", true, []string{"X-Forwarded-Proto", "https"}, true},
		{"forwarded http, proxy trusted", "", true, []string{"X-Forwarded-Proto", "http"}, false},
		{"forwarded https, proxy not trusted", "", false, []string{"X-Forwarded-Proto", "https"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newServer(t, st, func(o *auth.Options) {
				if tt.publicURL != "" {
					o.PublicURL = tt.publicURL
				}
				o.TrustProxy = tt.trustProxy
			})
			resp := newBrowser(t, ts).get(auth.GooglePath, tt.header...)
			var c *http.Cookie
			for _, rc := range resp.Cookies() {
				if rc.Name == auth.CookieName {
					c = rc
				}
			}
			if c == nil {
				t.Fatalf("no session cookie in %q", resp.Header.Values("Set-Cookie"))
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tt.secure || c.MaxAge <= 0 {
				t.Fatalf("cookie %s: want HttpOnly, SameSite=Lax, Path=/, Max-Age, Secure=%v", c, tt.secure)
			}
			// A browser that has only started signing in holds its
			// session for the sign-in window, not a whole lifetime.
			if c.MaxAge > 20*60 {
				t.Fatalf("pre-sign-in cookie lives %ds", c.MaxAge)
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Cookie") {
				t.Fatal("no Vary: Cookie")
			}
		})
	}
}

func TestSessionSignedOut(t *testing.T) {
	ts := newServer(t, teststore.SQLite(t), nil)
	b := newBrowser(t, ts)
	s := b.session()
	if s.SignedIn || s.Agent != nil || s.Workspace != nil || len(s.Workspaces) != 0 || !s.Methods.Google || !s.Methods.Dev {
		t.Fatalf("signed-out session %+v", s)
	}
	if b.cookie() != "" {
		t.Fatal("asking who is signed in gave a signed-out browser a session")
	}
	// A made-up token is nobody.
	b.setCookie("made-up")
	if b.session().SignedIn || b.whoami() != nil {
		t.Fatal("a made-up token signed in")
	}
	wantError(t, b.get("/auth/nope"), http.StatusNotFound, "not_found")
	wantError(t, b.do(http.MethodDelete, auth.SessionPath, nil), http.StatusMethodNotAllowed, "method_not_allowed")
}
