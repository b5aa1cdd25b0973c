package api_test

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
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// newSessionServer serves the API and both Pusher endpoints as main does:
// behind sign-in's Protect, with browser sessions resolved by
// api.Options.Sessions, and sign-in (development sign-in on) at /auth/.
func newSessionServer(t testing.TB, st store.Store) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a, err := auth.New(auth.Options{Store: st, PublicURL: srv.URL, DevLogin: true, ListenAddr: srv.Listener.Addr().String()})
	must(t, err)
	opts := api.Options{Sessions: a}
	mux.Handle("/auth/", a.Handler())
	mux.Handle(api.Prefix+"/", a.Protect(api.New(st, opts)))
	mux.Handle(api.PusherAuthPath, a.Protect(api.NewPusherAuth(st, opts)))
	mux.Handle(api.PusherUserAuthPath, a.Protect(api.NewPusherUserAuth(st, opts)))
	return srv.URL
}

// browser is a signed-in browser: the API's client with a cookie jar and
// a browser's same-origin headers on every request.
type browser struct {
	client
	http *http.Client
}

// signIn signs a browser in as email through the development sign-in.
func signIn(t testing.TB, base, email string) browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	b := browser{client: client{t: t, base: base}, http: &http.Client{Jar: jar}}
	body, _ := json.Marshal(map[string]string{"email": email})
	b.do("POST", auth.DevPath, string(body)).ok(t, http.StatusOK, nil)
	return b
}

// do sends a request with the browser's cookies, from its own origin
// unless header says otherwise.
func (b browser) do(method, path, body string, header ...string) reply {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx(b.t), method, b.base+path, rd)
	must(b.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.http.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(b.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// form posts a form, as pusher-js does.
func (b browser) form(path string, values url.Values, header ...string) reply {
	b.t.Helper()
	return b.do("POST", path, values.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
}

var crossSite = []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}

// TestSessionAuthenticatesREST calls the REST API with a browser session
// instead of a token: it acts as the agent in the session's workspace with
// their membership role, cross-site writes with the cookie are refused,
// and bearer-token requests are untouched by either.
func TestSessionAuthenticatesREST(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base := newSessionServer(t, st)
		a := newTenant(t, st)
		owner := signIn(t, base, a.agent.Email)

		var me struct {
			Workspace struct{ ID int64 } `json:"workspace"`
			Agent     struct{ ID int64 } `json:"agent"`
			Role      string             `json:"role"`
		}
		owner.do("GET", "/api/v1/me", "").ok(t, http.StatusOK, &me)
		if me.Workspace.ID != a.ws.ID || me.Agent.ID != a.agent.ID || me.Role != "owner" {
			t.Fatalf("me = %+v, want the owner in their workspace", me)
		}

		send := func(b interface {
			do(string, string, string, ...string) reply
		}, body string, header ...string) reply {
			return b.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), fmt.Sprintf(`{"body": %q}`, body), header...)
		}
		send(owner, "from the session").ok(t, http.StatusCreated, nil)
		send(owner, "forged", crossSite...).wantError(t, http.StatusForbidden, "cross_origin", "")
		send(owner, "forged", "Origin", "https://evil.example", "Sec-Fetch-Site", "").wantError(t, http.StatusForbidden, "cross_origin", "")

		// A token, from anywhere, is not held to the same-origin rule, and
		// decides over a cookie sent along.
		bearer := client{t: t, base: base, token: a.token}
		send(bearer, "from the token", crossSite...).ok(t, http.StatusCreated, nil)
		b := newTenant(t, st)
		other := signIn(t, base, b.agent.Email)
		other.do("GET", "/api/v1/me", "", "Authorization", "Bearer "+a.token).ok(t, http.StatusOK, &me)
		if me.Workspace.ID != a.ws.ID {
			t.Fatalf("token with another session's cookie acted in workspace %d, want the token's %d", me.Workspace.ID, a.ws.ID)
		}
		other.do("GET", "/api/v1/me", "", "Authorization", "Bearer sbt_wrong").wantError(t, http.StatusUnauthorized, "unauthenticated", "")

		var msgs struct {
			Messages []struct{ Body string } `json:"messages"`
		}
		owner.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), "").ok(t, http.StatusOK, &msgs)
		for _, m := range msgs.Messages {
			if m.Body == "forged" {
				t.Fatal("a cross-site request with the cookie posted a message")
			}
		}

		// The session cannot reach another workspace's rows.
		owner.do("GET", fmt.Sprintf("/api/v1/conversations/%d", b.conv.ID), "").wantError(t, http.StatusNotFound, "not_found", "")

		// The role is the membership's: an agent may not manage labels.
		agentEmail := unique("agent") + "@example.com"
		_, err := st.CreateAgent(ctx(t), a.ws.ID, store.NewAgent{Email: agentEmail, Role: store.RoleAgent})
		must(t, err)
		agent := signIn(t, base, agentEmail)
		agent.do("POST", "/api/v1/labels", `{"name": "vip"}`).wantError(t, http.StatusForbidden, "forbidden", "")
		owner.do("POST", "/api/v1/labels", `{"name": "vip"}`).ok(t, http.StatusCreated, nil)

		// Signed out, the cookie is nobody.
		owner.do("POST", auth.LogoutPath, "").ok(t, http.StatusNoContent, nil)
		owner.do("GET", "/api/v1/me", "").wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		client{t: t, base: base}.do("GET", "/api/v1/me", "").wantError(t, http.StatusUnauthorized, "unauthenticated", "")
	})
}

