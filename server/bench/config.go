package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits on flag values. They keep a typo (an extra zero) from exhausting
// the client machine before the server is even measured.
const (
	maxConnections = 1_000_000
	// maxPayload is well above Pusher's 10 KB event limit so a server with a
	// raised limit can be measured; a server that refuses answers 413, which
	// the report counts as publish errors.
	maxPayload = 1 << 20
	// maxChannelName is the Pusher protocol's channel name limit.
	maxChannelName = 164
	// maxPublishes bounds the per-channel sequence space each connection
	// tracks as a bitset.
	maxPublishes = 100_000_000
	// maxWSURLs bounds --ws-url's list; each URL keeps its own statistics.
	maxWSURLs = 64
)

// Config is one bench run's settings, parsed from the command line.
type Config struct {
	// URL is the server's HTTP base; the HTTP API lives under it.
	URL string
	// WSURL is the websocket base; empty means derived from URL
	// (Pusher's own cluster serves them from different hosts). A
	// comma-separated list spreads the connections over several servers,
	// such as a cluster's replicas, while publishing goes through URL.
	WSURL string

	AppID     string
	AppKey    string
	AppSecret string

	Connections   int
	Channels      int
	ChannelPrefix string

	// ConnectRate is new connections per second; 0 means as fast as
	// ConnectConcurrency allows.
	ConnectRate float64
	// ConnectConcurrency bounds handshakes in flight.
	ConnectConcurrency int
	// HandshakeTimeout bounds one connection's dial, connection_established
	// and subscription.
	HandshakeTimeout time.Duration

	// Idle is how long all connections sit idle before the idle memory
	// reading, so the server settles.
	Idle time.Duration

	// Rate is publishes per second through the HTTP API.
	Rate float64
	// Duration is the publishing phase's length; 0 with Publishes 0 skips
	// publishing.
	Duration time.Duration
	// Publishes, when positive, publishes exactly that many events at Rate
	// however long it takes, instead of publishing for Duration.
	Publishes int
	// PublishConcurrency bounds HTTP requests in flight.
	PublishConcurrency int
	// RequestTimeout bounds one publish request.
	RequestTimeout time.Duration
	// Payload is the size in bytes of each event's data.
	Payload int

	// Timeout bounds the drain phase: waiting for outstanding deliveries.
	Timeout time.Duration

	// PID is the server process whose VmRSS is read; 0 skips it.
	PID int
	// ProcDir is where /proc lives; tests point it elsewhere.
	ProcDir string

	// JSON prints the report as one JSON object instead of a table.
	JSON bool
	// Quiet suppresses the once-a-second progress line.
	Quiet bool
}

// defaultConfig matches a local Switchboard dev server.
func defaultConfig() Config {
	return Config{
		URL:                "http://127.0.0.1:8080",
		AppID:              "app-id",
		AppKey:             "app-key",
		AppSecret:          "app-secret",
		Connections:        1000,
		Channels:           10,
		ChannelPrefix:      "bench-",
		ConnectRate:        1000,
		ConnectConcurrency: 200,
		HandshakeTimeout:   10 * time.Second,
		Idle:               time.Second,
		Rate:               100,
		Duration:           10 * time.Second,
		PublishConcurrency: 32,
		RequestTimeout:     10 * time.Second,
		Payload:            100,
		Timeout:            10 * time.Second,
		ProcDir:            "/proc",
	}
}

const usageHead = `Usage: switchboard bench [flags]

Load-tests any Pusher Channels server (Switchboard, Soketi, Pusher) through
the public protocol (version 7). It opens --connections websockets spread
round-robin over --channels public channels (bench-0, bench-1, ... by
default; see --channel-prefix), publishes --rate events per second through the signed HTTP API for
--duration, and reports how many deliveries arrived, missing or duplicated,
their end-to-end latency, and with --pid the server's memory per idle
connection.

A cluster is measured by giving --ws-url a comma-separated list of its
replicas: connections are spread over them round-robin, so every channel
has subscribers on every replica, while every event is published through
--url alone. The report then breaks deliveries and latency down by
websocket URL.

Phases: connect, idle, publish, drain (until every expected delivery arrived
or --timeout), report. Ctrl-C stops early and prints a partial report.
A progress line goes to stderr about once a second; the report to stdout.
The run fails (non-zero exit) when a connection failed or dropped, a publish
failed, or a delivery was missing or duplicated.

Examples:
  switchboard bench --connections 10000 --pid $(pgrep -n switchboard)
  switchboard bench --rate 1000 --duration 30s --payload 1024 --json
  switchboard bench --url https://api-mt1.pusher.com \
      --ws-url wss://ws-mt1.pusher.com --app-id ID --app-key KEY --app-secret SECRET
  switchboard bench --url http://127.0.0.1:8081 \
      --ws-url ws://127.0.0.1:8081,ws://127.0.0.1:8082,ws://127.0.0.1:8083

Flags:
`

