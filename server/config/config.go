// Package config owns Switchboard's start-up settings: it reads every
// SWITCHBOARD_* environment variable and its matching --flag into one typed
// Config, applies defaults, resolves the Pusher apps to serve and validates
// the lot with errors that name the variable to fix. main loads it once and
// passes the values down; nothing reads the environment anywhere else.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
)

// EnvPrefix starts the name of every environment variable Switchboard reads.
const EnvPrefix = "SWITCHBOARD_"

// Config is every start-up setting of the serve command. Durations, sizes and
// counts are already parsed; Apps is what the hub serves.
type Config struct {
	// Addr is the host:port the HTTP and websocket server listens on.
	Addr string
	// LogLevel is the minimum level logged.
	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string

	// The static app, for plain Pusher-server use. These are the raw
	// settings; the app built from them is in Apps.
	AppID             string
	AppKey            string
	AppSecret         string
	AppClientEvents   bool
	AppWebhookURLs    []string
	AppMaxConnections int
	// AppsFile is the path of a JSON array of apps, or empty.
	AppsFile string

	// Apps are the static app and the apps file's apps, in that order, or
	// the development app alone.
	Apps []hub.App
	// DevApp reports that Apps holds only the built-in development app
	// because nothing was configured and Addr is loopback. Its credentials
	// are public, so main warns loudly.
	DevApp bool

	// ActivityTimeout is told to clients in pusher:connection_established:
	// they ping after this much silence. Whole seconds, as the protocol
	// carries seconds.
	ActivityTimeout time.Duration
	// PongTimeout is how long the server waits for a pong to its own ping
	// before closing with 4201.
	PongTimeout time.Duration
	// WriteTimeout bounds one websocket write.
	WriteTimeout time.Duration
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration

	// MaxConnections bounds websocket connections server-wide; 0 is
	// unlimited.
	MaxConnections int
	// MaxMessageBytes is the websocket read limit for one incoming message.
	MaxMessageBytes int
	// MaxChannelsPerConnection bounds subscriptions of one connection.
	MaxChannelsPerConnection int
	// SendQueueFrames bounds one connection's outgoing queue; a connection
	// whose queue is full is a slow consumer and is disconnected.
	SendQueueFrames int
	// MaxRequestBytes bounds an HTTP API request body.
	MaxRequestBytes int64

	// WebhookBatchInterval is how long webhook events are gathered before
	// one request carries them.
	WebhookBatchInterval time.Duration
	// WebhookMaxAttempts is how many times one webhook request is tried.
	WebhookMaxAttempts int

	// RedisURL joins this replica to a cluster through Redis when set.
	RedisURL string
	// RedisPrefix starts every Redis key and topic of the cluster.
	RedisPrefix string
	// ClusterHeartbeat is how often a replica renews its lease; one silent
	// for three heartbeats is reaped.
	ClusterHeartbeat time.Duration
	// DatabaseURL selects the Postgres store when set.
	DatabaseURL string
	// SQLitePath is the embedded store's file, used without DatabaseURL.
	SQLitePath string
	// MediaDir is where inbound media is stored; MediaPath resolves its
	// default. MediaMaxBytes bounds one item.
	MediaDir      string
	MediaMaxBytes int64

	// PublicURL is the base URL browsers reach the server at, without a
	// trailing slash; empty when unset.
	PublicURL string
	// TrustProxy trusts a reverse proxy's X-Forwarded-Proto and
	// X-Forwarded-For.
	TrustProxy bool
	// GoogleClientID and GoogleClientSecret turn on Google sign-in.
	GoogleClientID     string
	GoogleClientSecret string
	// SessionLifetime bounds a browser session; SessionIdleTimeout ends
	// one unused that long (0: never).
	SessionLifetime    time.Duration
	SessionIdleTimeout time.Duration
	// DevLogin serves the development sign-in (loopback Addr only).
	DevLogin bool
	// SecretKey seals channel credentials in the store
	// (server/channels/secretbox); nil when unset, and then connectors
	// that need credentials are unavailable.
	SecretKey []byte
	// AIBaseURL, AIAPIKey and AIModel are the default OpenAI-compatible
	// endpoint for AI drafts (server/drafts); AIDraftTimeout,
	// AIMaxConcurrentDrafts and AIDraftQueue bound the drafts.
	AIBaseURL             string
	AIAPIKey              string
	AIModel               string
	AIDraftTimeout        time.Duration
	AIMaxConcurrentDrafts int
	AIDraftQueue          int

	// appSources names where each entry of Apps came from, for errors. It
	// is parallel to Apps when Load built them and may be empty when a
	// caller built the Config by hand.
	appSources []string
}