type userAuthReply struct {
	Auth     string `json:"auth"`
	UserData string `json:"user_data"`
}

// TestSessionPusherAuth signs channels and a user sign-in for a browser
// session and for a token, and checks each signature with the hub's own
// signing.
func TestSessionPusherAuth(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base := newSessionServer(t, st)
		a, b := newTenant(t, st), newTenant(t, st)
		_, err := st.UpsertAccount(ctx(t), store.NewAccount{Email: a.agent.Email, AvatarURL: "https://avatars.example/olive.png"})
		must(t, err)
		sess := signIn(t, base, a.agent.Email)
		const sock = "1234.5678"
		sign := func(msg string) string { return a.ws.AppKey + ":" + hub.Sign(a.ws.AppSecret, msg) }

		ch := fmt.Sprintf("private-workspace-%d", a.ws.ID)
		var r authReply
		sess.form(api.PusherAuthPath, url.Values{"socket_id": {sock}, "channel_name": {ch}}).ok(t, http.StatusOK, &r)
		if r.Auth != sign(sock+":"+ch) {
			t.Fatalf("%s: auth %q, want the workspace's signature", ch, r.Auth)
		}
		presence := fmt.Sprintf("presence-conversation-%d", a.conv.ID)
		sess.form(api.PusherAuthPath, url.Values{"socket_id": {sock}, "channel_name": {presence}}).ok(t, http.StatusOK, &r)
		var member struct {
			UserID   string            `json:"user_id"`
			UserInfo map[string]string `json:"user_info"`
		}
		must(t, json.Unmarshal([]byte(r.Data), &member))
		if r.Auth != sign(sock+":"+presence+":"+r.Data) || member.UserID != fmt.Sprint(a.agent.ID) ||
			member.UserInfo["name"] != a.agent.Name || member.UserInfo["avatar_url"] != "https://avatars.example/olive.png" {
			t.Fatalf("presence: %+v, member %+v", r, member)
		}
		sess.form(api.PusherAuthPath, url.Values{"socket_id": {sock}, "channel_name": {fmt.Sprintf("private-workspace-%d", b.ws.ID)}}).
			wantError(t, http.StatusForbidden, "forbidden", "channel_name")
		sess.form(api.PusherAuthPath, url.Values{"socket_id": {sock}, "channel_name": {ch}}, crossSite...).
			wantError(t, http.StatusForbidden, "cross_origin", "")

		// User authentication, for the session and for the token alike.
		for name, do := range map[string]func(url.Values, ...string) reply{
			"session": func(v url.Values, h ...string) reply { return sess.form(api.PusherUserAuthPath, v, h...) },
			"token": func(v url.Values, h ...string) reply {
				return client{t: t, base: base, token: a.token}.do("POST", api.PusherUserAuthPath, v.Encode(),
					append([]string{"Content-Type", "application/x-www-form-urlencoded"}, h...)...)
			},
		} {
			var u userAuthReply
			do(url.Values{"socket_id": {sock}}).ok(t, http.StatusOK, &u)
			if u.Auth != sign(sock+"::user::"+u.UserData) {
				t.Errorf("%s: auth %q does not sign %q", name, u.Auth, u.UserData)
			}
			var user struct {
				ID       string            `json:"id"`
				UserInfo map[string]string `json:"user_info"`
			}
			must(t, json.Unmarshal([]byte(u.UserData), &user))
			if user.ID != fmt.Sprint(a.agent.ID) || user.UserInfo["name"] != a.agent.Name || user.UserInfo["avatar_url"] != "https://avatars.example/olive.png" {
				t.Errorf("%s: user_data %s", name, u.UserData)
			}
			do(url.Values{"socket_id": {"nope"}}).wantError(t, http.StatusBadRequest, "invalid", "socket_id")
		}
		sess.form(api.PusherUserAuthPath, url.Values{"socket_id": {sock}}, crossSite...).wantError(t, http.StatusForbidden, "cross_origin", "")
		client{t: t, base: base}.do("POST", api.PusherUserAuthPath, "socket_id="+sock, "Content-Type", "application/x-www-form-urlencoded").
			wantError(t, http.StatusUnauthorized, "unauthenticated", "")
		sess.do("GET", api.PusherUserAuthPath, "").wantError(t, http.StatusMethodNotAllowed, "method_not_allowed", "")
	})
}

