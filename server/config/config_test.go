package config

import (
	"bytes"
	"errors"
	"flag"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
)

// load runs Load with a map-backed environment, never the process's own.
func load(tb testing.TB, env map[string]string, args ...string) (*Config, error) {
	tb.Helper()
	return Load(args, func(k string) string { return env[k] })
}

// mustLoad is load for cases that must succeed.
func mustLoad(tb testing.TB, env map[string]string, args ...string) *Config {
	tb.Helper()
	cfg, err := load(tb, env, args...)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return cfg
}

// staticEnv configures a valid static app, so cases about other settings do
// not fall back to the development app.
func staticEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"SWITCHBOARD_APP_ID":     "demo",
		"SWITCHBOARD_APP_KEY":    "demo-key",
		"SWITCHBOARD_APP_SECRET": "demo-secret",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// defaults is what Load yields for staticEnv(nil) and no flags.
func defaults() Config {
	return Config{
		Addr:                     "127.0.0.1:8080",
		LogLevel:                 slog.LevelInfo,
		LogFormat:                "text",
		AppID:                    "demo",
		AppKey:                   "demo-key",
		AppSecret:                "demo-secret",
		Apps:                     []hub.App{{ID: "demo", Key: "demo-key", Secret: "demo-secret", Enabled: true}},
		ActivityTimeout:          120 * time.Second,
		PongTimeout:              30 * time.Second,
		WriteTimeout:             10 * time.Second,
		ShutdownTimeout:          10 * time.Second,
		MaxMessageBytes:          32768,
		MaxChannelsPerConnection: 100,
		SendQueueFrames:          512,
		MaxRequestBytes:          1 << 20,
		WebhookBatchInterval:     250 * time.Millisecond,
		WebhookMaxAttempts:       5,
		RedisPrefix:              "switchboard",
		ClusterHeartbeat:         5 * time.Second,
		SQLitePath:               "switchboard.db",
		SessionLifetime:          336 * time.Hour,
		SessionIdleTimeout:       72 * time.Hour,
	}
}

// withoutSources drops the bookkeeping Load keeps for error messages.
func withoutSources(c *Config) Config {
	out := *c
	out.appSources = nil
	return out
}

