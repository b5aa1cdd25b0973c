package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/hub"
)

// writeAppsFile writes content to a fresh file and returns its path.
func writeAppsFile(tb testing.TB, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "apps.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestLoadAppsFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		// static adds the static app from staticEnv.
		static   bool
		wantApps []hub.App
	}{
		{
			name: "enabled omitted means enabled",
			content: `[{"id":"one","key":"key-1","secret":"secret-1"},
			            {"id":"two","key":"key-2","secret":"secret-2","enabled":false,"client_events":true}]`,
			wantApps: []hub.App{
				{ID: "one", Key: "key-1", Secret: "secret-1", Enabled: true},
				{ID: "two", Key: "key-2", Secret: "secret-2", Enabled: false, ClientEvents: true},
			},
		},
		{
			name: "every field",
			content: `[{"id":"one","key":"key-1","secret":"secret-1","enabled":true,"client_events":true,
			  "max_connections":10,"max_presence_members":50,"max_user_info_bytes":2048,
			  "max_event_bytes":20480,"client_event_rate":5,
			  "webhooks":[{"url":"https://a.example/hook","event_types":["channel_occupied","member_added"]}]}]`,
			wantApps: []hub.App{{
				ID: "one", Key: "key-1", Secret: "secret-1", Enabled: true, ClientEvents: true,
				MaxConnections: 10, MaxPresenceMembers: 50, MaxUserInfoBytes: 2048,
				MaxEventBytes: 20480, ClientEventRate: 5,
				Webhooks: []hub.Webhook{{URL: "https://a.example/hook", EventTypes: []string{"channel_occupied", "member_added"}}},
			}},
		},
		{
			name:    "static app comes first",
			content: `[{"id":"one","key":"key-1","secret":"secret-1"}]`,
			static:  true,
			wantApps: []hub.App{
				{ID: "demo", Key: "demo-key", Secret: "demo-secret", Enabled: true},
				{ID: "one", Key: "key-1", Secret: "secret-1", Enabled: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SWITCHBOARD_APPS_FILE": writeAppsFile(t, tt.content)}
			if tt.static {
				env = staticEnv(env)
			}
			// Not loopback: a file's apps must be enough on their own.
			env["SWITCHBOARD_ADDR"] = ":8080"
			cfg := mustLoad(t, env)
			if cfg.DevApp {
				t.Error("DevApp is true with apps configured")
			}
			if !reflect.DeepEqual(cfg.Apps, tt.wantApps) {
				t.Errorf("Apps\n got %+v\nwant %+v", cfg.Apps, tt.wantApps)
			}
		})
	}
}

func TestLoadAppsFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		static  bool
		// want are parts the message must hold besides the variable and path.
		want []string
	}{
		{"unknown field", `[{"id":"one","key":"key-1","secret":"secret-1","max_conections":5}]`, false, []string{`unknown field "max_conections"`}},
		{"unknown webhook field", `[{"id":"one","key":"key-1","secret":"secret-1","webhooks":[{"href":"x"}]}]`, false, []string{`unknown field "href"`}},
		{"bad JSON", "[\n  {\"id\": \"one\",}\n]", false, []string{"line 2"}},
		{"truncated", `[{"id":"one"`, false, []string{"unexpected EOF"}},
		{"wrong type", `[{"id":"one","key":"key-1","secret":"secret-1","max_connections":"ten"}]`, false, []string{"line 1", "max_connections"}},
		{"object instead of array", `{"id":"one","key":"key-1","secret":"secret-1"}`, false, []string{"want a JSON array"}},
		{"empty file", ``, false, []string{"want a JSON array"}},
		{"empty array", `[]`, false, []string{"holds no apps"}},
		{"data after the array", `[{"id":"one","key":"key-1","secret":"secret-1"}] []`, false, []string{"after the array"}},
		{"duplicate id", `[{"id":"one","key":"key-1","secret":"secret-1"},{"id":"one","key":"key-2","secret":"secret-2"}]`, false,
			[]string{`app #2: app id "one" is already used by app #1`}},
		{"duplicate key", `[{"id":"one","key":"key-1","secret":"secret-1"},{"id":"two","key":"key-1","secret":"secret-2"}]`, false,
			[]string{`app #2: app two: key "key-1" is already used`}},
		{"duplicate of the static app", `[{"id":"demo","key":"key-1","secret":"secret-1"}]`, true,
			[]string{`app id "demo" is already used by SWITCHBOARD_APP_*`}},
		{"invalid app", `[{"id":"one","key":"key-1","secret":"secret-1"},{"id":"two","key":"key-2","secret":"short"}]`, false,
			[]string{"app #2: app two: secret must be at least 8 characters"}},
		{"unknown webhook event", `[{"id":"one","key":"key-1","secret":"secret-1","webhooks":[{"url":"https://a.example","event_types":["everything"]}]}]`, false,
			[]string{`unknown event type "everything"`}},
		{"relative webhook url", `[{"id":"one","key":"key-1","secret":"secret-1","webhooks":[{"url":"/hook"}]}]`, false,
			[]string{`app one: webhook url "/hook"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeAppsFile(t, tt.content)
			env := map[string]string{"SWITCHBOARD_APPS_FILE": path}
			if tt.static {
				env = staticEnv(env)
			}
			_, err := load(t, env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, want := range append([]string{"SWITCHBOARD_APPS_FILE", path}, tt.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to hold %q", err, want)
				}
			}
		})
	}
}

func TestLoadAppsFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.json")
	_, err := load(t, map[string]string{"SWITCHBOARD_APPS_FILE": path})
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_APPS_FILE") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming SWITCHBOARD_APPS_FILE and %s", err, path)
	}
}
