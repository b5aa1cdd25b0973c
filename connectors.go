package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/channels/outbox"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/config"
	"github.com/switchboard-inbox/switchboard/server/datarights"
	"github.com/switchboard-inbox/switchboard/server/media"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// connectorDeps is what every connector is built from.
type connectorDeps struct {
	store    store.Store
	box      *secretbox.Box
	log      *slog.Logger
	onCommit func(workspaceID int64)
	maxBody  int64
	// publicURL and trustProxy tell a connector the URL a provider
	// signed (Twilio signs the full URL it requested).
	publicURL  string
	trustProxy bool
	// attachments gives the senders agents' uploads: their bytes and
	// signed public links to them (nil: no media is sent).
	attachments connector.Attachments
	// erasure runs the erasures Meta's data-deletion callback asks for;
	// nil mounts no callback.
	erasure *datarights.Service
}

// channelConnector is one channel connector as serve and the CLI use it:
// its webhook handler (mounted under /channels/), its outbound sender for
// the outbox drainer, how an inbox's configuration is sealed, and its
// `switchboard simulate` command.
type channelConnector struct {
	kind store.InboxKind
	// simulate is the provider name `switchboard simulate` takes.
	simulate    string
	webhookPath string
	handler     func(connectorDeps) http.Handler
	sender      func(connectorDeps) outbox.Sender
	seal        func(box *secretbox.Box, inboxID int64, config json.RawMessage) (json.RawMessage, []byte, error)
	runSimulate func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// connectors are every channel connector, one per inbox kind.
var connectors = []channelConnector{
	{
		kind: store.InboxWhatsApp, simulate: "whatsapp", webhookPath: whatsapp.WebhookPath,
		handler: func(d connectorDeps) http.Handler {
			return whatsapp.New(whatsapp.Options{Store: d.store, Box: d.box, Logger: d.log, OnCommit: d.onCommit, MaxBodyBytes: d.maxBody})
		},
		sender: func(d connectorDeps) outbox.Sender {
			return whatsapp.NewSender(whatsapp.SenderOptions{Store: d.store, Box: d.box, Attachments: d.attachments})
		},
		seal:        whatsapp.SealConfig,
		runSimulate: whatsapp.RunSimulate,
	},
	{
		kind: store.InboxAPI, simulate: "api", webhookPath: apichannel.WebhookPath,
		handler: func(d connectorDeps) http.Handler {
			return apichannel.New(apichannel.Options{Store: d.store, Box: d.box, Logger: d.log, OnCommit: d.onCommit})
		},
		sender: func(d connectorDeps) outbox.Sender {
			return apichannel.NewSender(apichannel.SenderOptions{Store: d.store, Box: d.box, Attachments: d.attachments})
		},
		seal:        apichannel.SealConfig,
		runSimulate: apichannel.RunSimulate,
	},
	{
		kind: store.InboxSMS, simulate: "sms", webhookPath: twilio.WebhookPath,
		handler: func(d connectorDeps) http.Handler {
			return twilio.New(twilio.Options{Store: d.store, Box: d.box, Logger: d.log, OnCommit: d.onCommit, MaxBodyBytes: d.maxBody,
				PublicURL: d.publicURL, TrustProxy: d.trustProxy})
		},
		sender: func(d connectorDeps) outbox.Sender {
			return twilio.NewSender(twilio.SenderOptions{Store: d.store, Box: d.box, PublicURL: d.publicURL, Attachments: d.attachments})
		},
		seal:        twilio.SealConfig,
		runSimulate: twilio.RunSimulate,
	},
	messengerConnector(store.InboxMessenger, "messenger", messenger.WebhookPath, messenger.RunSimulate),
	messengerConnector(store.InboxInstagram, "instagram", messenger.InstagramWebhookPath, messenger.RunSimulateInstagram),
}

// messengerConnector is Messenger's or Instagram's: one package serves
// both, told the kind.
func messengerConnector(kind store.InboxKind, name, path string, simulate func(context.Context, []string, io.Writer, io.Writer) error) channelConnector {
	return channelConnector{
		kind: kind, simulate: name, webhookPath: path,
		handler: func(d connectorDeps) http.Handler {
			return messenger.New(messenger.Options{Kind: kind, Store: d.store, Box: d.box, Logger: d.log, OnCommit: d.onCommit, MaxBodyBytes: d.maxBody})
		},
		sender: func(d connectorDeps) outbox.Sender {
			return messenger.NewSender(messenger.SenderOptions{Store: d.store, Box: d.box, Attachments: d.attachments})
		},
		seal: func(box *secretbox.Box, inboxID int64, config json.RawMessage) (json.RawMessage, []byte, error) {
			return messenger.SealConfigFor(box, kind, inboxID, config)
		},
		runSimulate: simulate,
	}
}

// connectorFor returns the connector of kind.
func connectorFor(kind store.InboxKind) (channelConnector, bool) {
	i := slices.IndexFunc(connectors, func(c channelConnector) bool { return c.kind == kind })
	if i < 0 {
		return channelConnector{}, false
	}
	return connectors[i], true
}

// simulateNames lists the providers `switchboard simulate` knows.
func simulateNames() string {
	var names []string
	for _, c := range connectors {
		names = append(names, c.simulate)
	}
	return strings.Join(names, "|")
}

// channelsHandler serves every connector's webhooks under /channels/.
func channelsHandler(d connectorDeps) http.Handler {
	mux := http.NewServeMux()
	for _, c := range connectors {
		// "/channels/whatsapp/{inbox_id}/webhook" mounts at "/channels/whatsapp/".
		prefix := c.webhookPath[:strings.Index(c.webhookPath, "{")]
		mux.Handle(prefix, c.handler(d))
	}
	if d.erasure != nil {
		mux.Handle("/channels/meta/", dataDeletionHandler(d))
	}
	return mux
}

// senders returns the outbox drainer's sender per inbox kind.
func senders(d connectorDeps) map[store.InboxKind]outbox.Sender {
	out := map[store.InboxKind]outbox.Sender{}
	for _, c := range connectors {
		if c.sender != nil {
			out[c.kind] = c.sender(d)
		}
	}
	return out
}

// newDownloader returns the media downloader, or nil when it cannot
// download: without SWITCHBOARD_SECRET_KEY no credentials open, and media
// stays pending until a server with the key downloads it. A download in
// flight at shutdown is abandoned and released for the next start.
func newDownloader(cfg *config.Config, d connectorDeps, blobs media.Blobs) *media.Downloader {
	if d.box == nil {
		return nil // newSecretBox has warned
	}
	return media.NewDownloader(media.Options{
		Store:    d.store,
		Blobs:    blobs,
		Fetchers: media.Fetchers(media.FetcherOptions{Box: d.box}),
		Logger:   d.log,
		OnCommit: d.onCommit,
		MaxBytes: cfg.MediaMaxBytes,
	})
}

// apiConnectors gives the REST API each connector's sealing under box.
func apiConnectors(box *secretbox.Box) map[store.InboxKind]api.Connector {
	out := map[store.InboxKind]api.Connector{}
	for _, c := range connectors {
		seal := c.seal
		out[c.kind] = api.Connector{
			Seal: func(inboxID int64, config json.RawMessage) (json.RawMessage, []byte, error) {
				return seal(box, inboxID, config)
			},
			WebhookPath: c.webhookPath,
		}
	}
	return out
}

// inboxConfigCommand runs "inbox create" and "inbox configure" (see
// inboxUsage) and prints the inbox as JSON, secrets left out.
func inboxConfigCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	create := args[0] == "create"
	fs := flag.NewFlagSet("inbox "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), inboxUsage)
		fs.PrintDefaults()
	}
	wsID := fs.Int64("workspace", 0, "workspace id (required)")
	inboxID := fs.Int64("inbox", 0, "inbox id (configure only)")
	kind := fs.String("kind", "", "whatsapp, messenger, instagram, sms or api (create only)")
	name := fs.String("name", "", "inbox name (create only)")
	configArg := fs.String("config", "", "the configuration as JSON, @FILE to read it from a file, or - for stdin (required)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("inbox %s: unexpected argument %q", args[0], fs.Arg(0))
	case *wsID <= 0:
		return fmt.Errorf("inbox %s: --workspace is required", args[0])
	case create && strings.TrimSpace(*name) == "":
		return errors.New("inbox create: --name is required")
	case !create && *inboxID <= 0:
		return errors.New("inbox configure: --inbox is required")
	case *configArg == "":
		return fmt.Errorf("inbox %s: --config is required", args[0])
	}
	raw, err := readConfigArg(*configArg)
	if err != nil {
		return fmt.Errorf("inbox %s: --config: %w", args[0], err)
	}
	var k store.InboxKind
	if create {
		k = store.InboxKind(*kind)
	}
	in, c, err := applyInboxConfig(ctx, getenv, *wsID, *inboxID, k, *name, raw)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", args[0], err)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"inbox_id": in.ID, "workspace_id": in.WorkspaceID, "name": in.Name, "kind": in.Kind,
		"settings":     json.RawMessage(store.ObjectOrEmpty(in.Settings)),
		"webhook_path": strings.ReplaceAll(c.webhookPath, "{inbox_id}", strconv.FormatInt(in.ID, 10)),
	})
}