func TestLoadDefaultsWithNothingSet(t *testing.T) {
	cfg := mustLoad(t, nil)
	want := defaults()
	want.AppID, want.AppKey, want.AppSecret = "", "", ""
	want.Apps = []hub.App{DevelopmentApp()}
	want.DevApp = true
	if got := withoutSources(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestLoadSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(*Config)
	}{
		{name: "static app only", want: func(*Config) {}},
		{
			name: "every setting from the environment",
			env: map[string]string{
				"SWITCHBOARD_ADDR":                        "0.0.0.0:9000",
				"SWITCHBOARD_LOG_LEVEL":                   "DEBUG",
				"SWITCHBOARD_LOG_FORMAT":                  "json",
				"SWITCHBOARD_APP_CLIENT_EVENTS":           "true",
				"SWITCHBOARD_APP_WEBHOOK_URLS":            " https://a.example/hook, http://b.example/x ,",
				"SWITCHBOARD_APP_MAX_CONNECTIONS":         "50",
				"SWITCHBOARD_ACTIVITY_TIMEOUT":            "1m",
				"SWITCHBOARD_PONG_TIMEOUT":                "5s",
				"SWITCHBOARD_WRITE_TIMEOUT":               "2s",
				"SWITCHBOARD_SHUTDOWN_TIMEOUT":            "1m30s",
				"SWITCHBOARD_MAX_CONNECTIONS":             "10000",
				"SWITCHBOARD_MAX_MESSAGE_BYTES":           "65536",
				"SWITCHBOARD_MAX_CHANNELS_PER_CONNECTION": "20",
				"SWITCHBOARD_SEND_QUEUE_FRAMES":           "64",
				"SWITCHBOARD_MAX_REQUEST_BYTES":           "2048",
				"SWITCHBOARD_WEBHOOK_BATCH_INTERVAL":      "1s",
				"SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS":        "3",
				"SWITCHBOARD_REDIS_URL":                   "redis://localhost:6379/0",
				"SWITCHBOARD_DATABASE_URL":                "postgres://u:p@db/switchboard",
				"SWITCHBOARD_PUBLIC_URL":                  "https://inbox.example.com/",
				"SWITCHBOARD_TRUST_PROXY":                 "true",
				"SWITCHBOARD_GOOGLE_CLIENT_ID":            "123-abc.apps.googleusercontent.com",
				"SWITCHBOARD_GOOGLE_CLIENT_SECRET":        "GOCSPX-secret",
				"SWITCHBOARD_SESSION_LIFETIME":            "24h",
				"SWITCHBOARD_SESSION_IDLE_TIMEOUT":        "0s",
			},
			want: func(c *Config) {
				c.Addr = "0.0.0.0:9000"
				c.LogLevel = slog.LevelDebug
				c.LogFormat = "json"
				c.AppClientEvents = true
				c.AppWebhookURLs = []string{"https://a.example/hook", "http://b.example/x"}
				c.AppMaxConnections = 50
				c.Apps[0].ClientEvents = true
				c.Apps[0].MaxConnections = 50
				c.Apps[0].Webhooks = []hub.Webhook{{URL: "https://a.example/hook"}, {URL: "http://b.example/x"}}
				c.ActivityTimeout = time.Minute
				c.PongTimeout = 5 * time.Second
				c.WriteTimeout = 2 * time.Second
				c.ShutdownTimeout = 90 * time.Second
				c.MaxConnections = 10000
				c.MaxMessageBytes = 65536
				c.MaxChannelsPerConnection = 20
				c.SendQueueFrames = 64
				c.MaxRequestBytes = 2048
				c.WebhookBatchInterval = time.Second
				c.WebhookMaxAttempts = 3
				c.RedisURL = "redis://localhost:6379/0"
				c.DatabaseURL = "postgres://u:p@db/switchboard"
				c.PublicURL = "https://inbox.example.com"
				c.TrustProxy = true
				c.GoogleClientID = "123-abc.apps.googleusercontent.com"
				c.GoogleClientSecret = "GOCSPX-secret"
				c.SessionLifetime = 24 * time.Hour
				c.SessionIdleTimeout = 0
			},
		},
		{
			name: "development sign-in on loopback",
			env:  map[string]string{"SWITCHBOARD_DEV_LOGIN": "1", "SWITCHBOARD_ADDR": "localhost:8080"},
			want: func(c *Config) {
				c.DevLogin = true
				c.Addr = "localhost:8080"
			},
		},
		{
			name: "flag overrides environment",
			env:  map[string]string{"SWITCHBOARD_PONG_TIMEOUT": "5s", "SWITCHBOARD_LOG_LEVEL": "error"},
			args: []string{"--pong-timeout=7s", "--log-level", "warn"},
			want: func(c *Config) {
				c.PongTimeout = 7 * time.Second
				c.LogLevel = slog.LevelWarn
			},
		},
		{
			name: "flag overrides default",
			args: []string{"-addr=[::1]:9000", "--max-request-bytes=4096"},
			want: func(c *Config) {
				c.Addr = "[::1]:9000"
				c.MaxRequestBytes = 4096
			},
		},
		{
			name: "explicitly empty flag overrides environment",
			env:  map[string]string{"SWITCHBOARD_APP_WEBHOOK_URLS": "https://a.example/hook"},
			args: []string{"--app-webhook-urls="},
			want: func(*Config) {},
		},
		{
			name: "empty variable counts as unset",
			env:  map[string]string{"SWITCHBOARD_PONG_TIMEOUT": "", "SWITCHBOARD_ADDR": ""},
			want: func(*Config) {},
		},
		{
			name: "bare bool flag",
			args: []string{"--app-client-events"},
			want: func(c *Config) {
				c.AppClientEvents = true
				c.Apps[0].ClientEvents = true
			},
		},
		{
			name: "bool flag false overrides environment",
			env:  map[string]string{"SWITCHBOARD_APP_CLIENT_EVENTS": "yes"},
			args: []string{"--app-client-events=false"},
			want: func(*Config) {},
		},
		{
			name: "static app from flags",
			env:  map[string]string{"SWITCHBOARD_APP_ID": "", "SWITCHBOARD_APP_KEY": "", "SWITCHBOARD_APP_SECRET": ""},
			args: []string{"--app-id", "demo", "--app-key", "demo-key", "--app-secret", "demo-secret"},
			want: func(*Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, staticEnv(tt.env), tt.args...)
			want := defaults()
			tt.want(&want)
			if got := withoutSources(cfg); !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLoadInvalidValueNamesVariable(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantVar string
		// wantAlso is another part the message must hold.
		wantAlso string
	}{
		{"addr without port", map[string]string{"SWITCHBOARD_ADDR": "localhost"}, nil, "SWITCHBOARD_ADDR", "host:port"},
		{"addr bad port", map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:http"}, nil, "SWITCHBOARD_ADDR", "port"},
		{"addr port too large", map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:70000"}, nil, "SWITCHBOARD_ADDR", "70000"},
		{"log level", map[string]string{"SWITCHBOARD_LOG_LEVEL": "verbose"}, nil, "SWITCHBOARD_LOG_LEVEL", `"verbose"`},
		{"log format", map[string]string{"SWITCHBOARD_LOG_FORMAT": "xml"}, nil, "SWITCHBOARD_LOG_FORMAT", `"xml"`},
		{"client events", map[string]string{"SWITCHBOARD_APP_CLIENT_EVENTS": "maybe"}, nil, "SWITCHBOARD_APP_CLIENT_EVENTS", `"maybe"`},
		{"webhook url relative", map[string]string{"SWITCHBOARD_APP_WEBHOOK_URLS": "/hook"}, nil, "SWITCHBOARD_APP_WEBHOOK_URLS", `"/hook"`},
		{"webhook url scheme", map[string]string{"SWITCHBOARD_APP_WEBHOOK_URLS": "ftp://a.example/x"}, nil, "SWITCHBOARD_APP_WEBHOOK_URLS", "http"},
		{"app max connections not a number", map[string]string{"SWITCHBOARD_APP_MAX_CONNECTIONS": "lots"}, nil, "SWITCHBOARD_APP_MAX_CONNECTIONS", `"lots"`},
		{"app max connections negative", map[string]string{"SWITCHBOARD_APP_MAX_CONNECTIONS": "-1"}, nil, "SWITCHBOARD_APP_MAX_CONNECTIONS", "-1"},
		{"activity timeout without unit", map[string]string{"SWITCHBOARD_ACTIVITY_TIMEOUT": "120"}, nil, "SWITCHBOARD_ACTIVITY_TIMEOUT", "unit"},
		{"activity timeout too short", map[string]string{"SWITCHBOARD_ACTIVITY_TIMEOUT": "500ms"}, nil, "SWITCHBOARD_ACTIVITY_TIMEOUT", "must be between 1s and 1h, got 500ms"},
		{"activity timeout too long", map[string]string{"SWITCHBOARD_ACTIVITY_TIMEOUT": "2h"}, nil, "SWITCHBOARD_ACTIVITY_TIMEOUT", "got 2h"},
		{"activity timeout fractional", map[string]string{"SWITCHBOARD_ACTIVITY_TIMEOUT": "1500ms"}, nil, "SWITCHBOARD_ACTIVITY_TIMEOUT", "whole seconds"},
		{"pong timeout zero", map[string]string{"SWITCHBOARD_PONG_TIMEOUT": "0s"}, nil, "SWITCHBOARD_PONG_TIMEOUT", "SWITCHBOARD_PONG_TIMEOUT: must be between 1s and 10m, got 0s"},
		{"pong timeout garbage", map[string]string{"SWITCHBOARD_PONG_TIMEOUT": "soon"}, nil, "SWITCHBOARD_PONG_TIMEOUT", `"soon"`},
		{"write timeout", map[string]string{"SWITCHBOARD_WRITE_TIMEOUT": "1h"}, nil, "SWITCHBOARD_WRITE_TIMEOUT", "got 1h"},
		{"shutdown timeout", map[string]string{"SWITCHBOARD_SHUTDOWN_TIMEOUT": "-1s"}, nil, "SWITCHBOARD_SHUTDOWN_TIMEOUT", "-1s"},
		{"max connections", map[string]string{"SWITCHBOARD_MAX_CONNECTIONS": "-5"}, nil, "SWITCHBOARD_MAX_CONNECTIONS", "-5"},
		{"max message bytes too small", map[string]string{"SWITCHBOARD_MAX_MESSAGE_BYTES": "512"}, nil, "SWITCHBOARD_MAX_MESSAGE_BYTES", "512"},
		{"max message bytes with unit", map[string]string{"SWITCHBOARD_MAX_MESSAGE_BYTES": "32KB"}, nil, "SWITCHBOARD_MAX_MESSAGE_BYTES", `"32KB"`},
		{"max channels zero", map[string]string{"SWITCHBOARD_MAX_CHANNELS_PER_CONNECTION": "0"}, nil, "SWITCHBOARD_MAX_CHANNELS_PER_CONNECTION", "0"},
		{"send queue too small", map[string]string{"SWITCHBOARD_SEND_QUEUE_FRAMES": "8"}, nil, "SWITCHBOARD_SEND_QUEUE_FRAMES", "between 16"},
		{"max request bytes too small", map[string]string{"SWITCHBOARD_MAX_REQUEST_BYTES": "100"}, nil, "SWITCHBOARD_MAX_REQUEST_BYTES", "100"},
		{"max request bytes garbage", map[string]string{"SWITCHBOARD_MAX_REQUEST_BYTES": "1MiB"}, nil, "SWITCHBOARD_MAX_REQUEST_BYTES", `"1MiB"`},
		{"webhook batch interval", map[string]string{"SWITCHBOARD_WEBHOOK_BATCH_INTERVAL": "0s"}, nil, "SWITCHBOARD_WEBHOOK_BATCH_INTERVAL", "0s"},
		{"webhook max attempts", map[string]string{"SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS": "0"}, nil, "SWITCHBOARD_WEBHOOK_MAX_ATTEMPTS", "0"},
		{"bad value from a flag names its flag", nil, []string{"--pong-timeout=soon"}, "SWITCHBOARD_PONG_TIMEOUT", "--pong-timeout"},
		{"out of range flag", nil, []string{"--send-queue-frames=1"}, "SWITCHBOARD_SEND_QUEUE_FRAMES", "got 1"},
		{"static app secret too short", map[string]string{"SWITCHBOARD_APP_SECRET": "short"}, nil, "SWITCHBOARD_APP_*", "secret"},
		{"static app id bad characters", map[string]string{"SWITCHBOARD_APP_ID": "my app"}, nil, "SWITCHBOARD_APP_*", `"my app"`},
		{"public url not absolute", map[string]string{"SWITCHBOARD_PUBLIC_URL": "inbox.example.com"}, nil, "SWITCHBOARD_PUBLIC_URL", `"inbox.example.com"`},
		{"public url with a path", map[string]string{"SWITCHBOARD_PUBLIC_URL": "https://example.com/inbox"}, nil, "SWITCHBOARD_PUBLIC_URL", "no path"},
		{"trust proxy", map[string]string{"SWITCHBOARD_TRUST_PROXY": "sometimes"}, nil, "SWITCHBOARD_TRUST_PROXY", `"sometimes"`},
		{"google id without secret", map[string]string{"SWITCHBOARD_GOOGLE_CLIENT_ID": "x", "SWITCHBOARD_PUBLIC_URL": "https://a.example"}, nil, "SWITCHBOARD_GOOGLE_CLIENT_SECRET", "SWITCHBOARD_GOOGLE_CLIENT_ID"},
		{"google secret without id", map[string]string{"SWITCHBOARD_GOOGLE_CLIENT_SECRET": "x"}, nil, "SWITCHBOARD_GOOGLE_CLIENT_ID: required", "SWITCHBOARD_GOOGLE_CLIENT_SECRET"},
		{"google without public url", map[string]string{"SWITCHBOARD_GOOGLE_CLIENT_ID": "x", "SWITCHBOARD_GOOGLE_CLIENT_SECRET": "y"}, nil, "SWITCHBOARD_PUBLIC_URL", "/auth/google/callback"},
		{"session lifetime too short", map[string]string{"SWITCHBOARD_SESSION_LIFETIME": "1m"}, nil, "SWITCHBOARD_SESSION_LIFETIME", "got 1m"},
		{"session idle timeout beyond lifetime", map[string]string{"SWITCHBOARD_SESSION_LIFETIME": "1h", "SWITCHBOARD_SESSION_IDLE_TIMEOUT": "2h"}, nil, "SWITCHBOARD_SESSION_IDLE_TIMEOUT", "between 1m and 1h"},
		{"session idle timeout too short", map[string]string{"SWITCHBOARD_SESSION_IDLE_TIMEOUT": "30s"}, nil, "SWITCHBOARD_SESSION_IDLE_TIMEOUT", "got 30s"},
		{"dev login off loopback", map[string]string{"SWITCHBOARD_DEV_LOGIN": "true", "SWITCHBOARD_ADDR": "0.0.0.0:8080"}, nil, "SWITCHBOARD_DEV_LOGIN", "SWITCHBOARD_ADDR"},
		{"dev login on every interface", map[string]string{"SWITCHBOARD_DEV_LOGIN": "true", "SWITCHBOARD_ADDR": ":8080"}, nil, "SWITCHBOARD_DEV_LOGIN", "loopback"},
		{"dev login behind a proxy", map[string]string{"SWITCHBOARD_DEV_LOGIN": "true", "SWITCHBOARD_TRUST_PROXY": "true"}, nil, "SWITCHBOARD_DEV_LOGIN", "SWITCHBOARD_TRUST_PROXY"},
		{"dev login not a bool", map[string]string{"SWITCHBOARD_DEV_LOGIN": "please"}, nil, "SWITCHBOARD_DEV_LOGIN", `"please"`},
		{"secret key too short", map[string]string{"SWITCHBOARD_SECRET_KEY": "c2hvcnQta2V5LXNob3J0LWtleQ=="}, nil, "SWITCHBOARD_SECRET_KEY", "want 32 bytes, got 19"},
		{"secret key neither hex nor base64", map[string]string{"SWITCHBOARD_SECRET_KEY": "not a key!"}, nil, "SWITCHBOARD_SECRET_KEY", "64 hex digits or base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, staticEnv(tt.env), tt.args...)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantVar) || !strings.Contains(err.Error(), tt.wantAlso) {
				t.Errorf("error %q\nwant it to name %s and hold %q", err, tt.wantVar, tt.wantAlso)
			}
		})
	}
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	_, err := load(t, staticEnv(map[string]string{
		"SWITCHBOARD_PONG_TIMEOUT":      "0s",
		"SWITCHBOARD_SEND_QUEUE_FRAMES": "1",
	}))
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	for _, name := range []string{"SWITCHBOARD_PONG_TIMEOUT", "SWITCHBOARD_SEND_QUEUE_FRAMES"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestLoadStaticAppPartial(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantMissing []string
	}{
		{"id only", map[string]string{"SWITCHBOARD_APP_ID": "demo"}, []string{"SWITCHBOARD_APP_KEY", "SWITCHBOARD_APP_SECRET"}},
		{"key only", map[string]string{"SWITCHBOARD_APP_KEY": "k"}, []string{"SWITCHBOARD_APP_ID", "SWITCHBOARD_APP_SECRET"}},
		{"no secret", map[string]string{"SWITCHBOARD_APP_ID": "demo", "SWITCHBOARD_APP_KEY": "demo-key"}, []string{"SWITCHBOARD_APP_SECRET"}},
		{"no id", map[string]string{"SWITCHBOARD_APP_KEY": "demo-key", "SWITCHBOARD_APP_SECRET": "demo-secret"}, []string{"SWITCHBOARD_APP_ID"}},
		{"no key", map[string]string{"SWITCHBOARD_APP_ID": "demo", "SWITCHBOARD_APP_SECRET": "demo-secret"}, []string{"SWITCHBOARD_APP_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			// The missing names lead the message, before the explanation.
			lead, _, _ := strings.Cut(err.Error(), ": ")
			if lead != strings.Join(tt.wantMissing, ", ") {
				t.Errorf("error %q\nwant it to start with %s", err, strings.Join(tt.wantMissing, ", "))
			}
		})
	}
}

func TestLoadStaticAppSettingsWithoutApp(t *testing.T) {
	for _, env := range []map[string]string{
		{"SWITCHBOARD_APP_CLIENT_EVENTS": "true"},
		{"SWITCHBOARD_APP_WEBHOOK_URLS": "https://a.example/hook"},
		{"SWITCHBOARD_APP_MAX_CONNECTIONS": "5"},
	} {
		_, err := load(t, env)
		if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_APP_ID") {
			t.Errorf("env %v: error %v, want one asking for SWITCHBOARD_APP_ID", env, err)
		}
	}
}

func TestLoadDevApp(t *testing.T) {
	tests := []struct {
		addr    string
		wantDev bool
	}{
		{"127.0.0.1:8080", true},
		{"127.1.2.3:8080", true},
		{"[::1]:9000", true},
		{"localhost:8080", true},
		{"LOCALHOST:0", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"10.1.2.3:80", false},
		{"example.com:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			cfg, err := load(t, map[string]string{"SWITCHBOARD_ADDR": tt.addr})
			if !tt.wantDev {
				if err == nil {
					t.Fatalf("Load succeeded with apps %+v, want a refusal", cfg.Apps)
				}
				for _, want := range []string{"SWITCHBOARD_APP_ID", "SWITCHBOARD_APP_KEY", "SWITCHBOARD_APP_SECRET", "SWITCHBOARD_APPS_FILE"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %s", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !cfg.DevApp || !reflect.DeepEqual(cfg.Apps, []hub.App{DevelopmentApp()}) {
				t.Errorf("DevApp %v, Apps %+v; want the development app only", cfg.DevApp, cfg.Apps)
			}
		})
	}
}

func TestLoadConfiguredAppMeansNoDevApp(t *testing.T) {
	cfg := mustLoad(t, staticEnv(nil))
	if cfg.DevApp || len(cfg.Apps) != 1 || cfg.Apps[0].ID != "demo" {
		t.Errorf("DevApp %v, Apps %+v; want the static app only", cfg.DevApp, cfg.Apps)
	}
}

func TestLoadCommandLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
		is   error
	}{
		{name: "short help", args: []string{"-h"}, is: flag.ErrHelp},
		{name: "long help", args: []string{"--help"}, is: flag.ErrHelp},
		{name: "unknown flag", args: []string{"--adress=:80"}, want: "adress"},
		{name: "positional argument", args: []string{"127.0.0.1:80"}, want: `unexpected argument "127.0.0.1:80"`},
		{name: "missing flag value", args: []string{"--addr"}, want: "addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, staticEnv(nil), tt.args...)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to hold %q", err, tt.want)
			}
		})
	}
}

