package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/store"
)

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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

// Credentials the fake Google knows the server by.
const (
	clientID     = "switchboard-test.apps.googleusercontent.com"
	clientSecret = "GOCSPX-test-secret"
)

// fakeGoogle plays Google's three OAuth endpoints as goth's Google
// provider uses them: the authorization endpoint (the consent screen,
// which here consents or declines at once), the token endpoint and the v2
// userinfo endpoint goth fetches the profile from (id, email,
// verified_email, name, given_name, family_name, picture, hd).
type fakeGoogle struct {
	t   testing.TB
	srv *httptest.Server

	mu sync.Mutex
	// profile is what userinfo answers for the next sign-in.
	profile map[string]any
	// deny makes the consent screen decline.
	deny bool
	// codes maps an issued authorization code to its redirect_uri;
	// tokens are the issued access tokens.
	codes  map[string]string
	tokens map[string]bool
	// authQuery is the last authorization request's query; hits counts
	// requests per endpoint.
	authQuery url.Values
	hits      map[string]int
}

func newFakeGoogle(t testing.TB) *fakeGoogle {
	g := &fakeGoogle{t: t, codes: map[string]string{}, tokens: map[string]bool{}, hits: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /o/oauth2/auth", g.authorize)
	mux.HandleFunc("POST /token", g.token)
	mux.HandleFunc("GET /oauth2/v2/userinfo", g.userinfo)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// person sets the Google account that signs in next.
func (g *fakeGoogle) person(sub, email, name, hd string, verified bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	given, family, _ := strings.Cut(name, " ")
	g.profile = map[string]any{
		"id": sub, "email": email, "verified_email": verified, "name": name,
		"given_name": given, "family_name": family,
		"picture": "https://lh3.googleusercontent.com/a/" + sub + "=s96-c",
	}
	if hd != "" {
		g.profile["hd"] = hd
	}
}

func (g *fakeGoogle) setDeny(deny bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deny = deny
}

func (g *fakeGoogle) hit(endpoint string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.hits[endpoint]
}

func (g *fakeGoogle) lastAuthQuery() url.Values {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.authQuery
}

// options points Google sign-in at the fake.
func (g *fakeGoogle) options() *auth.Google {
	return &auth.Google{
		ClientID: clientID, ClientSecret: clientSecret,
		AuthURL:     g.srv.URL + "/o/oauth2/auth",
		TokenURL:    g.srv.URL + "/token",
		UserInfoURL: g.srv.URL + "/oauth2/v2/userinfo",
	}
}

// authorize is the consent screen: it answers Google's way, redirecting
// to redirect_uri with code and state, or error=access_denied and state.
func (g *fakeGoogle) authorize(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hits["auth"]++
	q := r.URL.Query()
	g.authQuery = q
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != clientID || q.Get("response_type") != "code" || err != nil || redirect.Host == "" {
		http.Error(w, "Error 400: invalid_request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	if g.deny {
		back.Set("error", "access_denied")
	} else {
		code := "4/0A" + unique("code")
		g.codes[code] = q.Get("redirect_uri")
		back.Set("code", code)
		back.Set("scope", q.Get("scope"))
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// token exchanges a code once, as Google does, for
// {access_token, expires_in, token_type, scope, id_token}.
func (g *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hits["token"]++
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f := r.PostForm
	redirect, known := g.codes[f.Get("code")]
	delete(g.codes, f.Get("code"))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if f.Get("grant_type") != "authorization_code" || f.Get("client_id") != clientID || f.Get("client_secret") != clientSecret ||
		!known || f.Get("redirect_uri") != redirect {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error": "invalid_grant", "error_description": "Bad Request"}`)
		return
	}
	access := "ya29." + unique("token")
	g.tokens[access] = true
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": access,
		"expires_in":   3599,
		"token_type":   "Bearer",
		"scope":        "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
		"id_token":     "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
	})
}

// userinfo answers the v2 profile for a token it issued.
func (g *fakeGoogle) userinfo(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hits["userinfo"]++
	token := r.URL.Query().Get("access_token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if !g.tokens[token] {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}`)
		return
	}
	json.NewEncoder(w).Encode(g.profile)
}

// testServer is Switchboard's sign-in as served: /auth/ and a protected
// /whoami that answers the session's principal.
type testServer struct {
	st     store.Store
	auth   *auth.Auth
	srv    *httptest.Server
	google *fakeGoogle
}

// newServer serves sign-in over st with Google pointed at a fake and the
// development sign-in on; edit adjusts the options.
func newServer(t testing.TB, st store.Store, edit func(*auth.Options)) *testServer {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ts := &testServer{st: st, srv: srv, google: newFakeGoogle(t)}
	opts := auth.Options{
		Store:       st,
		PublicURL:   srv.URL,
		Google:      ts.google.options(),
		DevLogin:    true,
		ListenAddr:  srv.Listener.Addr().String(),
		IdleTimeout: time.Hour,
	}
	if edit != nil {
		edit(&opts)
	}
	a, err := auth.New(opts)
	must(t, err)
	ts.auth = a
	mux.Handle("/auth/", a.Handler())
	mux.Handle("/whoami", a.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok, err := a.Principal(r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		case !ok:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			json.NewEncoder(w).Encode(whoami{WorkspaceID: p.Workspace.ID, AgentID: p.Agent.ID, Role: string(p.Role)})
		}
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the inbox") })
	return ts
}

type whoami struct {
	WorkspaceID int64  `json:"workspace_id"`
	AgentID     int64  `json:"agent_id"`
	Role        string `json:"role"`
}

// browser is one browser: its own cookie jar, redirects followed by hand
// so each step can be checked.
type browser struct {
	t    testing.TB
	base string
	jar  *cookiejar.Jar
	c    *http.Client
}

func newBrowser(t testing.TB, ts *testServer) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &browser{t: t, base: ts.srv.URL, jar: jar, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}}
}

// do sends a request as this browser would: same-origin, with its
// cookies. Pass header pairs to add or override headers.
func (b *browser) do(method, target string, body io.Reader, header ...string) *http.Response {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	req, err := http.NewRequest(method, target, body)
	must(b.t, err)
	if method != http.MethodGet && method != http.MethodHead && strings.HasPrefix(target, b.base) {
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := b.c.Do(req)
	must(b.t, err)
	b.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (b *browser) get(target string, header ...string) *http.Response {
	b.t.Helper()
	return b.do(http.MethodGet, target, nil, header...)
}

func (b *browser) postJSON(target, body string, header ...string) *http.Response {
	b.t.Helper()
	return b.do(http.MethodPost, target, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, header...)...)
}

// follow follows the redirect resp carries.
func (b *browser) follow(resp *http.Response, header ...string) *http.Response {
	b.t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("%s %s: %d %s, want a redirect", resp.Request.Method, resp.Request.URL, resp.StatusCode, readBody(resp))
	}
	loc, err := resp.Location()
	must(b.t, err)
	return b.get(loc.String(), header...)
}

// cookie returns the session cookie's value, "" when there is none.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == auth.CookieName {
			return c.Value
		}
	}
	return ""
}