// TestSessionSignsInToTheHub takes what the endpoints answer a browser
// session to a real Pusher connection: the private workspace channel
// subscribes and pusher:signin succeeds.
func TestSessionSignsInToTheHub(t *testing.T) {
	st := teststore.SQLite(t)
	base := newSessionServer(t, st)
	a := newTenant(t, st)
	sess := signIn(t, base, a.agent.Email)

	apps, err := hub.NewStaticApps(hub.App{ID: a.ws.AppID, Key: a.ws.AppKey, Secret: a.ws.AppSecret, Enabled: true})
	must(t, err)
	h, err := hub.New(hub.Options{Apps: apps})
	must(t, err)
	hubSrv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Shutdown(context.Background())
		hubSrv.Close()
	})
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(c, "ws"+strings.TrimPrefix(hubSrv.URL, "http")+"/app/"+a.ws.AppKey+"?protocol=7", nil)
	must(t, err)
	defer ws.CloseNow()
	read := func() (string, string) {
		_, msg, err := ws.Read(c)
		must(t, err)
		var f struct{ Event, Data string }
		json.Unmarshal(msg, &f)
		return f.Event, f.Data
	}
	write := func(v any) {
		b, _ := json.Marshal(v)
		must(t, ws.Write(c, websocket.MessageText, b))
	}
	_, data := read()
	var est struct {
		SocketID string `json:"socket_id"`
	}
	must(t, json.Unmarshal([]byte(data), &est))

	ch := fmt.Sprintf("private-workspace-%d", a.ws.ID)
	var r authReply
	sess.form(api.PusherAuthPath, url.Values{"socket_id": {est.SocketID}, "channel_name": {ch}}).ok(t, http.StatusOK, &r)
	write(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch, "auth": r.Auth}})
	if ev, data := read(); ev != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe %s: %s %s", ch, ev, data)
	}

	var u userAuthReply
	sess.form(api.PusherUserAuthPath, url.Values{"socket_id": {est.SocketID}}).ok(t, http.StatusOK, &u)
	write(map[string]any{"event": "pusher:signin", "data": map[string]string{"auth": u.Auth, "user_data": u.UserData}})
	if ev, data := read(); ev != "pusher:signin_success" {
		t.Fatalf("signin: %s %s", ev, data)
	}
}