func TestValidateHandBuiltConfig(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"no app", func(c *Config) { c.Apps = nil; c.AppID, c.AppKey, c.AppSecret = "", "", "" }, "no app configured"},
		{"invalid app without source", func(c *Config) { c.Apps = append(c.Apps, hub.App{ID: "x", Key: "y", Secret: "z"}) }, "app #2: app x: secret"},
		{"duplicate id", func(c *Config) {
			c.Apps = append(c.Apps, hub.App{ID: "demo", Key: "other", Secret: "secret-2"})
		}, `app #2: app id "demo" is already used by app #1`},
		{"dev app off loopback", func(c *Config) {
			c.Addr = "0.0.0.0:8080"
			c.AppID, c.AppKey, c.AppSecret = "", "", ""
			c.Apps, c.DevApp = []hub.App{DevelopmentApp()}, true
		}, "SWITCHBOARD_ADDR: the development app is only served on a loopback address"},
		{"log format", func(c *Config) { c.LogFormat = "" }, "SWITCHBOARD_LOG_FORMAT"},
		{"postgres url", func(c *Config) { c.DatabaseURL = "postgres://u@127.0.0.1:5432/db" }, ""},
		{"database url not postgres", func(c *Config) { c.DatabaseURL = "mysql://u@host/db" }, "SWITCHBOARD_DATABASE_URL: want a postgres:// or postgresql:// URL"},
		{"redis url not redis", func(c *Config) { c.RedisURL = "http://cache:6379" }, "SWITCHBOARD_REDIS_URL: want a redis://, rediss:// or unix:// URL"},
		{"redis prefix with a brace", func(c *Config) { c.RedisPrefix = "a{b}" }, "SWITCHBOARD_REDIS_PREFIX: must be non-empty"},
		{"cluster heartbeat too short", func(c *Config) { c.ClusterHeartbeat = time.Millisecond }, "SWITCHBOARD_CLUSTER_HEARTBEAT"},
		{"no sqlite path without database url", func(c *Config) { c.SQLitePath = "" }, "SWITCHBOARD_SQLITE_PATH: must not be empty"},
		{"no sqlite path with database url", func(c *Config) { c.SQLitePath, c.DatabaseURL = "", "postgresql://h/db" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults()
			tt.modify(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: %v, want an error holding %q", err, tt.want)
			}
		})
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	cfg := mustLoad(t, staticEnv(map[string]string{
		"SWITCHBOARD_DATABASE_URL":         "postgres://user:hunter2@db/switchboard",
		"SWITCHBOARD_REDIS_URL":            "redis://:hunter3@cache:6379",
		"SWITCHBOARD_PUBLIC_URL":           "https://inbox.example.com",
		"SWITCHBOARD_GOOGLE_CLIENT_ID":     "123-abc.apps.googleusercontent.com",
		"SWITCHBOARD_GOOGLE_CLIENT_SECRET": "hunter4",
		"SWITCHBOARD_SECRET_KEY":           "aHVudGVyNWh1bnRlcjVodW50ZXI1aHVudGVyNWh1bnQ=",
	}))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", cfg)
	out := buf.String()
	for _, secret := range []string{"demo-secret", "hunter2", "hunter3", "hunter4", "hunter5", "aHVudGVyNWh1bnRlcjVodW50ZXI1aHVudGVyNWh1bnQ="} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	for _, want := range []string{"config.addr=127.0.0.1:8080", "config.apps=demo", "db/switchboard", "config.google_sign_in=true", "config.secret_key=true"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %q: %s", want, out)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{250 * time.Millisecond, "250ms"},
		{10 * time.Minute, "10m"},
		{90 * time.Second, "1m30s"},
		{time.Hour, "1h"},
		{time.Hour + time.Minute, "1h1m"},
		{time.Hour + time.Second, "1h0m1s"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.d); got != tt.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestSecretKey(t *testing.T) {
	hexKey := strings.Repeat("ab", 32)
	cfg := mustLoad(t, staticEnv(map[string]string{"SWITCHBOARD_SECRET_KEY": hexKey}))
	if len(cfg.SecretKey) != 32 || cfg.SecretKey[0] != 0xab {
		t.Errorf("SecretKey = %x, want 32 bytes of ab", cfg.SecretKey)
	}
	if cfg := mustLoad(t, staticEnv(nil)); cfg.SecretKey != nil {
		t.Errorf("SecretKey unset = %x, want nil", cfg.SecretKey)
	}
	// An error about the key must not repeat it: it is a secret.
	bad := strings.Repeat("ab", 31) + "zz"
	_, err := load(t, staticEnv(map[string]string{"SWITCHBOARD_SECRET_KEY": bad}))
	if err == nil || strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("error %v: want one naming SWITCHBOARD_SECRET_KEY without the value", err)
	}
}
