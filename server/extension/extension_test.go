package extension_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/extension"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
	staticext "github.com/switchboard-inbox/switchboard/static/extension"
)

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var uniq atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, uniq.Add(1)) }

// newServer serves the extension routes as main does: behind sign-in's
// Protect, with sign-in (development sign-in on) at /auth/.
func newServer(t testing.TB, st store.Store) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a, err := auth.New(auth.Options{Store: st, PublicURL: srv.URL, DevLogin: true, ListenAddr: srv.Listener.Addr().String()})
	must(t, err)
	mux.Handle("/auth/", a.Handler())
	mux.Handle("/extension/", a.Protect(extension.New(extension.Options{Store: st, Sessions: a})))
	return srv.URL
}

// tenant is a workspace with an owner and an agent-role member, each
// with an API token.
type tenant struct {
	ws                     store.Workspace
	owner, agent           store.Agent
	ownerToken, agentToken string
	ownerAgentRoleToken    string
	ownerEmail, agentEmail string
}

func newTenant(t testing.TB, st store.Store) tenant {
	t.Helper()
	c := ctx(t)
	var tn tenant
	var err error
	tn.ownerEmail = unique("owner") + "@ext.example.com"
	tn.agentEmail = unique("agent") + "@ext.example.com"
	tn.ws, tn.owner, err = st.CreateWorkspace(c, store.NewWorkspace{Name: unique("Acme "), OwnerEmail: tn.ownerEmail, OwnerName: "Olive Owner"})
	must(t, err)
	tn.agent, err = st.CreateAgent(c, tn.ws.ID, store.NewAgent{Email: tn.agentEmail, Name: "Andy Agent", Role: store.RoleAgent})
	must(t, err)
	_, tn.ownerToken, err = st.CreateAPIToken(c, tn.ws.ID, store.NewAPIToken{AgentID: tn.owner.ID, Name: "test"})
	must(t, err)
	_, tn.ownerAgentRoleToken, err = st.CreateAPIToken(c, tn.ws.ID, store.NewAPIToken{AgentID: tn.owner.ID, Name: "weak", Role: store.RoleAgent})
	must(t, err)
	_, tn.agentToken, err = st.CreateAPIToken(c, tn.ws.ID, store.NewAPIToken{AgentID: tn.agent.ID, Name: "test"})
	must(t, err)
	return tn
}

