// Command switchboard is a self-hosted realtime support inbox and a drop-in
// Pusher Channels server. Sub-commands: serve (the default), bench and
// version. main only wires: configuration, logger, hub, HTTP server,
// graceful shutdown.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/hub/rediscluster"
	"github.com/switchboard-inbox/switchboard/hub/webhook"
	"github.com/switchboard-inbox/switchboard/server"
	"github.com/switchboard-inbox/switchboard/server/ai"
	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/auth"
	"github.com/switchboard-inbox/switchboard/server/bench"
	"github.com/switchboard-inbox/switchboard/server/channels/outbox"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/config"
	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/extension"
	"github.com/switchboard-inbox/switchboard/server/inbox"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/retention"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/postgres"
	"github.com/switchboard-inbox/switchboard/server/store/sqlite"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `Usage: switchboard [command] [flags]

Commands:
  serve     run the server (the default); see "switchboard serve -h"
  migrate   apply the store's migrations and report the schema version
  workspace create a workspace with its owner and an API token: "switchboard workspace create -h"
  seed      fill a workspace with demonstration conversations: "switchboard seed -h"
  inbox     connect a channel: "switchboard inbox create -h"
  export    write a workspace's archive, a backup to import elsewhere: "switchboard export -h"
  import    restore a workspace archive into an empty server: "switchboard import -h"
  simulate  send a signed provider webhook to a running server: "switchboard simulate whatsapp|api|sms|messenger|instagram -h"
  bench     load-test a Pusher-compatible server; see "switchboard bench -h"
  version   print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd = "help"
	} else if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrateStore(ctx, args, getenv, stdout)
	case "workspace":
		return workspaceCommand(ctx, args, getenv, stdout, stderr)
	case "seed":
		return seedCommand(ctx, args, getenv, stdout, stderr)
	case "export":
		return exportCommand(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, args, getenv, stdout, stderr)
	case "inbox":
		return inboxCommand(ctx, args, getenv, stdout, stderr)
	case "simulate":
		if len(args) > 0 {
			for _, c := range connectors {
				if c.simulate == args[0] {
					return c.runSimulate(ctx, args[1:], stdout, stderr)
				}
			}
		}
		return fmt.Errorf(`usage: switchboard simulate %s [flags] (see "switchboard simulate whatsapp -h")`, simulateNames())
	case "bench":
		return bench.Run(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "switchboard", buildVersion())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// serve runs the server until ctx ends, then shuts down gracefully: stop
// accepting, tell websocket clients to reconnect (4200), flush webhooks.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, config.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	log.Info("starting", slog.String("version", buildVersion()), slog.Any("config", cfg))
	if cfg.DevApp {
		log.Warn("DEVELOPMENT APP ENABLED: id app-id, key app-key, secret app-secret. " +
			"Anyone who can reach this address can use it. Configure SWITCHBOARD_APP_ID/KEY/SECRET or SWITCHBOARD_APPS_FILE for real use.")
	}

	box, err := newSecretBox(cfg, log)
	if err != nil {
		return err
	}

	// Listen before starting anything that owns goroutines, so a refusal
	// to start leaves nothing behind.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (SWITCHBOARD_ADDR): %w", cfg.Addr, err)
	}
	defer ln.Close() // after Serve it is already closed; before, this releases it

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	aiMetrics, err := ai.NewMetrics(reg)
	if err != nil {
		return fmt.Errorf("ai metrics: %w", err)
	}
	retentionMetrics, err := retention.NewMetrics(reg)
	if err != nil {
		return fmt.Errorf("retention metrics: %w", err)
	}

	static, err := hub.NewStaticApps(cfg.Apps...)
	if err != nil {
		return fmt.Errorf("apps: %w", err)
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := media.NewDir(cfg.MediaPath())
	if err != nil {
		return fmt.Errorf("SWITCHBOARD_MEDIA_DIR: %w", err)
	}
	// Cutting access (a revoked token, a removed member, signing out
	// everywhere) closes the agent's open connections; the hub is set
	// once it exists, before anything is served.
	revoker := &inbox.AccessRevoker{Workspaces: st, Logger: log}
	signIn, err := newSignIn(cfg, st, ln.Addr().String(), log, revoker.AccessRevoked)
	if err != nil {
		return err
	}
	apps := &inbox.Apps{Static: static, Workspaces: st}
	webhooks := webhook.New(webhook.Options{
		Logger:        log,
		Registerer:    reg,
		BatchInterval: cfg.WebhookBatchInterval,
		MaxAttempts:   cfg.WebhookMaxAttempts,
	})
	broker, err := newBroker(cfg, log, reg)
	if err != nil {
		webhooks.Close(context.Background())
		return err
	}
	h, err := hub.New(hub.Options{
		Broker:                   broker,
		Apps:                     apps,
		Logger:                   log,
		Registerer:               reg,
		Webhooks:                 webhooks,
		ActivityTimeout:          cfg.ActivityTimeout,
		PongTimeout:              cfg.PongTimeout,
		WriteTimeout:             cfg.WriteTimeout,
		MaxMessageBytes:          int64(cfg.MaxMessageBytes),
		MaxChannelsPerConnection: cfg.MaxChannelsPerConnection,
		SendQueueFrames:          cfg.SendQueueFrames,
		MaxConnections:           cfg.MaxConnections,
	})
	if err != nil {
		webhooks.Close(context.Background())
		if c, ok := broker.(interface{ Close() error }); ok {
			c.Close()
		}
		return err
	}
	revoker.Hub = h
	// The relay publishes the inbox's committed events to the hub; the
	// sign-in's sweeper deletes expired sessions.
	relayOpts := inbox.RelayOptions{Logger: log}
	if cl, ok := broker.(*rediscluster.Cluster); ok {
		relayOpts.Leader = cl.Leader
	}
	// AI drafts start from the inbound messages the relay publishes.
	drafter := drafts.New(st, h, drafts.Options{
		Logger: log, Box: box, Metrics: aiMetrics,
		Default: drafts.Endpoint{BaseURL: cfg.AIBaseURL, APIKey: cfg.AIAPIKey, Model: cfg.AIModel},
		Workers: cfg.AIMaxConcurrentDrafts, Queue: cfg.AIDraftQueue, Timeout: cfg.AIDraftTimeout,
		Signals: h,
	})
	relayOpts.OnEvents = drafter.OnEvents
	relay := inbox.NewRelay(st, h, relayOpts)
	// The retention job deletes what each workspace's retention settings
	// expire; in a cluster only the leader runs it, as the relay sweeps.
	reaper := retention.New(retention.Options{Store: st, Blobs: blobs, Logger: log, Metrics: retentionMetrics,
		Leader: relayOpts.Leader, OnCommit: relay.Notify})
	// The erasure worker erases contacts on request (an owner or admin,
	// Meta's data-deletion callback); like the retention job, only the
	// leader runs it.
	eraser := datarights.New(datarights.Options{Store: st, Blobs: blobs, Drafts: drafter, Logger: log,
		OnCommit: relay.Notify, Leader: relayOpts.Leader})
	stopBackground := startBackground(relay.Run, signIn.Run, drafter.Run, reaper.Run, eraser.Run)
	// The outbox drainer sends queued replies through the channels; it
	// stops first on shutdown, finishing the send in flight, so the
	// relay still publishes the outcome.
	onCommit := relay.Notify
	stopDrainer := func() {}
	deps := connectorDeps{store: st, box: box, log: log, onCommit: relay.Notify, maxBody: cfg.MaxRequestBytes,
		publicURL: cfg.PublicURL, trustProxy: cfg.TrustProxy}
	deps.erasure = eraser
	// Agents' attachments reach the senders through this: their bytes,
	// or signed links the providers fetch from /media/public/.
	attachments := media.NewAttachments(media.AttachmentOptions{Store: st, Blobs: blobs, PublicURL: cfg.PublicURL,
		SecretKey: cfg.SecretKey, Logger: log})
	deps.attachments = attachments
	if drainer := newDrainer(cfg, deps); drainer != nil {
		onCommit = func(workspaceID int64) {
			relay.Notify(workspaceID)
			drainer.Notify(workspaceID)
		}
		stopDrainer = startBackground(drainer.Run)
	}
	// The media downloader fetches inbound messages' media into the
	// blob store; connectors wake it when they store a message.
	stopDownloader := func() {}
	if downloader := newDownloader(cfg, deps, blobs); downloader != nil {
		deps.onCommit = func(workspaceID int64) {
			relay.Notify(workspaceID)
			downloader.Notify(workspaceID)
		}
		stopDownloader = startBackground(downloader.Run)
	}

	srv := &http.Server{
		Handler: server.New(server.Options{
			Hub:             h,
			Apps:            apps,
			Logger:          log,
			Store:           st,
			Gatherer:        reg,
			MaxRequestBytes: cfg.MaxRequestBytes,
			API: api.New(st, api.Options{
				Logger:       log,
				MaxBodyBytes: cfg.MaxRequestBytes,
				OnCommit:     onCommit,
				// A removed member's or revoked token's agent loses its
				// open connections at once.
				OnAccessRevoked: revoker.AccessRevoked,
				Sessions:        signIn,
				Connectors:      apiConnectors(box),
				Media:           blobs,
				MaxUploadBytes:  cfg.MediaMaxBytes,
				AI:              drafter,
				Retention:       reaper,
				Erasure:         eraser,
			}),
			PusherAuth:     api.NewPusherAuth(st, api.Options{Logger: log, Sessions: signIn}),
			PusherUserAuth: api.NewPusherUserAuth(st, api.Options{Logger: log, Sessions: signIn}),
			Channels:       channelsHandler(deps),
			PublicMedia:    attachments.Handler(),
			Auth:           signIn,
			Extension:      extension.New(extension.Options{Store: st, Sessions: signIn, Logger: log}),
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Int("apps", len(cfg.Apps)))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		err = fmt.Errorf("serve: %w", err)
		stopDrainer()
		stopDownloader()
		stopBackground()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		return errors.Join(err, h.Shutdown(sctx), webhooks.Close(sctx))
	case <-ctx.Done():
	}

	log.Info("shutting down", slog.Duration("timeout", cfg.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Stop accepting first so no new connection arrives while the hub
	// tells the open ones to reconnect elsewhere.
	// The drainer stops claiming at once and finishes its send in flight
	// while HTTP requests drain; a reply stored meanwhile stays queued
	// for the next start (or another replica).
	drained := make(chan struct{})
	go func() { defer close(drained); stopDrainer() }()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http: %w", err))
	}
	<-drained
	stopDownloader()
	stopBackground()
	if err := h.Shutdown(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := webhooks.Close(sctx); err != nil {
		errs = append(errs, fmt.Errorf("webhooks: %w", err))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// startBackground runs each fn in a goroutine of its own until the
// returned stop is called; stop cancels their context and waits for them
// all to return.
func startBackground(fns ...func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() { fn(ctx) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// newSignIn returns browser sign-in as configured: Google when its
// client is set, the development sign-in when asked for (on loopback
// only, which config has checked and auth.New checks again against the
// address actually bound).
func newSignIn(cfg *config.Config, st store.Store, boundAddr string, log *slog.Logger, revoked func(workspaceID, agentID int64)) (*auth.Auth, error) {
	opts := auth.Options{
		OnSignedOutEverywhere: revoked,
		Store:                 st,
		Logger:                log,
		PublicURL:             cfg.PublicURL,
		TrustProxy:            cfg.TrustProxy,
		DevLogin:              cfg.DevLogin,
		ListenAddr:            boundAddr,
		Lifetime:              cfg.SessionLifetime,
		IdleTimeout:           cfg.SessionIdleTimeout,
	}
	if cfg.GoogleClientID != "" {
		opts.Google = &auth.Google{ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleClientSecret}
	}
	a, err := auth.New(opts)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	if cfg.DevLogin {
		log.Warn("DEVELOPMENT SIGN-IN ENABLED at " + auth.DevPath + ": anyone who can reach this address can sign in as anyone. " +
			"Unset SWITCHBOARD_DEV_LOGIN and configure Google sign-in for real use.")
	}
	return a, nil
}

// newBroker returns the Redis cluster broker when SWITCHBOARD_REDIS_URL is
// set, else nil: the hub's in-process broker. Redis need not answer yet;
// the replica reports not ready until it does.
func newBroker(cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) (hub.Broker, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	rediscluster.LogTo(log)
	rdb, err := rediscluster.Connect(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_REDIS_URL: %w", err)
	}
	cl, err := rediscluster.New(rediscluster.Options{
		Client:     rdb,
		Prefix:     cfg.RedisPrefix,
		Logger:     log,
		Registerer: reg,
		Heartbeat:  cfg.ClusterHeartbeat,
	})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		log.Warn("redis is not reachable yet; serving this replica's clients only until it is", slog.Any("err", err))
	}
	log.Info("cluster broker", slog.String("node", cl.NodeID()), slog.String("prefix", cfg.RedisPrefix))
	return cl, nil
}

// openStore opens and migrates the inbox store: Postgres when
// SWITCHBOARD_DATABASE_URL is set, else the embedded SQLite file.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		st, err := postgres.NewWithLogger(ctx, cfg.DatabaseURL, log)
		if err != nil {
			return nil, fmt.Errorf("store (SWITCHBOARD_DATABASE_URL): %w", err)
		}
		log.Info("store opened", slog.String("driver", "postgres"))
		return st, nil
	}
	st, err := sqlite.New(ctx, cfg.SQLitePath)
	if err != nil {
		return nil, fmt.Errorf("store (SWITCHBOARD_SQLITE_PATH): %w", err)
	}
	log.Info("store opened", slog.String("driver", "sqlite"), slog.String("path", cfg.SQLitePath))
	return st, nil
}

// migrateStore applies pending migrations (opening the store does) and
// reports the schema version.
func migrateStore(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, "Usage: switchboard migrate [flags]\n\nTakes the same settings as serve; only the store's are used.\n\n"+config.Usage())
		return nil
	}
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.Close()
	current, latest, err := st.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(stdout, "schema at version %d (newest known: %d)\n", current, latest)
	return nil
}

// workspaceCommand runs "workspace create": it creates a workspace (a
// Pusher app), its owner and an owner API token, and prints them as JSON.
// It is how a server is bootstrapped before Google sign-in is configured.
// Store settings come from the environment, as for serve.
func workspaceCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New(`usage: switchboard workspace create --name NAME --owner-email EMAIL [--owner-name NAME]`)
	}
	fs := flag.NewFlagSet("workspace create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "workspace name (required)")
	email := fs.String("owner-email", "", "owner's email address (required)")
	owner := fs.String("owner-name", "", "owner's display name")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.Close()
	ws, agent, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: *name, OwnerEmail: *email, OwnerName: *owner})
	if err != nil {
		return fmt.Errorf("workspace create: %w", err)
	}
	_, token, err := st.CreateAPIToken(ctx, ws.ID, store.NewAPIToken{AgentID: agent.ID, Name: "created by switchboard workspace create", Role: store.RoleOwner})
	if err != nil {
		return fmt.Errorf("workspace create: token: %w", err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	fmt.Fprintln(stderr, "The API token is shown only this once; it is stored hashed.")
	return enc.Encode(map[string]any{
		"workspace_id": ws.ID, "name": ws.Name,
		"app_id": ws.AppID, "app_key": ws.AppKey, "app_secret": ws.AppSecret,
		"owner_agent_id": agent.ID, "owner_email": agent.Email,
		"api_token": token,
	})
}

// seedUsage is seed's -h text, before the flags.
const seedUsage = `Usage: switchboard seed --workspace ID [--conversations N] [--messages N] [--bulk[=false]]

