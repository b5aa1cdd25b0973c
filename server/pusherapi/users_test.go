package pusherapi

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestTerminateConnections(t *testing.T) {
	// pusher-http-go v5.1.1 has no TerminateUserConnections, so these are
	// signed by hand the way pusher-http-node sends them: some libraries
	// post no body, others "{}".
	tests := []struct {
		name, user, body string
	}{
		{"no body", "7", ""},
		{"empty object body", "7", "{}"},
		{"escaped user id", "a%40b", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			status, body := e.do(t, "POST", "/apps/1001/users/"+tc.user+"/terminate_connections", nil, []byte(tc.body), appOn)
			wantJSON(t, status, body, `{}`)
			want, _ := url.PathUnescape(tc.user)
			e.hub.mu.Lock()
			defer e.hub.mu.Unlock()
			if !reflect.DeepEqual(e.hub.terminated, []string{want}) {
				t.Errorf("terminated %q, want [%q]", e.hub.terminated, want)
			}
		})
	}
}

func TestTerminateConnectionsRefusals(t *testing.T) {
	e := newEnv(t, Options{})
	status, body := e.do(t, "POST", "/apps/1001/users/"+strings.Repeat("u", 201)+"/terminate_connections", nil, nil, appOn)
	wantError(t, status, body, 400, "user id must be 1-200 bytes")
	e.hub.mu.Lock()
	defer e.hub.mu.Unlock()
	if len(e.hub.terminated) != 0 {
		t.Errorf("terminated %q after a refusal", e.hub.terminated)
	}
}