// The sources of apps as they appear in errors.
const (
	sourceStaticApp = EnvPrefix + "APP_*"
	sourceDevApp    = "development app"
)

// Load reads the serve command's settings: args are its command-line
// arguments (without the program or sub-command name) and getenv looks up
// environment variables, os.Getenv in production. A flag wins over its
// variable, and a variable over the default; an empty variable counts as
// unset. Load prints nothing: on -h it returns flag.ErrHelp and the caller
// prints Usage.
func Load(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	for _, s := range settings {
		fs.Var(&flagValue{isBool: s.kind == "bool"}, s.flag(), s.help)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, flag.ErrHelp
		}
		return nil, fmt.Errorf("%w (see -h)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: settings are flags like --addr=host:port (see -h)", fs.Arg(0))
	}
	// Visit walks only the flags given, so an explicit empty value still
	// overrides the variable.
	given := make(map[string]string)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = f.Value.String() })

	cfg := &Config{}
	var errs []error
	for _, s := range settings {
		raw, origin := s.def, ""
		if v := getenv(s.env()); v != "" {
			raw = v
		}
		if v, ok := given[s.flag()]; ok {
			raw, origin = v, " (from --"+s.flag()+")"
		}
		if err := s.set(cfg, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w%s", s.env(), err, origin))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	if err := cfg.resolveApps(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// flagValue holds a flag's raw text; Load parses it like the variable so
// both report errors the same way.
type flagValue struct {
	value  string
	isBool bool
}

func (f *flagValue) String() string { return f.value }

func (f *flagValue) Set(v string) error {
	f.value = v
	return nil
}

// IsBoolFlag lets a bool setting be given as a bare --flag.
func (f *flagValue) IsBoolFlag() bool { return f.isBool }

// Limits of the settings Validate checks, named so the reference and the
// errors agree.
const (
	minMessageBytes = 1024
	maxMessageBytes = 16 << 20
	minSendQueue    = 16
	maxSendQueue    = 1 << 16
	maxChannels     = 10000
	minRequestBytes = 1024
	maxRequestBytes = 256 << 20
	maxWebhookTries = 100

	minSessionLifetime = 5 * time.Minute
	maxSessionLifetime = 365 * 24 * time.Hour

	maxMediaBytes = 1 << 40
)

// MediaPath is the directory inbound media is stored in: MediaDir, or by
// default "media" beside the SQLite file with the embedded store and
// "media" in the working directory with Postgres.
func (c *Config) MediaPath() string {
	switch {
	case c.MediaDir != "":
		return c.MediaDir
	case c.DatabaseURL == "" && c.SQLitePath != "":
		return filepath.Join(filepath.Dir(c.SQLitePath), "media")
	}
	return "media"
}

// Validate reports every invalid setting, one per line, each naming its
// environment variable. Load calls it; a caller that builds or edits a
// Config by hand should call it too.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", EnvPrefix, name, fmt.Sprintf(format, args...)))
	}

	if _, _, err := splitAddr(c.Addr); err != nil {
		bad("ADDR", "%v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "must be text or json, got %q", c.LogFormat)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			bad("REDIS_URL", "want a redis://, rediss:// or unix:// URL")
		}
	}
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, "{}: \t\r\n") {
		bad("REDIS_PREFIX", "must be non-empty, without braces, colons or spaces")
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL", "want a postgres:// or postgresql:// URL")
		}
	} else if c.SQLitePath == "" {
		bad("SQLITE_PATH", "must not be empty when SWITCHBOARD_DATABASE_URL is unset")
	}

	c.validateSignIn(bad)

	durationIn := func(name string, d, lo, hi time.Duration) {
		if d < lo || d > hi {
			bad(name, "must be between %s and %s, got %s", fmtDuration(lo), fmtDuration(hi), fmtDuration(d))
		}
	}
	durationIn("ACTIVITY_TIMEOUT", c.ActivityTimeout, time.Second, time.Hour)
	if c.ActivityTimeout%time.Second != 0 {
		bad("ACTIVITY_TIMEOUT", "must be whole seconds (clients are told seconds), got %s", fmtDuration(c.ActivityTimeout))
	}
	durationIn("PONG_TIMEOUT", c.PongTimeout, time.Second, 10*time.Minute)
	durationIn("WRITE_TIMEOUT", c.WriteTimeout, time.Second, 10*time.Minute)
	durationIn("SHUTDOWN_TIMEOUT", c.ShutdownTimeout, time.Second, 10*time.Minute)
	durationIn("WEBHOOK_BATCH_INTERVAL", c.WebhookBatchInterval, 10*time.Millisecond, time.Minute)
	durationIn("CLUSTER_HEARTBEAT", c.ClusterHeartbeat, 100*time.Millisecond, time.Minute)
	durationIn("SESSION_LIFETIME", c.SessionLifetime, minSessionLifetime, maxSessionLifetime)
	if c.SessionIdleTimeout != 0 {
		durationIn("SESSION_IDLE_TIMEOUT", c.SessionIdleTimeout, time.Minute, max(c.SessionLifetime, time.Minute))
	}

	intIn := func(name string, n, lo, hi int64) {
		if n < lo || n > hi {
			bad(name, "must be between %d and %d, got %d", lo, hi, n)
		}
	}
	atLeast := func(name string, n, lo int) {
		if n < lo {
			bad(name, "must be %d or more, got %d", lo, n)
		}
	}
	atLeast("MAX_CONNECTIONS", c.MaxConnections, 0)
	atLeast("APP_MAX_CONNECTIONS", c.AppMaxConnections, 0)
	intIn("MAX_MESSAGE_BYTES", int64(c.MaxMessageBytes), minMessageBytes, maxMessageBytes)
	intIn("MAX_CHANNELS_PER_CONNECTION", int64(c.MaxChannelsPerConnection), 1, maxChannels)
	intIn("SEND_QUEUE_FRAMES", int64(c.SendQueueFrames), minSendQueue, maxSendQueue)
	intIn("MAX_REQUEST_BYTES", c.MaxRequestBytes, minRequestBytes, maxRequestBytes)
	if c.MediaMaxBytes != 0 { // zero leaves the downloader its built-in default
		intIn("MEDIA_MAX_BYTES", c.MediaMaxBytes, 1, maxMediaBytes)
	}
	intIn("WEBHOOK_MAX_ATTEMPTS", int64(c.WebhookMaxAttempts), 1, maxWebhookTries)
	// Zero leaves the drafts service its built-in default.
	if c.AIDraftTimeout != 0 {
		durationIn("AI_DRAFT_TIMEOUT", c.AIDraftTimeout, time.Second, 10*time.Minute)
	}
	if c.AIMaxConcurrentDrafts != 0 {
		intIn("AI_MAX_CONCURRENT_DRAFTS", int64(c.AIMaxConcurrentDrafts), 1, 256)
	}
	if c.AIDraftQueue != 0 {
		intIn("AI_DRAFT_QUEUE", int64(c.AIDraftQueue), 1, 100000)
	}
	if c.AIBaseURL != "" {
		if u, err := url.Parse(c.AIBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			bad("AI_BASE_URL", "want an http:// or https:// URL without credentials, like https://api.openai.com/v1")
		}
	}

	for _, u := range c.AppWebhookURLs {
		if err := checkWebhookURL(u); err != nil {
			bad("APP_WEBHOOK_URLS", "%v", err)
		}
	}
	if err := c.staticAppComplete(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateApps()...)
	return errors.Join(errs...)
}