// parseConfig parses args into a validated Config. It returns flag.ErrHelp
// after printing usage for -h.
func parseConfig(args []string, stderr io.Writer) (Config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.URL, "url", cfg.URL, "server `base URL` (http or https); the HTTP API is under it")
	fs.StringVar(&cfg.WSURL, "ws-url", cfg.WSURL, "websocket `base URL` (ws or wss) when it differs from --url; a comma-separated list spreads the connections over several servers round-robin")
	fs.StringVar(&cfg.AppID, "app-id", cfg.AppID, "Pusher app `id`")
	fs.StringVar(&cfg.AppKey, "app-key", cfg.AppKey, "Pusher app `key`")
	fs.StringVar(&cfg.AppSecret, "app-secret", cfg.AppSecret, "Pusher app `secret`, signs the HTTP API requests")
	fs.IntVar(&cfg.Connections, "connections", cfg.Connections, "websocket connections to open")
	fs.IntVar(&cfg.Channels, "channels", cfg.Channels, "channels the connections are spread over, round-robin")
	fs.StringVar(&cfg.ChannelPrefix, "channel-prefix", cfg.ChannelPrefix, "channel names are this `prefix` followed by 0..channels-1")
	fs.Float64Var(&cfg.ConnectRate, "connect-rate", cfg.ConnectRate, "new connections per second; 0 means as fast as --connect-concurrency allows")
	fs.IntVar(&cfg.ConnectConcurrency, "connect-concurrency", cfg.ConnectConcurrency, "most handshakes in flight at once")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", cfg.HandshakeTimeout, "bound on one connection's dial and subscription")
	fs.DurationVar(&cfg.Idle, "idle", cfg.Idle, "time all connections sit idle before the idle memory reading")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "publishes per second through POST /apps/{id}/events")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the publishing phase; 0 skips publishing")
	fs.IntVar(&cfg.Publishes, "publishes", cfg.Publishes, "publish exactly this many events at --rate, however long it takes (overrides --duration)")
	fs.IntVar(&cfg.PublishConcurrency, "publish-concurrency", cfg.PublishConcurrency, "most publish requests in flight at once")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "bound on one publish request")
	fs.IntVar(&cfg.Payload, "payload", cfg.Payload, "size of each event's data in `bytes` (at least the ~40-byte timestamp header)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound on the drain phase, waiting for outstanding deliveries")
	fs.IntVar(&cfg.PID, "pid", cfg.PID, "server process `id`: report its VmRSS before, idle and at the end (same host only)")
	fs.BoolVar(&cfg.JSON, "json", cfg.JSON, "print the report as one JSON object")
	fs.BoolVar(&cfg.Quiet, "quiet", cfg.Quiet, "no progress line on stderr")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("bench: %w", err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("bench: unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// channelNameRe is the Pusher protocol's channel name alphabet.
var channelNameRe = regexp.MustCompile(`^[A-Za-z0-9_\-=@,.;]+$`)

// Validate reports the first invalid setting, naming its flag.
func (c Config) Validate() error {
	bad := func(flagName, format string, args ...any) error {
		return fmt.Errorf("bench: --%s: %s", flagName, fmt.Sprintf(format, args...))
	}
	if _, err := parseBaseURL(c.URL, "http", "https"); err != nil {
		return bad("url", "%v", err)
	}
	if c.WSURL != "" {
		bases := strings.Split(c.WSURL, ",")
		if len(bases) > maxWSURLs {
			return bad("ws-url", "at most %d URLs, got %d", maxWSURLs, len(bases))
		}
		for _, raw := range bases {
			if _, err := parseBaseURL(strings.TrimSpace(raw), "ws", "wss", "http", "https"); err != nil {
				return bad("ws-url", "%v", err)
			}
		}
	}
	switch {
	case c.AppID == "" || strings.ContainsAny(c.AppID, "/?#% "):
		return bad("app-id", "must be non-empty without / ? # %% or spaces, got %q", c.AppID)
	case c.AppKey == "" || strings.ContainsAny(c.AppKey, "/?#%& "):
		return bad("app-key", "must be non-empty without / ? # %% & or spaces, got %q", c.AppKey)
	case c.AppSecret == "":
		return bad("app-secret", "must not be empty")
	case c.Connections < 1 || c.Connections > maxConnections:
		return bad("connections", "must be between 1 and %d, got %d", maxConnections, c.Connections)
	case c.Channels < 1 || c.Channels > c.Connections:
		return bad("channels", "must be between 1 and --connections (%d), got %d", c.Connections, c.Channels)
	case !channelNameRe.MatchString(c.ChannelPrefix + "0"):
		return bad("channel-prefix", "%q: channel names allow only A-Z a-z 0-9 _ - = @ , . ;", c.ChannelPrefix)
	case len(c.ChannelPrefix)+len(strconv.Itoa(c.Channels-1)) > maxChannelName:
		return bad("channel-prefix", "channel names would exceed %d characters", maxChannelName)
	case c.ConnectRate < 0 || math.IsNaN(c.ConnectRate) || math.IsInf(c.ConnectRate, 0):
		return bad("connect-rate", "must be 0 (unpaced) or positive, got %v", c.ConnectRate)
	case c.ConnectConcurrency < 1:
		return bad("connect-concurrency", "must be at least 1, got %d", c.ConnectConcurrency)
	case c.HandshakeTimeout <= 0:
		return bad("handshake-timeout", "must be positive, got %v", c.HandshakeTimeout)
	case c.Idle < 0:
		return bad("idle", "must not be negative, got %v", c.Idle)
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return bad("rate", "must be positive, got %v", c.Rate)
	case c.Duration < 0:
		return bad("duration", "must not be negative, got %v", c.Duration)
	case c.Publishes < 0 || c.Publishes > maxPublishes:
		return bad("publishes", "must be between 0 and %d, got %d", maxPublishes, c.Publishes)
	case c.plannedPublishes() > maxPublishes:
		return bad("duration", "--rate × --duration plans %d publishes, more than %d", c.plannedPublishes(), maxPublishes)
	case c.PublishConcurrency < 1:
		return bad("publish-concurrency", "must be at least 1, got %d", c.PublishConcurrency)
	case c.RequestTimeout <= 0:
		return bad("request-timeout", "must be positive, got %v", c.RequestTimeout)
	case c.Payload < 0 || c.Payload > maxPayload:
		return bad("payload", "must be between 0 and %d bytes, got %d", maxPayload, c.Payload)
	case c.Timeout <= 0:
		return bad("timeout", "must be positive, got %v", c.Timeout)
	case c.PID < 0:
		return bad("pid", "must not be negative, got %d", c.PID)
	}
	return nil
}

// plannedPublishes is how many events the publishing phase sends if the
// server keeps up.
func (c Config) plannedPublishes() int {
	if c.Publishes > 0 {
		return c.Publishes
	}
	if c.Duration <= 0 {
		return 0
	}
	n := math.Ceil(c.Rate * c.Duration.Seconds())
	if n > maxPublishes+1 {
		return maxPublishes + 1
	}
	return int(n)
}

// channelName is the name of channel i.
func (c Config) channelName(i int) string {
	return c.ChannelPrefix + strconv.Itoa(i)
}

// parseBaseURL parses a base URL with one of the given schemes and no query.
func parseBaseURL(raw string, schemes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", raw, err)
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	switch {
	case !ok:
		return nil, fmt.Errorf("%q: scheme must be one of %s", raw, strings.Join(schemes, ", "))
	case u.Host == "":
		return nil, fmt.Errorf("%q: missing host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q: must not carry a query or fragment", raw)
	}
	return u, nil
}

// endpoints derives the websocket URLs to dial (one per --ws-url entry, or
// one derived from --url) and the HTTP API's events URL and signed path
// from c. Validate must have passed.
func (c Config) endpoints() (wsURLs []string, eventsURL, eventsPath string) {
	api, _ := parseBaseURL(c.URL, "http", "https")
	bases := []*url.URL{api}
	if c.WSURL != "" {
		bases = bases[:0]
		for _, raw := range strings.Split(c.WSURL, ",") {
			u, _ := parseBaseURL(strings.TrimSpace(raw), "ws", "wss", "http", "https")
			bases = append(bases, u)
		}
	}
	for _, base := range bases {
		ws := *base
		switch ws.Scheme {
		case "http":
			ws.Scheme = "ws"
		case "https":
			ws.Scheme = "wss"
		}
		ws.Path = strings.TrimSuffix(ws.Path, "/") + "/app/" + c.AppKey
		ws.RawPath = ""
		ws.RawQuery = "protocol=7&client=switchboard-bench&version=1.0"
		wsURLs = append(wsURLs, ws.String())
	}

	events := *api
	events.Path = strings.TrimSuffix(events.Path, "/") + "/apps/" + c.AppID + "/events"
	events.RawPath = ""
	return wsURLs, events.String(), events.Path
}

// endpointOf is the websocket URL (index into endpoints' list of n)
// connection id dials. Connections are dealt round-robin, shifted by one
// each time the channels come round again: channel ch's subscribers are
// ids ch, ch+Channels, ch+2·Channels ..., so they land on every URL in
// turn, whatever the channel and URL counts have in common.
func (c Config) endpointOf(id, n int) int {
	return (id%c.Channels + id/c.Channels) % n
}