// browser is a cookie jar that sends a browser's same-origin headers.
type browser struct {
	t    testing.TB
	base string
	http *http.Client
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func newBrowser(t testing.TB, base string) browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	return browser{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func signIn(t testing.TB, base, email string) browser {
	t.Helper()
	b := newBrowser(t, base)
	r := b.do("POST", auth.DevPath, `{"email":"`+email+`"}`, "Content-Type", "application/json")
	if r.status != http.StatusOK {
		t.Fatalf("dev sign-in as %s: %d %s", email, r.status, r.body)
	}
	return b
}

// do sends a request from the browser's own origin unless header (pairs)
// says otherwise; an empty value removes the header.
func (b browser) do(method, path, body string, header ...string) reply {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx(b.t), method, b.base+path, rd)
	must(b.t, err)
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := b.http.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(b.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

func (b browser) form(path string, v url.Values, header ...string) reply {
	b.t.Helper()
	return b.do("POST", path, v.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

func (r reply) want(t testing.TB, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
}

const nonce = "n0nce_from-the-extension-1234"

var crossSite = []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}

// TestConnectPage walks the connect flow's server side: the page needs a
// signed-in browser and a nonce, approving mints an agent-role token for
// the signed-in agent and hands it over with the nonce, and nothing else
// gets one.
func TestConnectPage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base := newServer(t, st)
		tn := newTenant(t, st)
		anon := newBrowser(t, base)
		owner := signIn(t, base, tn.ownerEmail)

		t.Run("refuses a page without a nonce, or a malformed one", func(t *testing.T) {
			for _, q := range []string{"", "?nonce=", "?nonce=short", "?nonce=" + url.QueryEscape(`"><script>alert(1)</script>aaaaaaaaaaa`), "?nonce=" + strings.Repeat("a", 129)} {
				r := owner.do("GET", extension.ConnectPath+q, "")
				r.want(t, http.StatusBadRequest, "GET connect"+q)
				if bytes.Contains(r.body, []byte("<script>alert")) || bytes.Contains(r.body, []byte(`name="nonce"`)) {
					t.Fatalf("GET connect%s echoed the nonce or offered the form:\n%s", q, r.body)
				}
			}
		})

		t.Run("asks a browser that is not signed in to sign in", func(t *testing.T) {
			r := anon.do("GET", extension.ConnectPath+"?nonce="+nonce, "")
			r.want(t, http.StatusUnauthorized, "GET connect, signed out")
			if !bytes.Contains(r.body, []byte(`href="/"`)) || bytes.Contains(r.body, []byte(`name="nonce"`)) {
				t.Fatalf("signed-out page: want a sign-in link and no form:\n%s", r.body)
			}
		})

		t.Run("shows the signed-in agent the approval form with the nonce", func(t *testing.T) {
			r := owner.do("GET", extension.ConnectPath+"?nonce="+nonce, "")
			r.want(t, http.StatusOK, "GET connect")
			for _, want := range []string{`name="nonce" value="` + nonce + `"`, html.EscapeString(tn.ws.Name), tn.ownerEmail, `action="/extension/connect"`} {
				if !bytes.Contains(r.body, []byte(want)) {
					t.Errorf("approval page lacks %q:\n%s", want, r.body)
				}
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q: want a strict one", csp)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if bytes.Contains(r.body, []byte("<script>")) {
				t.Errorf("the page has an inline script:\n%s", r.body)
			}
		})

		t.Run("approving hands over a working agent-role token with the nonce", func(t *testing.T) {
			r := owner.form(extension.ConnectPath, url.Values{"nonce": {nonce}})
			r.want(t, http.StatusOK, "POST connect")
			m := regexp.MustCompile(`data-nonce="([^"]*)" data-token="([^"]*)" data-token-id="(\d+)"`).FindSubmatch(r.body)
			if m == nil {
				t.Fatalf("no hand-over in the page:\n%s", r.body)
			}
			if string(m[1]) != nonce {
				t.Errorf("hand-over nonce %q, want %q", m[1], nonce)
			}
			if !bytes.Contains(r.body, []byte(`src="/extension/connect.js"`)) {
				t.Errorf("the hand-over page does not load connect.js:\n%s", r.body)
			}
			p, err := st.AuthenticateToken(ctx(t), string(m[2]))
			must(t, err)
			if p.Agent.ID != tn.owner.ID || p.Workspace.ID != tn.ws.ID {
				t.Errorf("token acts as agent %d in workspace %d, want %d in %d", p.Agent.ID, p.Workspace.ID, tn.owner.ID, tn.ws.ID)
			}
			if p.Role != store.RoleAgent {
				t.Errorf("an owner's extension token has role %s, want agent (scoped)", p.Role)
			}
			if fmt.Sprint(p.TokenID) != string(m[3]) {
				t.Errorf("data-token-id %s, token id %d", m[3], p.TokenID)
			}
			tokens, err := st.ListAPITokens(ctx(t), tn.ws.ID, tn.owner.ID)
			must(t, err)
			found := false
			for _, tok := range tokens {
				found = found || (tok.ID == p.TokenID && tok.Name == extension.TokenName)
			}
			if !found {
				t.Errorf("the owner's tokens %+v lack %q", tokens, extension.TokenName)
			}
		})

		t.Run("mints nothing for bad requests", func(t *testing.T) {
			before, err := st.ListAPITokens(ctx(t), tn.ws.ID, 0)
			must(t, err)
			owner.form(extension.ConnectPath, url.Values{"nonce": {"bad"}}).want(t, http.StatusBadRequest, "POST bad nonce")
			owner.form(extension.ConnectPath, url.Values{}).want(t, http.StatusBadRequest, "POST no nonce")
			owner.form(extension.ConnectPath, url.Values{"nonce": {nonce}}, crossSite...).want(t, http.StatusForbidden, "POST cross-site")
			anon.form(extension.ConnectPath, url.Values{"nonce": {nonce}}).want(t, http.StatusUnauthorized, "POST signed out")
			big := url.Values{"nonce": {nonce}, "pad": {strings.Repeat("x", 8<<10)}}
			owner.form(extension.ConnectPath, big).want(t, http.StatusBadRequest, "POST too big")
			// A token cannot stand in for the browser's approval.
			anon.form(extension.ConnectPath, url.Values{"nonce": {nonce}}, "Authorization", "Bearer "+tn.ownerToken).want(t, http.StatusUnauthorized, "POST with a token")
			owner.do("DELETE", extension.ConnectPath, "").want(t, http.StatusMethodNotAllowed, "DELETE connect")
			after, err := st.ListAPITokens(ctx(t), tn.ws.ID, 0)
			must(t, err)
			if len(after) != len(before) {
				t.Fatalf("bad requests minted tokens: %d before, %d after", len(before), len(after))
			}
		})

		t.Run("serves the page's script", func(t *testing.T) {
			r := anon.do("GET", extension.ScriptPath, "")
			r.want(t, http.StatusOK, "GET connect.js")
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("connect.js Content-Type %q", ct)
			}
			if !bytes.Contains(r.body, []byte("postMessage")) || !bytes.Contains(r.body, []byte("location.origin")) {
				t.Errorf("connect.js does not post to its own origin:\n%s", r.body)
			}
		})
	})
}