// validateSignIn checks the sign-in settings together: Google needs both
// credentials and the public URL its callback lives under, and the
// development sign-in, which signs anyone in as anyone, needs an address
// only this machine can reach.
func (c *Config) validateSignIn(bad func(name, format string, args ...any)) {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("PUBLIC_URL", "want an absolute http:// or https:// URL such as https://inbox.example.com, got %q", c.PublicURL)
		case strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			bad("PUBLIC_URL", "want the site's base URL with no path, query or user, got %q", c.PublicURL)
		}
	}
	switch {
	case c.GoogleClientID != "" && c.GoogleClientSecret == "":
		bad("GOOGLE_CLIENT_SECRET", "required with %sGOOGLE_CLIENT_ID", EnvPrefix)
	case c.GoogleClientID == "" && c.GoogleClientSecret != "":
		bad("GOOGLE_CLIENT_ID", "required with %sGOOGLE_CLIENT_SECRET", EnvPrefix)
	case c.GoogleClientID != "" && c.PublicURL == "":
		bad("PUBLIC_URL", "required with %sGOOGLE_CLIENT_ID: Google sends browsers back to PUBLIC_URL/auth/google/callback", EnvPrefix)
	}
	if c.DevLogin {
		if host, _, err := splitAddr(c.Addr); err == nil && !isLoopback(host) {
			bad("DEV_LOGIN", "the development sign-in signs anyone in as anyone, so it is only served on a loopback %sADDR, got %q", EnvPrefix, c.Addr)
		}
		if c.TrustProxy {
			bad("DEV_LOGIN", "not with %sTRUST_PROXY: behind a proxy, a loopback address serves other machines", EnvPrefix)
		}
	}
}