Fills a workspace with demonstration conversations, each with a new contact,
in a new API inbox, and prints what it created as JSON; progress goes to
stderr. Store settings come from the environment, as for serve.

It writes one of two ways:
  row by row  through the store's ordinary writes, one transaction and one
              event per row, as live traffic would: a few thousand messages
              a second. Messages are all the customer's.
  bulk        the whole seed in one transaction (COPY on Postgres, batched
              INSERTs on SQLite), the customer's messages alternating with
              replies in generated, searchable text; instead of an event per
              row it appends one workspace.imported event, on which live
              clients refetch. For benchmark-sized data: 100,000
              conversations of 10 messages take one to two minutes.
Without --bulk, a seed of 10000 messages or more is bulk-loaded when the store
can, and a smaller one written row by row; --bulk forces bulk and
--bulk=false forces row by row.

Flags:
`

// seedCommand fills a workspace with demonstration data (see seedUsage)
// and prints what it created as JSON.
func seedCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), seedUsage)
		fs.PrintDefaults()
	}
	wsID := fs.Int64("workspace", 0, "workspace id (required; see switchboard workspace create)")
	convs := fs.Int("conversations", 10, "conversations to create")
	msgs := fs.Int("messages", 3, "messages per conversation")
	bulk := fs.Bool("bulk", false, "bulk-load (default: from 10000 messages); --bulk=false writes row by row")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *wsID <= 0 {
		return errors.New("seed: --workspace is required")
	}
	mode := inbox.SeedAuto
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "bulk" {
			mode = inbox.SeedRowByRow
			if *bulk {
				mode = inbox.SeedBulk
			}
		}
	})
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return err
	}
	defer st.Close()
	// Report at every twentieth of the way, whatever the batches.
	step := max(*convs/20, 1)
	next := step
	start := time.Now()
	res, err := inbox.Seed(ctx, st, *wsID, inbox.SeedOptions{
		Conversations: *convs,
		Messages:      *msgs,
		Mode:          mode,
		Progress: func(done, total int) {
			if done < next && done != total {
				return
			}
			for next <= done {
				next += step
			}
			fmt.Fprintf(stderr, "seed: %d/%d conversations (%s)\n", done, total, time.Since(start).Round(time.Millisecond))
		},
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	how := "row by row"
	if res.Bulk {
		how = "in bulk"
	}
	fmt.Fprintf(stderr, "seed: %d conversations, %d messages %s in %s (%.0f messages/s)\n",
		res.Conversations, res.Messages, how, took.Round(time.Millisecond), float64(res.Messages)/took.Seconds())
	return json.NewEncoder(stdout).Encode(res)
}

// newDrainer returns the outbox drainer with a sender per connector that
// can send, or nil when none can: without SWITCHBOARD_SECRET_KEY no
// credentials open, and replies stay queued in the outbox until a server
// with the key drains them. A send in flight at shutdown gets at most the
// shutdown timeout.
func newDrainer(cfg *config.Config, d connectorDeps) *outbox.Drainer {
	if d.box == nil {
		return nil // newSecretBox has warned
	}
	return outbox.New(outbox.Options{
		Store:       d.store,
		Senders:     senders(d),
		Logger:      d.log,
		OnCommit:    d.onCommit,
		SendTimeout: min(outbox.DefaultSendTimeout, cfg.ShutdownTimeout),
	})
}

// newSecretBox returns the box that seals channel credentials, or nil
// (with a warning) when SWITCHBOARD_SECRET_KEY is unset: the server still
// runs, and connectors that need credentials answer 503 saying why.
func newSecretBox(cfg *config.Config, log *slog.Logger) (*secretbox.Box, error) {
	if cfg.SecretKey == nil {
		log.Warn("SWITCHBOARD_SECRET_KEY is not set: channel connectors (WhatsApp, Messenger, Instagram, SMS, API) are unavailable, and replies to their conversations stay queued, unsent")
		return nil, nil
	}
	box, err := secretbox.New(cfg.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_SECRET_KEY: %w", err)
	}
	return box, nil
}

const inboxUsage = `Usage:
  switchboard inbox create --workspace ID --kind KIND --name NAME --config JSON|@FILE
  switchboard inbox configure --workspace ID --inbox ID --config JSON|@FILE
  switchboard inbox create-whatsapp --workspace ID --name NAME --phone-number-id ID --app-secret SECRET [--verify-token TOKEN] [--access-token TOKEN]
  switchboard inbox configure-whatsapp --workspace ID --inbox ID --phone-number-id ID --app-secret SECRET [--verify-token TOKEN] [--access-token TOKEN]

