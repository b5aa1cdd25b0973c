package bench

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	var stderr bytes.Buffer
	got, err := parseConfig(nil, &stderr)
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	if want := defaultConfig(); got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
	if got.plannedPublishes() != 1000 {
		t.Errorf("planned publishes = %d, want 100/s × 10s = 1000", got.plannedPublishes())
	}
}

func TestParseConfigFlags(t *testing.T) {
	args := []string{
		"--url", "https://api.example.com/pusher", "--ws-url", "wss://ws.example.com",
		"--app-id", "42", "--app-key", "k", "--app-secret", "s",
		"--connections", "10000", "--channels", "100", "--channel-prefix", "load.",
		"--connect-rate", "0", "--connect-concurrency", "50", "--handshake-timeout", "3s",
		"--idle", "5s", "--rate", "2.5", "--duration", "1m", "--publishes", "7",
		"--publish-concurrency", "4", "--request-timeout", "2s", "--payload", "1024",
		"--timeout", "30s", "--pid", "1234", "--json", "--quiet",
	}
	got, err := parseConfig(args, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	want := Config{
		URL: "https://api.example.com/pusher", WSURL: "wss://ws.example.com",
		AppID: "42", AppKey: "k", AppSecret: "s",
		Connections: 10000, Channels: 100, ChannelPrefix: "load.",
		ConnectRate: 0, ConnectConcurrency: 50, HandshakeTimeout: 3 * time.Second,
		Idle: 5 * time.Second, Rate: 2.5, Duration: time.Minute, Publishes: 7,
		PublishConcurrency: 4, RequestTimeout: 2 * time.Second, Payload: 1024,
		Timeout: 30 * time.Second, PID: 1234, ProcDir: "/proc", JSON: true, Quiet: true,
	}
	if got != want {
		t.Errorf("config = %+v\nwant     %+v", got, want)
	}
	if got.plannedPublishes() != 7 {
		t.Errorf("--publishes should override --duration: planned %d, want 7", got.plannedPublishes())
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // the error names the flag
	}{
		{"unknown flag", []string{"--conections", "5"}, "flag provided but not defined: -conections"},
		{"not a number", []string{"--connections", "many"}, `invalid value "many" for flag -connections`},
		{"positional argument", []string{"extra"}, `unexpected argument "extra"`},
		{"url scheme", []string{"--url", "ftp://x"}, "--url:"},
		{"url without host", []string{"--url", "http://"}, "--url:"},
		{"url with query", []string{"--url", "http://x/?a=b"}, "--url:"},
		{"ws url scheme", []string{"--ws-url", "ftp://x"}, "--ws-url:"},
		{"ws url list with a bad entry", []string{"--ws-url", "ws://a:1,ftp://b"}, "--ws-url:"},
		{"ws url list with an empty entry", []string{"--ws-url", "ws://a:1,,ws://b:2"}, "--ws-url:"},
		{"ws url list ending in a comma", []string{"--ws-url", "ws://a:1,"}, "--ws-url:"},
		{"too many ws urls", []string{"--ws-url", strings.Repeat("ws://a:1,", 64) + "ws://a:1"}, "--ws-url: at most 64"},
		{"empty app id", []string{"--app-id", ""}, "--app-id:"},
		{"app id with slash", []string{"--app-id", "a/b"}, "--app-id:"},
		{"empty key", []string{"--app-key", ""}, "--app-key:"},
		{"empty secret", []string{"--app-secret", ""}, "--app-secret:"},
		{"no connections", []string{"--connections", "0"}, "--connections:"},
		{"too many connections", []string{"--connections", "1000001"}, "--connections:"},
		{"no channels", []string{"--channels", "0"}, "--channels:"},
		{"more channels than connections", []string{"--connections", "5", "--channels", "6"}, "--channels:"},
		{"bad channel prefix", []string{"--channel-prefix", "a b"}, "--channel-prefix:"},
		{"long channel prefix", []string{"--channel-prefix", strings.Repeat("a", 164)}, "--channel-prefix:"},
		{"negative connect rate", []string{"--connect-rate", "-1"}, "--connect-rate:"},
		{"no connect concurrency", []string{"--connect-concurrency", "0"}, "--connect-concurrency:"},
		{"no handshake timeout", []string{"--handshake-timeout", "0s"}, "--handshake-timeout:"},
		{"negative idle", []string{"--idle", "-1s"}, "--idle:"},
		{"zero rate", []string{"--rate", "0"}, "--rate:"},
		{"NaN rate", []string{"--rate", "NaN"}, "--rate:"},
		{"negative duration", []string{"--duration", "-1s"}, "--duration:"},
		{"too long", []string{"--rate", "1e9", "--duration", "1h"}, "--duration:"},
		{"negative publishes", []string{"--publishes", "-1"}, "--publishes:"},
		{"no publish concurrency", []string{"--publish-concurrency", "0"}, "--publish-concurrency:"},
		{"no request timeout", []string{"--request-timeout", "0s"}, "--request-timeout:"},
		{"negative payload", []string{"--payload", "-1"}, "--payload:"},
		{"huge payload", []string{"--payload", "2000000"}, "--payload:"},
		{"no drain timeout", []string{"--timeout", "0s"}, "--timeout:"},
		{"negative pid", []string{"--pid", "-3"}, "--pid:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, &bytes.Buffer{})
			if err == nil {
				t.Fatalf("parseConfig(%q) succeeded, want error containing %q", tt.args, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if _, err := parseConfig([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseConfig(-h) error = %v, want flag.ErrHelp", err)
	}
	stderr.Reset()
	if err := Run(t.Context(), []string{"--help"}, &stdout, &stderr); err != nil {
		t.Errorf("Run(--help) = %v, want nil", err)
	}
	for _, want := range []string{"Usage: switchboard bench", "-connections", "-pid", "Ctrl-C"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("usage went to stdout: %q", stdout.String())
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name           string
		url, wsURL     string
		wantAPI, wantP string
		wantWS         []string
	}{
		{
			name:    "plain http",
			url:     "http://127.0.0.1:8080",
			wantWS:  []string{"ws://127.0.0.1:8080/app/app-key?protocol=7&client=switchboard-bench&version=1.0"},
			wantAPI: "http://127.0.0.1:8080/apps/app-id/events", wantP: "/apps/app-id/events",
		},
		{
			name:    "https with a path prefix",
			url:     "https://example.com/pusher/",
			wantWS:  []string{"wss://example.com/pusher/app/app-key?protocol=7&client=switchboard-bench&version=1.0"},
			wantAPI: "https://example.com/pusher/apps/app-id/events", wantP: "/pusher/apps/app-id/events",
		},
		{
			name:    "separate websocket host, as on Pusher's cluster",
			url:     "https://api-mt1.pusher.com",
			wsURL:   "wss://ws-mt1.pusher.com",
			wantWS:  []string{"wss://ws-mt1.pusher.com/app/app-key?protocol=7&client=switchboard-bench&version=1.0"},
			wantAPI: "https://api-mt1.pusher.com/apps/app-id/events", wantP: "/apps/app-id/events",
		},
		{
			name:  "a cluster's replicas, publishing through the first",
			url:   "http://127.0.0.1:8081",
			wsURL: "ws://127.0.0.1:8081, ws://127.0.0.1:8082,http://127.0.0.1:8083/",
			wantWS: []string{
				"ws://127.0.0.1:8081/app/app-key?protocol=7&client=switchboard-bench&version=1.0",
				"ws://127.0.0.1:8082/app/app-key?protocol=7&client=switchboard-bench&version=1.0",
				"ws://127.0.0.1:8083/app/app-key?protocol=7&client=switchboard-bench&version=1.0",
			},
			wantAPI: "http://127.0.0.1:8081/apps/app-id/events", wantP: "/apps/app-id/events",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.URL, cfg.WSURL = tt.url, tt.wsURL
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			ws, api, path := cfg.endpoints()
			if !slices.Equal(ws, tt.wantWS) || api != tt.wantAPI || path != tt.wantP {
				t.Errorf("endpoints = %q, %q, %q\nwant        %q, %q, %q", ws, api, path, tt.wantWS, tt.wantAPI, tt.wantP)
			}
		})
	}
}

// TestEndpointOf checks the spreading of connections over websocket URLs:
// even overall, and every channel with subscribers on every URL, also when
// the channel count is a multiple of the URL count.
func TestEndpointOf(t *testing.T) {
	tests := []struct{ conns, channels, urls int }{
		{3000, 100, 3},
		{3000, 99, 3},
		{3000, 3, 3},
		{1000, 10, 2},
		{10, 1, 3},
		{100, 10, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d connections, %d channels, %d urls", tt.conns, tt.channels, tt.urls), func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Connections, cfg.Channels = tt.conns, tt.channels
			perURL := make([]int, tt.urls)
			perChannel := make([][]int, tt.channels)
			for ch := range perChannel {
				perChannel[ch] = make([]int, tt.urls)
			}
			for id := range tt.conns {
				e := cfg.endpointOf(id, tt.urls)
				if e < 0 || e >= tt.urls {
					t.Fatalf("endpointOf(%d) = %d, want 0..%d", id, e, tt.urls-1)
				}
				perURL[e]++
				perChannel[id%tt.channels][e]++
			}
			if lo, hi := slices.Min(perURL), slices.Max(perURL); hi-lo > 1 {
				t.Errorf("connections per URL %v: spread %d, want at most 1", perURL, hi-lo)
			}
			for ch, counts := range perChannel {
				if lo, hi := slices.Min(counts), slices.Max(counts); hi-lo > 1 {
					t.Errorf("channel %d subscribers per URL %v: spread %d, want at most 1", ch, counts, hi-lo)
				}
			}
		})
	}
}
