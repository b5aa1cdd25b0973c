package auth_test

import (
	"net/http"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestCrossOriginRequestsRefused sends unsafe requests with a signed-in
// session cookie from another site: each is refused with 403 and changes
// nothing, while the same requests from the site itself pass, and a
// bearer-token request is not held to the rule.
func TestCrossOriginRequestsRefused(t *testing.T) {
	ts := newServer(t, teststore.SQLite(t), nil)
	b := newBrowser(t, ts)
	b.devSignIn(unique("cat")+"@example.com", "Cat")

	crossSite := [][]string{
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example", "Sec-Fetch-Site", ""},
		{"Origin", "", "Sec-Fetch-Site", "same-site"},
	}
	for _, header := range crossSite {
		for _, path := range []string{auth.LogoutPath, auth.LogoutEverywherePath, "/whoami"} {
			wantError(t, b.do(http.MethodPost, path, nil, header...), http.StatusForbidden, "cross_origin")
		}
		wantError(t, b.postJSON(auth.WorkspacePath, `{"workspace_id": 1}`, header...), http.StatusForbidden, "cross_origin")
		// Login CSRF: another site cannot sign this browser in as
		// someone else.
		wantError(t, b.postJSON(auth.DevPath, `{"email": "mallory@evil.example"}`, header...), http.StatusForbidden, "cross_origin")
	}
	if s := b.session(); !s.SignedIn || s.Agent.Name != "Cat" {
		t.Fatalf("after the cross-site requests: %+v, want Cat still signed in", s)
	}

	// Same-origin: by Sec-Fetch-Site, or by an Origin matching the host.
	if resp := b.do(http.MethodPost, "/whoami", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("same-origin POST: %d", resp.StatusCode)
	}
	if resp := b.do(http.MethodPost, "/whoami", nil, "Sec-Fetch-Site", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("same-origin POST by Origin: %d", resp.StatusCode)
	}
	// Safe methods are never refused.
	if resp := b.get("/whoami", "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusOK {
		t.Fatalf("cross-site GET: %d", resp.StatusCode)
	}
	// A bearer-token request is not cookie-authenticated: Protect passes
	// it through untouched, whatever its origin, and never resolves the
	// cookie for it.
	resp := b.do(http.MethodPost, "/whoami", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer sbt_x")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bearer POST: %d, want it to reach the handler, which finds no session (401)", resp.StatusCode)
	}
}
