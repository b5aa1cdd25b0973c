package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/markbates/goth/providers/google"
)

// googleUserInfoURL is where goth's Google provider fetches the profile
// (its endpointProfile): Google's v2 userinfo, which answers id, email,
// verified_email, name, given_name, family_name, picture, locale and, for
// a Google Workspace account, hd.
const googleUserInfoURL = "https://www.googleapis.com/oauth2/v2/userinfo"

// googleScopes are what sign-in asks for: who the person is, nothing of
// their data.
var googleScopes = []string{"openid", "email", "profile"}

// newGoogleProvider returns goth's Google provider for g, calling back to
// callback. It asks for no offline access (Switchboard keeps no Google
// token) and lets a person with several Google accounts pick one.
func newGoogleProvider(g *Google, callback string) *google.Provider {
	p := google.New(g.ClientID, g.ClientSecret, callback, googleScopes...)
	p.SetPrompt("select_account")
	p.SetAccessType("online")
	client := g.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	moved := map[string]string{}
	if g.TokenURL != "" {
		moved[google.Endpoint.TokenURL] = g.TokenURL
	}
	if g.UserInfoURL != "" {
		moved[googleUserInfoURL] = g.UserInfoURL
	}
	if len(moved) > 0 {
		c := *client
		c.Transport = &redirectTransport{base: client.Transport, to: moved}
		client = &c
	}
	p.HTTPClient = client
	return p
}

// redirectTransport sends requests for one of Google's endpoints (the URL
// without its query) to the replacement, keeping the query.
type redirectTransport struct {
	base http.RoundTripper
	to   map[string]string
}

func (t *redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	endpoint := *r.URL
	endpoint.RawQuery, endpoint.Fragment = "", ""
	target, ok := t.to[endpoint.String()]
	if !ok {
		return base.RoundTrip(r)
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	u.RawQuery = r.URL.RawQuery
	r = r.Clone(r.Context())
	r.URL, r.Host = u, u.Host
	return base.RoundTrip(r)
}

// googleBegin serves GET /auth/google: it binds a fresh state to this
// browser's session and sends the browser to Google.
func (a *Auth) googleBegin(w http.ResponseWriter, r *http.Request) {
	if a.google == nil {
		writeError(w, http.StatusNotFound, "not_found", "Google sign-in is not configured on this server", "")
		return
	}
	ctx := r.Context()
	state, err := randomToken()
	if err != nil {
		a.internal(w, r, "google sign-in state", err)
		return
	}
	if _, ok := a.ref(ctx); !ok {
		// Not signed in: this session exists only to carry the state.
		a.sm.SetDeadline(ctx, time.Now().Add(signInWindow))
	}
	a.sm.Put(ctx, keyState, state)
	sess, err := a.google.BeginAuth(state)
	if err != nil {
		a.internal(w, r, "google begin auth", err)
		return
	}
	target, err := sess.GetAuthURL()
	if err != nil {
		a.internal(w, r, "google auth url", err)
		return
	}
	if a.authURL != "" {
		target = a.authURL + strings.TrimPrefix(target, google.Endpoint.AuthURL)
	}
	if err := a.saveSession(w, r); err != nil {
		a.internal(w, r, "save session", err)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// googleCallback serves GET /auth/google/callback, where Google sends the
// browser back. It refuses, signing no one in, a state that is not the
// one this browser's session holds, a declined consent, an unverified
// email and a workspace's domain rule; otherwise it signs the person in
// and sends them to the inbox.
func (a *Auth) googleCallback(w http.ResponseWriter, r *http.Request) {
	if a.google == nil {
		writeError(w, http.StatusNotFound, "not_found", "Google sign-in is not configured on this server", "")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	want := a.sm.PopString(ctx, keyState)
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(q.Get("state"))) != 1 {
		a.refuse(w, r, http.StatusBadRequest, "state_mismatch",
			"This sign-in did not start in this browser, or took too long. Nobody was signed in; start again.")
		return
	}
	switch e := q.Get("error"); {
	case e == "access_denied":
		a.refuse(w, r, http.StatusForbidden, "access_denied",
			"You declined to let Switchboard see your Google account, so you are not signed in.")
		return
	case e != "":
		a.refuse(w, r, http.StatusBadRequest, "google_error", "Google did not sign you in ("+e+").")
		return
	case q.Get("code") == "":
		a.refuse(w, r, http.StatusBadRequest, "google_error", "Google's answer carried no authorization code.")
		return
	}
	sess := &google.Session{}
	if _, err := sess.Authorize(a.google, q); err != nil {
		a.log.Warn("google sign-in: code exchange failed", slog.Any("err", err))
		a.refuse(w, r, http.StatusBadGateway, "google_unavailable", "Google could not confirm the sign-in. Try again.")
		return
	}
	user, err := a.google.FetchUser(sess)
	if err != nil {
		a.log.Warn("google sign-in: fetching the profile failed", slog.Any("err", err))
		a.refuse(w, r, http.StatusBadGateway, "google_unavailable", "Google could not confirm the sign-in. Try again.")
		return
	}
	if user.Email == "" || user.UserID == "" {
		a.refuse(w, r, http.StatusForbidden, "email_unverified", "Your Google account has no email address Switchboard can use.")
		return
	}
	if !emailVerified(user.RawData) {
		a.refuse(w, r, http.StatusForbidden, "email_unverified",
			"Google has not verified "+user.Email+", so it cannot sign you in. Verify it with Google and try again.")
		return
	}
	hd, _ := user.RawData["hd"].(string)
	a.signIn(w, r, identity{
		Method:       "google",
		Email:        user.Email,
		Name:         user.Name,
		AvatarURL:    user.AvatarURL,
		GoogleSub:    user.UserID,
		HostedDomain: hd,
	})
}

// emailVerified reads Google's verdict on the email from the profile:
// verified_email in the v2 userinfo goth fetches, email_verified in the
// OpenID Connect form.
func emailVerified(raw map[string]any) bool {
	for _, k := range []string{"verified_email", "email_verified"} {
		switch v := raw[k].(type) {
		case bool:
			if v {
				return true
			}
		case string:
			if strings.EqualFold(v, "true") {
				return true
			}
		}
	}
	return false
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