// applyInboxConfig creates an inbox of kind named name (kind set) or
// loads inbox inboxID, and seals raw as its configuration. The
// configuration is checked before an inbox is created, so a refused one
// creates nothing.
func applyInboxConfig(ctx context.Context, getenv func(string) string, wsID, inboxID int64, kind store.InboxKind, name string,
	raw json.RawMessage) (store.Inbox, channelConnector, error) {
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return store.Inbox{}, channelConnector{}, err
	}
	box, err := newSecretBox(cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return store.Inbox{}, channelConnector{}, err
	}
	if box == nil {
		return store.Inbox{}, channelConnector{}, errors.New("SWITCHBOARD_SECRET_KEY is not set; it encrypts the credentials (generate one with: openssl rand -hex 32)")
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return store.Inbox{}, channelConnector{}, err
	}
	defer st.Close()
	var in store.Inbox
	if kind != "" {
		c, ok := connectorFor(kind)
		if !ok {
			return store.Inbox{}, channelConnector{}, fmt.Errorf("--kind must be one of %s", simulateNames())
		}
		// The credentials are sealed for the inbox's id, so the inbox is
		// created first; the configuration is checked before.
		if _, _, err := c.seal(box, 0, raw); err != nil {
			return store.Inbox{}, channelConnector{}, err
		}
		if in, err = st.CreateInbox(ctx, wsID, store.NewInbox{Kind: c.kind, Name: name}); err != nil {
			return store.Inbox{}, channelConnector{}, err
		}
	} else if in, err = st.Inbox(ctx, wsID, inboxID); err != nil {
		return store.Inbox{}, channelConnector{}, err
	}
	c, ok := connectorFor(in.Kind)
	if !ok {
		return store.Inbox{}, channelConnector{}, fmt.Errorf("inbox %d: no connector for %s inboxes", in.ID, in.Kind)
	}
	settings, sealed, err := c.seal(box, in.ID, raw)
	if err != nil {
		return store.Inbox{}, channelConnector{}, fmt.Errorf("inbox %d: %w", in.ID, err)
	}
	if in, err = st.ConfigureInbox(ctx, in.WorkspaceID, in.ID, settings, sealed); err != nil {
		return store.Inbox{}, channelConnector{}, fmt.Errorf("inbox %d (created, not configured; run inbox configure): %w", in.ID, err)
	}
	return in, c, nil
}

