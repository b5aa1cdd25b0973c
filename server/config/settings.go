package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
)

// setting is one configurable value. The table below is the single source of
// the variable names, flag names, defaults and help text, so Load, Usage and
// Reference cannot drift apart.
type setting struct {
	// name is the variable without EnvPrefix, e.g. "PONG_TIMEOUT".
	name string
	// def is the default written as a user would write it; Load parses it
	// with set like any other value, so the documented default is the
	// applied one.
	def string
	// kind names the value's shape in the usage text.
	kind string
	help string
	set  func(c *Config, raw string) error
}

func (s setting) env() string { return EnvPrefix + s.name }

// flag is the kebab-case flag name: PONG_TIMEOUT is --pong-timeout.
func (s setting) flag() string { return strings.ToLower(strings.ReplaceAll(s.name, "_", "-")) }

var settings = []setting{
	{name: "ADDR", def: "127.0.0.1:8080", kind: "host:port",
		help: "Listen address for HTTP and websockets. Use :8080 or 0.0.0.0:8080 to listen on every interface.",
		set:  stringSetting(func(c *Config) *string { return &c.Addr })},
	{name: "LOG_LEVEL", def: "info", kind: "level",
		help: "Least severe log level written: debug, info, warn or error.",
		set:  setLogLevel},
	{name: "LOG_FORMAT", def: "text", kind: "format",
		help: "Log format: text or json.",
		set:  stringSetting(func(c *Config) *string { return &c.LogFormat })},

	{name: "APP_ID", kind: "string",
		help: "ID of the static Pusher app. Set APP_ID, APP_KEY and APP_SECRET together, or none of them.",
		set:  stringSetting(func(c *Config) *string { return &c.AppID })},
	{name: "APP_KEY", kind: "string",
		help: "Key of the static app; clients connect to /app/{key}.",
		set:  stringSetting(func(c *Config) *string { return &c.AppKey })},
	{name: "APP_SECRET", kind: "string",
		help: "Secret of the static app, at least 8 characters; signs API requests, channel auth and webhooks.",
		set:  stringSetting(func(c *Config) *string { return &c.AppSecret })},
	{name: "APP_CLIENT_EVENTS", def: "false", kind: "bool",
		help: "Allow client-* events on the static app's private and presence channels.",
		set:  boolSetting(func(c *Config) *bool { return &c.AppClientEvents })},
	{name: "APP_WEBHOOK_URLS", kind: "urls",
		help: "Comma-separated http(s) URLs the static app's webhooks are POSTed to.",
		set:  listSetting(func(c *Config) *[]string { return &c.AppWebhookURLs })},
	{name: "APP_MAX_CONNECTIONS", def: "0", kind: "int",
		help: "Concurrent connections allowed on the static app (4004 beyond); 0 is unlimited.",
		set:  intSetting(func(c *Config) *int { return &c.AppMaxConnections })},
	{name: "APPS_FILE", kind: "path",
		help: "JSON file holding an array of apps (id, key, secret, enabled, client_events, max_connections, webhooks, ...); \"enabled\" defaults to true. Combined with the static app.",
		set:  stringSetting(func(c *Config) *string { return &c.AppsFile })},

	{name: "ACTIVITY_TIMEOUT", def: "120s", kind: "duration",
		help: "Silence after which clients ping, told to them on connect; whole seconds from 1s to 1h.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.ActivityTimeout })},
	{name: "PONG_TIMEOUT", def: "30s", kind: "duration",
		help: "How long the server waits for a pong to its ping before closing with 4201; 1s to 10m.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.PongTimeout })},
	{name: "WRITE_TIMEOUT", def: "10s", kind: "duration",
		help: "Deadline for one websocket write; a client that cannot take it in time is disconnected; 1s to 10m.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.WriteTimeout })},
	{name: "SHUTDOWN_TIMEOUT", def: "10s", kind: "duration",
		help: "How long a graceful shutdown waits for connections and requests to finish; 1s to 10m.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},

	{name: "MAX_CONNECTIONS", def: "0", kind: "int",
		help: "Concurrent websocket connections on this server across all apps (4100 beyond); 0 is unlimited.",
		set:  intSetting(func(c *Config) *int { return &c.MaxConnections })},
	{name: "MAX_MESSAGE_BYTES", def: "32768", kind: "bytes",
		help: "Largest incoming websocket message; 1024 to 16 MiB.",
		set:  intSetting(func(c *Config) *int { return &c.MaxMessageBytes })},
	{name: "MAX_CHANNELS_PER_CONNECTION", def: "100", kind: "int",
		help: "Channels one connection may be subscribed to at once; 1 to 10000.",
		set:  intSetting(func(c *Config) *int { return &c.MaxChannelsPerConnection })},
	{name: "SEND_QUEUE_FRAMES", def: "512", kind: "int",
		help: "Outgoing frames queued per connection; a client whose queue is full is a slow consumer and is disconnected; 16 to 65536.",
		set:  intSetting(func(c *Config) *int { return &c.SendQueueFrames })},
	{name: "MAX_REQUEST_BYTES", def: "1048576", kind: "bytes",
		help: "Largest HTTP API request body (413 beyond); 1024 to 256 MiB.",
		set:  int64Setting(func(c *Config) *int64 { return &c.MaxRequestBytes })},

	{name: "WEBHOOK_BATCH_INTERVAL", def: "250ms", kind: "duration",
		help: "How long webhook events are gathered into one request; 10ms to 1m.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.WebhookBatchInterval })},
	{name: "WEBHOOK_MAX_ATTEMPTS", def: "5", kind: "int",
		help: "Tries per webhook request before it is dropped; 1 to 100.",
		set:  intSetting(func(c *Config) *int { return &c.WebhookMaxAttempts })},

	{name: "REDIS_URL", kind: "url",
		help: "Redis joining replicas into one cluster (redis://host:6379/0; ?master_name=M&addr=... for Sentinel, ?addr=...&addr=... for Redis Cluster); empty: a single replica with an in-process broker.",
		set:  stringSetting(func(c *Config) *string { return &c.RedisURL })},
	{name: "REDIS_PREFIX", def: "switchboard", kind: "string",
		help: "Prefix of the cluster's Redis keys and topics, so several clusters can share one Redis.",
		set:  stringSetting(func(c *Config) *string { return &c.RedisPrefix })},
	{name: "CLUSTER_HEARTBEAT", def: "5s", kind: "duration",
		help: "How often a replica renews its cluster lease; a replica silent for 3 heartbeats is declared dead and its presence members removed (within 4 heartbeats); 100ms to 1m.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.ClusterHeartbeat })},
	{name: "DATABASE_URL", kind: "url",
		help: "Postgres URL (postgres://user:pass@host:5432/db) for the inbox store; empty: the embedded SQLite file at SQLITE_PATH.",
		set:  stringSetting(func(c *Config) *string { return &c.DatabaseURL })},
	{name: "SQLITE_PATH", kind: "path", def: "switchboard.db",
		help: "SQLite file of the embedded store, created if missing; used when DATABASE_URL is empty.",
		set:  stringSetting(func(c *Config) *string { return &c.SQLitePath })},
	{name: "MEDIA_DIR", kind: "path",
		help: "Directory the images, voice notes, videos and documents customers send are downloaded into, and agents' attachments kept in, created (0700) if missing; empty: media beside SQLITE_PATH with the embedded store, ./media with Postgres.",
		set:  stringSetting(func(c *Config) *string { return &c.MediaDir })},
	{name: "MEDIA_MAX_BYTES", def: "0", kind: "bytes",
		help: "Largest media item downloaded, or file an agent attaches; a larger download is not stored, and its message shows the download failed; a larger attachment is refused with 413. 1 to 1 TiB, 0 for the built-in 104857600 (100 MiB).",
		set:  int64Setting(func(c *Config) *int64 { return &c.MediaMaxBytes })},

	{name: "PUBLIC_URL", kind: "url",
		help: "The server's base URL as browsers reach it, such as https://inbox.example.com (no path). Google redirects to PUBLIC_URL/auth/google/callback after sign-in; an https URL makes the session cookie Secure. Twilio, Messenger, Instagram and the API channel fetch agents' files from signed links under it.",
		set: func(c *Config, raw string) error {
			// A trailing slash is harmless: the callback path is appended.
			c.PublicURL = strings.TrimRight(strings.TrimSpace(raw), "/")
			return nil
		}},
	{name: "TRUST_PROXY", def: "false", kind: "bool",
		help: "Trust X-Forwarded-Proto and X-Forwarded-For from a reverse proxy in front: a request forwarded as https gets a Secure session cookie, and the forwarded client address is logged. Turn on only behind a proxy that sets both.",
		set:  boolSetting(func(c *Config) *bool { return &c.TrustProxy })},
	{name: "GOOGLE_CLIENT_ID", kind: "string",
		help: "OAuth client ID of a Google Cloud web application; with GOOGLE_CLIENT_SECRET and PUBLIC_URL it turns on Sign in with Google.",
		set:  stringSetting(func(c *Config) *string { return &c.GoogleClientID })},
	{name: "GOOGLE_CLIENT_SECRET", kind: "string",
		help: "OAuth client secret that goes with GOOGLE_CLIENT_ID.",
		set:  stringSetting(func(c *Config) *string { return &c.GoogleClientSecret })},
	{name: "SESSION_LIFETIME", def: "336h", kind: "duration",
		help: "Longest a browser stays signed in, however active; 5m to 8760h.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.SessionLifetime })},
	{name: "SESSION_IDLE_TIMEOUT", def: "72h", kind: "duration",
		help: "A browser unused this long is signed out; 0s never, else 1m up to SESSION_LIFETIME.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.SessionIdleTimeout })},
	{name: "SECRET_KEY", kind: "key",
		help: "32-byte key, as 64 hex digits or base64 (openssl rand -base64 32), that encrypts channel credentials (WhatsApp tokens and app secrets) in the store. Unset: connectors that need credentials are unavailable. Changing it makes stored credentials unreadable.",
		set: func(c *Config, raw string) error {
			c.SecretKey = nil
			if strings.TrimSpace(raw) == "" {
				return nil
			}
			key, err := secretbox.ParseKey(raw)
			if err != nil {
				return err
			}
			c.SecretKey = key
			return nil
		}},
	{name: "DEV_LOGIN", def: "false", kind: "bool",
		help: "Serve a development sign-in at /auth/dev that signs anyone in as any email, with no password. Only with a loopback ADDR and without TRUST_PROXY; never in production.",
		set:  boolSetting(func(c *Config) *bool { return &c.DevLogin })},

	{name: "AI_BASE_URL", kind: "url",
		help: "Default OpenAI-compatible endpoint for AI drafts of workspaces on the openai provider that set none, like https://api.openai.com/v1, https://openrouter.ai/api/v1 or http://localhost:11434/v1 (Ollama).",
		set:  stringSetting(func(c *Config) *string { return &c.AIBaseURL })},
	{name: "AI_API_KEY", kind: "string",
		help: "Default API key for AI_BASE_URL, sent as a bearer token; a workspace's own key replaces it.",
		set:  stringSetting(func(c *Config) *string { return &c.AIAPIKey })},
	{name: "AI_MODEL", kind: "string",
		help: "Default model name for AI_BASE_URL, like gpt-4o-mini.",
		set:  stringSetting(func(c *Config) *string { return &c.AIModel })},
	{name: "AI_DRAFT_TIMEOUT", def: "0s", kind: "duration",
		help: "Longest one AI draft may take before it fails with reason timeout; 1s to 10m, 0s for the built-in 60s.",
		set:  durationSetting(func(c *Config) *time.Duration { return &c.AIDraftTimeout })},
	{name: "AI_MAX_CONCURRENT_DRAFTS", def: "0", kind: "int",
		help: "AI drafts written at once by this server; 1 to 256, 0 for the built-in 4.",
		set:  intSetting(func(c *Config) *int { return &c.AIMaxConcurrentDrafts })},
	{name: "AI_DRAFT_QUEUE", def: "0", kind: "int",
		help: "AI drafts that may wait for a free slot; beyond it a requested draft answers 503 ai_busy and an automatic one is skipped; 1 to 100000, 0 for the built-in 256.",
		set:  intSetting(func(c *Config) *int { return &c.AIDraftQueue })},
}

func stringSetting(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, raw string) error {
		*field(c) = strings.TrimSpace(raw)
		return nil
	}
}

func boolSetting(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, raw string) error {
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "1", "t", "true", "yes", "on":
			*field(c) = true
		case "0", "f", "false", "no", "off":
			*field(c) = false
		default:
			return fmt.Errorf("want true or false, got %q", raw)
		}
		return nil
	}
}

func intSetting(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, raw string) error {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", raw)
		}
		*field(c) = n
		return nil
	}
}

func int64Setting(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, raw string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("want a whole number, got %q", raw)
		}
		*field(c) = n
		return nil
	}
}

// durationSetting wants a unit on every value: a bare "120" is refused
// rather than guessed as seconds or nanoseconds.
func durationSetting(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, raw string) error {
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("want a duration with a unit such as 30s or 250ms, got %q", raw)
		}
		*field(c) = d
		return nil
	}
}