// setCookie plants a session cookie, as an attacker would.
func (b *browser) setCookie(value string) {
	u, _ := url.Parse(b.base)
	b.jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: value, Path: "/"}})
}

// googleStart begins a Google sign-in and returns the callback URL the
// fake Google sends the browser back to.
func (b *browser) googleStart() string {
	b.t.Helper()
	consent := b.follow(b.get(auth.GooglePath))
	if consent.StatusCode != http.StatusFound {
		b.t.Fatalf("consent screen: %d %s", consent.StatusCode, readBody(consent))
	}
	loc, err := consent.Location()
	must(b.t, err)
	return loc.String()
}

// googleSignIn runs the whole Google sign-in and returns the callback's
// answer; header pairs go with the callback request.
func (b *browser) googleSignIn(header ...string) *http.Response {
	b.t.Helper()
	return b.get(b.googleStart(), header...)
}

// session is GET /auth/session.
func (b *browser) session() session {
	b.t.Helper()
	resp := b.get(auth.SessionPath)
	var s session
	decode(b.t, resp, http.StatusOK, &s)
	return s
}

// whoami is the protected endpoint's answer: the principal, or nil for
// 401.
func (b *browser) whoami() *whoami {
	b.t.Helper()
	resp := b.get("/whoami")
	if resp.StatusCode == http.StatusUnauthorized {
		return nil
	}
	var w whoami
	decode(b.t, resp, http.StatusOK, &w)
	return &w
}

// devSignIn signs in through the development sign-in's JSON form.
func (b *browser) devSignIn(email, name string) session {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "name": name})
	var s session
	decode(b.t, b.postJSON(auth.DevPath, string(body)), http.StatusOK, &s)
	return s
}

type session struct {
	SignedIn bool `json:"signed_in"`
	Agent    *struct {
		ID        int64  `json:"id"`
		Email     string `json:"email"`
		Name      string `json:"name"`
		AvatarURL string `json:"avatar_url"`
	} `json:"agent"`
	Workspace *struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Role   string `json:"role"`
		AppID  string `json:"app_id"`
		AppKey string `json:"app_key"`
	} `json:"workspace"`
	Workspaces []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"workspaces"`
	Methods struct {
		Google bool `json:"google"`
		Dev    bool `json:"dev"`
	} `json:"sign_in_methods"`
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// decode checks resp's status and decodes its JSON body into v.
func decode(t testing.TB, resp *http.Response, status int, v any) {
	t.Helper()
	body := readBody(resp)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s %s: %v in %s", resp.Request.Method, resp.Request.URL.Path, err, body)
	}
}

// wantError checks resp is a JSON error with status and code.
func wantError(t testing.TB, resp *http.Response, status int, code string) {
	t.Helper()
	var e apiError
	decode(t, resp, status, &e)
	if e.Error.Code != code {
		t.Fatalf("error code %q (%s), want %q", e.Error.Code, e.Error.Message, code)
	}
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
