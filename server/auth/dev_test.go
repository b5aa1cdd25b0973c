package auth_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestDevLoginNeedsLoopback(t *testing.T) {
	st := teststore.SQLite(t)
	for _, tt := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"inbox.example.com:80", false},
		{"", false},
	} {
		_, err := auth.New(auth.Options{Store: st, DevLogin: true, ListenAddr: tt.addr})
		if tt.ok && err != nil {
			t.Errorf("%q: %v", tt.addr, err)
		}
		if !tt.ok && (!errors.Is(err, auth.ErrDevLoginNotLoopback) ||
			!strings.Contains(err.Error(), "SWITCHBOARD_DEV_LOGIN") || !strings.Contains(err.Error(), "SWITCHBOARD_ADDR")) {
			t.Errorf("%q: %v, want a refusal naming SWITCHBOARD_DEV_LOGIN and SWITCHBOARD_ADDR", tt.addr, err)
		}
	}
	// Off, any address will do.
	if _, err := auth.New(auth.Options{Store: st, ListenAddr: "0.0.0.0:8080"}); err != nil {
		t.Fatal(err)
	}
}

func TestDevLogin(t *testing.T) {
	ts := newServer(t, teststore.SQLite(t), nil)

	t.Run("form", func(t *testing.T) {
		b := newBrowser(t, ts)
		resp := b.get(auth.DevPath)
		body := readBody(resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post" action="/auth/dev">`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		before := b.cookie()
		form := url.Values{"email": {unique("fay") + "@example.com"}, "name": {"Fay"}}
		resp = b.do(http.MethodPost, auth.DevPath, strings.NewReader(form.Encode()),
			"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("form sign-in: %d %s", resp.StatusCode, readBody(resp))
		}
		if b.cookie() == "" || b.cookie() == before {
			t.Fatal("no new session cookie")
		}
		s := b.session()
		if !s.SignedIn || s.Agent.Name != "Fay" || s.Workspace == nil || s.Workspace.Name != "Fay's workspace" || s.Workspace.Role != "owner" {
			t.Fatalf("session %+v", s)
		}
	})
	t.Run("json", func(t *testing.T) {
		b := newBrowser(t, ts)
		s := b.devSignIn(unique("gus")+"@example.com", "")
		if !s.SignedIn || s.Workspace == nil || s.Workspace.Name != "example.com" {
			t.Fatalf("session %+v: want a workspace named after the email's domain", s)
		}
		if who := b.whoami(); who == nil || who.AgentID != s.Agent.ID {
			t.Fatalf("principal %+v", who)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		b := newBrowser(t, ts)
		wantError(t, b.postJSON(auth.DevPath, `{"email": "not an email"}`), http.StatusBadRequest, "invalid")
		wantError(t, b.postJSON(auth.DevPath, `{"email": `), http.StatusBadRequest, "malformed_json")
		for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Proto"} {
			wantError(t, b.postJSON(auth.DevPath, `{"email": "pat@example.com"}`, h, "203.0.113.9"), http.StatusForbidden, "forbidden")
		}
		if b.session().SignedIn {
			t.Fatal("signed in after refusals")
		}
	})
	t.Run("off", func(t *testing.T) {
		off := newServer(t, ts.st, func(o *auth.Options) { o.DevLogin = false })
		b := newBrowser(t, off)
		wantError(t, b.get(auth.DevPath), http.StatusNotFound, "not_found")
		wantError(t, b.postJSON(auth.DevPath, `{"email": "pat@example.com"}`), http.StatusNotFound, "not_found")
		if s := b.session(); s.Methods.Dev {
			t.Fatal("session reports the development sign-in on")
		}
	})
}