// readConfigArg reads --config: inline JSON, @file, or - for stdin.
func readConfigArg(arg string) (json.RawMessage, error) {
	var b []byte
	var err error
	switch {
	case arg == "-":
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	case strings.HasPrefix(arg, "@"):
		b, err = os.ReadFile(arg[1:])
	default:
		b = []byte(arg)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, errors.New("not valid JSON")
	}
	return b, nil
}

// dataDeletionHandler serves Meta's data-deletion callback for the
// WhatsApp, Messenger and Instagram inboxes, checked with each inbox's
// app secret, and the status page its answer links to.
func dataDeletionHandler(d connectorDeps) http.Handler {
	return datarights.NewCallback(datarights.CallbackOptions{Store: d.store, Service: d.erasure, Logger: d.log,
		PublicURL: d.publicURL, TrustProxy: d.trustProxy,
		AppSecret: func(in store.Inbox) (string, error) { return metaAppSecret(d.box, in) }})
}

// metaAppSecret opens the Meta app secret of a WhatsApp, Messenger or
// Instagram inbox; datarights.ErrNoAppSecret when it has none.
func metaAppSecret(box *secretbox.Box, in store.Inbox) (string, error) {
	var (
		secret string
		err    error
	)
	switch in.Kind {
	case store.InboxWhatsApp:
		var cfg whatsapp.Config
		cfg, err = whatsapp.Open(box, in)
		secret = cfg.AppSecret
	case store.InboxMessenger, store.InboxInstagram:
		var cfg messenger.Config
		cfg, err = messenger.Open(box, in)
		secret = cfg.AppSecret
	default:
		return "", datarights.ErrNoAppSecret
	}
	if errors.Is(err, whatsapp.ErrNotConfigured) || errors.Is(err, whatsapp.ErrUnavailable) || (err == nil && secret == "") {
		return "", datarights.ErrNoAppSecret
	}
	return secret, err
}