// validateApps checks each app on its own and the set for duplicates, naming
// where each offending app came from.
func (c *Config) validateApps() []error {
	if len(c.Apps) == 0 {
		return []error{errNoApp}
	}
	var errs []error
	if c.DevApp {
		if host, _, err := splitAddr(c.Addr); err == nil && !isLoopback(host) {
			errs = append(errs, fmt.Errorf("%sADDR: the development app is only served on a loopback address, got %q; %v", EnvPrefix, c.Addr, errNoApp))
		}
	}
	byID := make(map[string]string, len(c.Apps))
	byKey := make(map[string]string, len(c.Apps))
	for i, a := range c.Apps {
		src := c.appSource(i)
		if err := a.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", src, err))
			continue
		}
		// The static app's webhook URLs are checked as their own variable.
		if src != sourceStaticApp {
			for _, w := range a.Webhooks {
				if err := checkWebhookURL(w.URL); err != nil {
					errs = append(errs, fmt.Errorf("%s: app %s: %w", src, a.ID, err))
				}
			}
		}
		if prev, dup := byID[a.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: app id %q is already used by %s", src, a.ID, relativeSource(prev, src)))
		} else {
			byID[a.ID] = src
		}
		if prev, dup := byKey[a.Key]; dup {
			errs = append(errs, fmt.Errorf("%s: app %s: key %q is already used by %s", src, a.ID, a.Key, relativeSource(prev, src)))
		} else {
			byKey[a.Key] = src
		}
	}
	return errs
}

func (c *Config) appSource(i int) string {
	if i < len(c.appSources) {
		return c.appSources[i]
	}
	return fmt.Sprintf("app #%d", i+1)
}

// relativeSource names prev as seen from src: just "app #1" when both come
// from the same file, so a duplicate's message does not repeat the path.
func relativeSource(prev, src string) string {
	i, j := strings.LastIndex(prev, ": "), strings.LastIndex(src, ": ")
	if i > 0 && j > 0 && prev[:i] == src[:j] {
		return prev[i+2:]
	}
	return prev
}

// fmtDuration writes d as a person would: 10m rather than 10m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// checkWebhookURL accepts only absolute http(s) URLs, so a typo fails at
// start-up rather than on the first delivery.
func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook url %q: want an absolute http or https URL", raw)
	}
	return nil
}

// LogValue implements slog.LogValuer so main can log the effective settings
// at start-up without leaking secrets: app secrets are left out and
// passwords in URLs are redacted.
func (c *Config) LogValue() slog.Value {
	ids := make([]string, len(c.Apps))
	for i, a := range c.Apps {
		ids[i] = a.ID
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("log_format", c.LogFormat),
		slog.String("apps", strings.Join(ids, ",")),
		slog.Bool("dev_app", c.DevApp),
		slog.String("apps_file", c.AppsFile),
		slog.Duration("activity_timeout", c.ActivityTimeout),
		slog.Duration("pong_timeout", c.PongTimeout),
		slog.Duration("write_timeout", c.WriteTimeout),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Int("max_connections", c.MaxConnections),
		slog.Int("max_message_bytes", c.MaxMessageBytes),
		slog.Int("max_channels_per_connection", c.MaxChannelsPerConnection),
		slog.Int("send_queue_frames", c.SendQueueFrames),
		slog.Int64("max_request_bytes", c.MaxRequestBytes),
		slog.Duration("webhook_batch_interval", c.WebhookBatchInterval),
		slog.Int("webhook_max_attempts", c.WebhookMaxAttempts),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("redis_prefix", c.RedisPrefix),
		slog.Duration("cluster_heartbeat", c.ClusterHeartbeat),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("sqlite_path", c.SQLitePath),
		slog.String("media_dir", c.MediaPath()),
		slog.Int64("media_max_bytes", c.MediaMaxBytes),
		slog.String("public_url", c.PublicURL),
		slog.Bool("trust_proxy", c.TrustProxy),
		slog.Bool("google_sign_in", c.GoogleClientID != ""),
		slog.Bool("dev_login", c.DevLogin),
		slog.Bool("secret_key", c.SecretKey != nil),
		slog.String("ai_base_url", c.AIBaseURL),
		slog.String("ai_model", c.AIModel),
		slog.Bool("ai_api_key", c.AIAPIKey != ""),
		slog.Duration("session_lifetime", c.SessionLifetime),
		slog.Duration("session_idle_timeout", c.SessionIdleTimeout),
	)
}

// redactURL hides a URL's password; a value that does not parse is hidden
// whole, since it may be a raw connection string with one.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "(set)"
	}
	return u.Redacted()
}