// TestTokenIdentifiesItself: GET /extension/token tells a bearer which
// token it holds, and nobody else anything.
func TestTokenIdentifiesItself(t *testing.T) {
	st := teststore.SQLite(t)
	base := newServer(t, st)
	tn := newTenant(t, st)
	anon := newBrowser(t, base)
	p, err := st.AuthenticateToken(ctx(t), tn.agentToken)
	must(t, err)

	r := anon.do("GET", extension.TokenPath, "", "Authorization", "Bearer "+tn.agentToken)
	r.want(t, http.StatusOK, "GET token")
	var got struct {
		ID      int64 `json:"id"`
		AgentID int64 `json:"agent_id"`
	}
	must(t, json.Unmarshal(r.body, &got))
	if got.ID != p.TokenID || got.AgentID != tn.agent.ID {
		t.Errorf("GET token: %s, want id %d agent %d", r.body, p.TokenID, tn.agent.ID)
	}
	for name, hdr := range map[string][]string{
		"no token":     nil,
		"wrong token":  {"Authorization", "Bearer sbt_nope"},
		"not a bearer": {"Authorization", "Basic " + tn.agentToken},
		"empty bearer": {"Authorization", "Bearer "},
	} {
		anon.do("GET", extension.TokenPath, "", hdr...).want(t, http.StatusUnauthorized, name)
	}
	// A session is no token.
	signIn(t, base, tn.agentEmail).do("GET", extension.TokenPath, "").want(t, http.StatusUnauthorized, "session")
	anon.do("POST", extension.TokenPath, "", "Authorization", "Bearer "+tn.agentToken).want(t, http.StatusMethodNotAllowed, "POST token")
	anon.do("GET", "/extension/nope", "").want(t, http.StatusNotFound, "unknown path")
}

// TestDownload: admins (by session or token) get the packed extension,
// a zip of exactly the embedded sources; agents get 403, strangers 401.
func TestDownload(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base := newServer(t, st)
		tn := newTenant(t, st)
		anon := newBrowser(t, base)

		for name, r := range map[string]reply{
			"owner session": signIn(t, base, tn.ownerEmail).do("GET", extension.DownloadPath, ""),
			"owner token":   anon.do("GET", extension.DownloadPath, "", "Authorization", "Bearer "+tn.ownerToken),
		} {
			r.want(t, http.StatusOK, name)
			if ct := r.header.Get("Content-Type"); ct != "application/zip" {
				t.Errorf("%s: Content-Type %q", name, ct)
			}
			if cd := r.header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="switchboard-extension-[0-9.]+\.zip"$`).MatchString(cd) {
				t.Errorf("%s: Content-Disposition %q", name, cd)
			}
			checkZip(t, r.body)
		}

		for name, c := range map[string]struct {
			r      reply
			status int
		}{
			"agent session":             {signIn(t, base, tn.agentEmail).do("GET", extension.DownloadPath, ""), http.StatusForbidden},
			"agent token":               {anon.do("GET", extension.DownloadPath, "", "Authorization", "Bearer "+tn.agentToken), http.StatusForbidden},
			"owner's agent-role token":  {anon.do("GET", extension.DownloadPath, "", "Authorization", "Bearer "+tn.ownerAgentRoleToken), http.StatusForbidden},
			"nobody":                    {anon.do("GET", extension.DownloadPath, ""), http.StatusUnauthorized},
			"a wrong token":             {anon.do("GET", extension.DownloadPath, "", "Authorization", "Bearer sbt_wrong"), http.StatusUnauthorized},
			"a wrong token and session": {signIn(t, base, tn.ownerEmail).do("GET", extension.DownloadPath, "", "Authorization", "Bearer sbt_wrong"), http.StatusUnauthorized},
			"POST":                      {anon.do("POST", extension.DownloadPath, "", "Authorization", "Bearer "+tn.ownerToken), http.StatusMethodNotAllowed},
		} {
			c.r.want(t, c.status, name)
			if bytes.HasPrefix(c.r.body, []byte("PK")) {
				t.Errorf("%s: got a zip", name)
			}
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if err := json.Unmarshal(c.r.body, &e); err != nil || e.Error.Code == "" {
				t.Errorf("%s: not a JSON error: %s", name, c.r.body)
			}
		}
	})
}

// checkZip checks the zip holds every embedded file, byte for byte, under
// one folder, and nothing else.
func checkZip(t *testing.T, b []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		must(t, err)
		data, err := io.ReadAll(rc)
		rc.Close()
		must(t, err)
		got[f.Name] = data
	}
	want := 0
	must(t, fs.WalkDir(staticext.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want++
		src, err := fs.ReadFile(staticext.FS, name)
		if err != nil {
			return err
		}
		if !bytes.Equal(got["switchboard-extension/"+name], src) {
			t.Errorf("zip entry switchboard-extension/%s differs from the source (or is missing)", name)
		}
		return nil
	}))
	if len(got) != want {
		t.Errorf("zip has %d entries, want %d", len(got), want)
	}
	var m struct {
		ManifestVersion int `json:"manifest_version"`
	}
	must(t, json.Unmarshal(got["switchboard-extension/manifest.json"], &m))
	if m.ManifestVersion != 3 {
		t.Errorf("manifest_version %d in the zip", m.ManifestVersion)
	}
}
