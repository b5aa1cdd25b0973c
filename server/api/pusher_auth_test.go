package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type authReply struct {
	status int
	Auth   string `json:"auth"`
	Data   string `json:"channel_data"`
	Error  struct {
		Code string `json:"code"`
	} `json:"error"`
}

func postAuth(t testing.TB, base, token, socketID, channel string) authReply {
	t.Helper()
	form := url.Values{"socket_id": {socketID}, "channel_name": {channel}}
	req, _ := http.NewRequest("POST", base+api.PusherAuthPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := authReply{status: resp.StatusCode}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("reply %s: %v", body, err)
	}
	return r
}

func TestPusherAuth(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		srv := httptest.NewServer(api.NewPusherAuth(st, api.Options{}))
		t.Cleanup(srv.Close)
		a, b := newTenant(t, st), newTenant(t, st)
		const sock = "123.456"
		sign := func(msg string) string { return a.ws.AppKey + ":" + hub.Sign(a.ws.AppSecret, msg) }

		for _, ch := range []string{fmt.Sprintf("private-workspace-%d", a.ws.ID), fmt.Sprintf("private-agent-%d", a.agent.ID)} {
			if r := postAuth(t, srv.URL, a.token, sock, ch); r.status != 200 || r.Auth != sign(sock+":"+ch) || r.Data != "" {
				t.Errorf("%s: %+v, want the workspace's signature", ch, r)
			}
		}
		presence := fmt.Sprintf("presence-conversation-%d", a.conv.ID)
		r := postAuth(t, srv.URL, a.token, sock, presence)
		var member struct {
			UserID   string            `json:"user_id"`
			UserInfo map[string]string `json:"user_info"`
		}
		if err := json.Unmarshal([]byte(r.Data), &member); err != nil || r.status != 200 ||
			member.UserID != fmt.Sprint(a.agent.ID) || member.UserInfo["name"] != a.agent.Name || r.Auth != sign(sock+":"+presence+":"+r.Data) {
			t.Errorf("presence: %+v (member %+v, %v)", r, member, err)
		}

		refused := []struct {
			name, token, socket, channel string
			status                       int
		}{
			{"another workspace's channel", a.token, sock, fmt.Sprintf("private-workspace-%d", b.ws.ID), 403},
			{"another agent's channel", a.token, sock, fmt.Sprintf("private-agent-%d", b.agent.ID), 403},
			{"another workspace's conversation", a.token, sock, fmt.Sprintf("presence-conversation-%d", b.conv.ID), 403},
			{"no such conversation", a.token, sock, "presence-conversation-999999999", 403},
			{"leading zero", a.token, sock, fmt.Sprintf("private-workspace-0%d", a.ws.ID), 403},
			{"a channel the inbox does not sign", a.token, sock, "private-anything", 403},
			{"public channel", a.token, sock, "news", 403},
			{"bad socket id", a.token, "abc", fmt.Sprintf("private-workspace-%d", a.ws.ID), 400},
			{"no channel", a.token, sock, "", 400},
			{"no token", "", sock, fmt.Sprintf("private-workspace-%d", a.ws.ID), 401},
		}
		for _, tc := range refused {
			if r := postAuth(t, srv.URL, tc.token, tc.socket, tc.channel); r.status != tc.status || r.Auth != "" {
				t.Errorf("%s: %+v, want %d and no signature", tc.name, r, tc.status)
			}
		}
		resp, err := http.Get(srv.URL + api.PusherAuthPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 && resp.StatusCode != 405 {
			t.Errorf("GET: %d", resp.StatusCode)
		}
	})
}

// TestPusherAuthSignsForTheHub subscribes a real Pusher connection with
// what the endpoint returns.
func TestPusherAuthSignsForTheHub(t *testing.T) {
	st := teststore.SQLite(t)
	a := newTenant(t, st)
	authSrv := httptest.NewServer(api.NewPusherAuth(st, api.Options{}))
	t.Cleanup(authSrv.Close)
	apps, err := hub.NewStaticApps(hub.App{ID: a.ws.AppID, Key: a.ws.AppKey, Secret: a.ws.AppSecret, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Options{Apps: apps})
	if err != nil {
		t.Fatal(err)
	}
	hubSrv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Shutdown(context.Background())
		hubSrv.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hubSrv.URL, "http")+"/app/"+a.ws.AppKey+"?protocol=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	read := func() (string, string) {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Event, Data string }
		json.Unmarshal(msg, &f)
		return f.Event, f.Data
	}
	_, data := read()
	var est struct {
		SocketID string `json:"socket_id"`
	}
	json.Unmarshal([]byte(data), &est)
	for _, ch := range []string{fmt.Sprintf("private-workspace-%d", a.ws.ID), fmt.Sprintf("presence-conversation-%d", a.conv.ID)} {
		r := postAuth(t, authSrv.URL, a.token, est.SocketID, ch)
		sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": ch, "auth": r.Auth, "channel_data": r.Data}})
		if err := ws.Write(ctx, websocket.MessageText, sub); err != nil {
			t.Fatal(err)
		}
		if ev, data := read(); ev != "pusher_internal:subscription_succeeded" {
			t.Errorf("%s: %s %s", ch, ev, data)
		}
	}
}