create connects a channel of any kind (whatsapp, messenger, instagram, sms,
api) with its configuration as JSON (the fields are in README, "Connectors"),
and configure replaces an inbox's configuration; --config @file reads it
from a file, and - from stdin, so no secret needs to be on the command line.
create-whatsapp connects a WhatsApp Cloud API number as a new inbox;
configure-whatsapp replaces an inbox's configuration (to rotate secrets).
The app secret, verify token and access token are sealed with
SWITCHBOARD_SECRET_KEY before they are stored, and never printed back; a
verify token left out is generated and printed once. Prints the inbox id and
the webhook path to give Meta. Store settings come from the environment, as
for serve.

Flags:
`

// inboxCommand runs "inbox create-whatsapp" and "inbox configure-whatsapp"
// (see inboxUsage) and prints the inbox as JSON, secrets left out.
func inboxCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "create" || args[0] == "configure") {
		return inboxConfigCommand(ctx, args, getenv, stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "create-whatsapp" && args[0] != "configure-whatsapp") {
		fmt.Fprint(stderr, inboxUsage)
		return errors.New("usage: switchboard inbox create|configure|create-whatsapp|configure-whatsapp [flags]")
	}
	create := args[0] == "create-whatsapp"
	fs := flag.NewFlagSet("inbox "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), inboxUsage)
		fs.PrintDefaults()
	}
	wsID := fs.Int64("workspace", 0, "workspace id (required)")
	inboxID := fs.Int64("inbox", 0, "inbox id (configure-whatsapp only)")
	name := fs.String("name", "", "inbox name (create-whatsapp only)")
	var wc whatsapp.Config
	fs.StringVar(&wc.PhoneNumberID, "phone-number-id", "", "the business number's phone number id in the Cloud API (required)")
	fs.StringVar(&wc.AppSecret, "app-secret", "", "the Meta app's secret, which signs webhooks (required)")
	fs.StringVar(&wc.VerifyToken, "verify-token", "", "token Meta sends when subscribing the webhook (default: generated and printed once)")
	fs.StringVar(&wc.AccessToken, "access-token", "", "Cloud API access token, for replies (the outbound connector)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case *wsID <= 0:
		return errors.New("inbox: --workspace is required")
	case create && strings.TrimSpace(*name) == "":
		return errors.New("inbox create-whatsapp: --name is required")
	case !create && *inboxID <= 0:
		return errors.New("inbox configure-whatsapp: --inbox is required")
	}
	generated := wc.VerifyToken == ""
	if generated {
		wc.VerifyToken = randomToken()
	}
	if err := wc.Validate(); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	raw, err := json.Marshal(wc)
	if err != nil {
		return err
	}
	var kind store.InboxKind // configure-whatsapp: the inbox's own
	if create {
		kind = store.InboxWhatsApp
	}
	in, _, err := applyInboxConfig(ctx, getenv, *wsID, *inboxID, kind, *name, raw)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", args[0], err)
	}
	out := map[string]any{
		"inbox_id": in.ID, "workspace_id": in.WorkspaceID, "name": in.Name, "kind": in.Kind,
		"phone_number_id": wc.PhoneNumberID,
		"webhook_path":    fmt.Sprintf("/channels/whatsapp/%d/webhook", in.ID),
	}
	if generated {
		fmt.Fprintln(stderr, "The generated verify token is shown only this once; give it to Meta with the webhook URL.")
		out["verify_token"] = wc.VerifyToken
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// randomToken returns 24 random bytes as URL-safe base64.
func randomToken() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