// listSetting splits on commas, trimming spaces and dropping empty items so
// a trailing comma is harmless.
func listSetting(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, raw string) error {
		var out []string
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
		*field(c) = out
		return nil
	}
}

func setLogLevel(c *Config, raw string) error {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return fmt.Errorf("want debug, info, warn or error, got %q", raw)
	}
	return nil
}

// Usage is the serve command's help text, listing every flag with its
// variable and default. main prints it when Load returns flag.ErrHelp.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: switchboard serve [flags]\n\n")
	b.WriteString("Every setting is a flag or an environment variable. A flag wins over\n")
	b.WriteString("its variable and a variable over the default; an empty variable is unset.\n\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "  --%s %s\n", s.flag(), s.kind)
		fmt.Fprintf(&b, "        %s\n", s.help)
		def := s.def
		if def == "" {
			def = "none"
		}
		fmt.Fprintf(&b, "        env %s, default %s\n", s.env(), def)
	}
	b.WriteString("\nWith no app configured and a loopback address, a development app\n")
	b.WriteString("(id app-id, key app-key, secret app-secret) is served; anywhere else\n")
	b.WriteString("the server refuses to start without an app.\n")
	return b.String()
}

// Reference is the settings table in Markdown, as kept in REFERENCE.md for
// the README; a test keeps the file in step with this function.
func Reference() string {
	var b strings.Builder
	b.WriteString("| Environment variable | Flag | Default | Meaning |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, s := range settings {
		def := "`" + s.def + "`"
		if s.def == "" {
			def = "(none)"
		}
		help := strings.ReplaceAll(s.help, "|", `\|`)
		fmt.Fprintf(&b, "| `%s` | `--%s` | %s | %s |\n", s.env(), s.flag(), def, help)
	}
	return b.String()
}
