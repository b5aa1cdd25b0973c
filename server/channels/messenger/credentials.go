package messenger

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Config is a Messenger or Instagram inbox's configuration. The ids are
// not secret and live in the inbox's settings; the rest is sealed into
// its credentials and never leaves the server.
//
// A Messenger inbox (a Facebook Page) sets PageID. An Instagram inbox
// sets InstagramAccountID, and PageID too when it is connected through
// the Facebook Page linked to the account (Messenger API for Instagram,
// Facebook Login): replies are then sent through that page.
type Config struct {
	// PageID is the Facebook Page's id: webhook entries and echoes of
	// a Messenger inbox name it.
	PageID string `json:"page_id,omitempty"`
	// InstagramAccountID is the Instagram professional account's id
	// (IGID): webhook entries of an Instagram inbox name it.
	InstagramAccountID string `json:"instagram_account_id,omitempty"`
	// AppID is the Meta app's id. An echo carrying it is a message
	// Switchboard sent itself, already in the inbox.
	AppID string `json:"app_id"`
	// AppSecret is the Meta app's secret, the HMAC key of
	// X-Hub-Signature-256.
	AppSecret string `json:"app_secret"`
	// VerifyToken is what Meta echoes when the webhook is subscribed.
	VerifyToken string `json:"verify_token"`
	// PageAccessToken authorises sends through the Send API; without it
	// the inbox only receives.
	PageAccessToken string `json:"page_access_token,omitempty"`
}

// credentials is the sealed part, as JSON.
type credentials struct {
	AppSecret       string `json:"app_secret"`
	VerifyToken     string `json:"verify_token"`
	PageAccessToken string `json:"page_access_token,omitempty"`
}

type settings struct {
	PageID             string `json:"page_id,omitempty"`
	InstagramAccountID string `json:"instagram_account_id,omitempty"`
	AppID              string `json:"app_id"`
}

// Kind is the inbox kind the configuration is for: Instagram when it
// names an Instagram account, Messenger otherwise.
func (c Config) Kind() store.InboxKind {
	if strings.TrimSpace(c.InstagramAccountID) != "" {
		return store.InboxInstagram
	}
	return store.InboxMessenger
}

// Validate reports the first missing setting.
func (c Config) Validate() error {
	switch {
	case strings.TrimSpace(c.PageID) == "" && strings.TrimSpace(c.InstagramAccountID) == "":
		return errors.New("page_id (Messenger) or instagram_account_id (Instagram) is required")
	case strings.TrimSpace(c.AppID) == "":
		return errors.New("app_id is required")
	case strings.TrimSpace(c.AppSecret) == "":
		return errors.New("app_secret is required")
	case strings.TrimSpace(c.VerifyToken) == "":
		return errors.New("verify_token is required")
	}
	return nil
}

// validFor is Validate for an inbox of kind: a Messenger inbox names a
// page and no Instagram account, an Instagram inbox names an account.
func (c Config) validFor(kind store.InboxKind) error {
	if err := c.Validate(); err != nil {
		return err
	}
	switch kind {
	case store.InboxMessenger:
		if strings.TrimSpace(c.InstagramAccountID) != "" {
			return errors.New("a Messenger inbox takes page_id, not instagram_account_id")
		}
	case store.InboxInstagram:
		if strings.TrimSpace(c.InstagramAccountID) == "" {
			return errors.New("an Instagram inbox needs instagram_account_id")
		}
	default:
		return fmt.Errorf("inbox kind %q is not Messenger or Instagram", kind)
	}
	return nil
}

// Seal returns the inbox settings and sealed credentials that
// store.Store.ConfigureInbox keeps for cfg, bound to an inbox of
// cfg.Kind(). SealFor checks the kind against the inbox's.
func Seal(box *secretbox.Box, inboxID int64, cfg Config) (json.RawMessage, []byte, error) {
	return SealFor(box, cfg.Kind(), inboxID, cfg)
}

// SealFor is Seal for an inbox of a known kind: a configuration of the
// other kind is refused (wrapping connector.ErrInvalidConfig), as its
// credentials would not open for the inbox.
func SealFor(box *secretbox.Box, kind store.InboxKind, inboxID int64, cfg Config) (json.RawMessage, []byte, error) {
	if err := cfg.validFor(kind); err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %v", kind, connector.ErrInvalidConfig, err)
	}
	return connector.SealCredentials(box, kind, inboxID,
		settings{
			PageID:             strings.TrimSpace(cfg.PageID),
			InstagramAccountID: strings.TrimSpace(cfg.InstagramAccountID),
			AppID:              strings.TrimSpace(cfg.AppID),
		},
		credentials{AppSecret: cfg.AppSecret, VerifyToken: cfg.VerifyToken, PageAccessToken: cfg.PageAccessToken})
}

// SealConfig is Seal for a configuration given as JSON (the fields of
// Config); the kind follows from the fields (Config.Kind). Errors about
// the configuration wrap connector.ErrInvalidConfig.
func SealConfig(box *secretbox.Box, inboxID int64, raw json.RawMessage) (json.RawMessage, []byte, error) {
	var cfg Config
	if err := connector.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("messenger: %w", err)
	}
	return Seal(box, inboxID, cfg)
}

// SealConfigFor is SealConfig for an inbox of a known kind, refusing a
// configuration of the other kind; prefer it where the kind is known.
func SealConfigFor(box *secretbox.Box, kind store.InboxKind, inboxID int64, raw json.RawMessage) (json.RawMessage, []byte, error) {
	var cfg Config
	if err := connector.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", kind, err)
	}
	return SealFor(box, kind, inboxID, cfg)
}

// Errors of Open, which the webhook answers 503 to.
var (
	// ErrNotConfigured: the inbox has no credentials.
	ErrNotConfigured = connector.ErrNotConfigured
	// ErrUnavailable: the server has no SWITCHBOARD_SECRET_KEY.
	ErrUnavailable = connector.ErrUnavailable
)

// Open returns the configuration of a Messenger or Instagram inbox.
func Open(box *secretbox.Box, in store.Inbox) (Config, error) {
	var c credentials
	var s settings
	if err := connector.OpenCredentials(box, in, &s, &c); err != nil {
		return Config{}, err
	}
	return Config{
		PageID: s.PageID, InstagramAccountID: s.InstagramAccountID, AppID: s.AppID,
		AppSecret: c.AppSecret, VerifyToken: c.VerifyToken, PageAccessToken: c.PageAccessToken,
	}, nil
}

// accountID is the id webhook entries of the inbox name: the Instagram
// account's for Instagram, the page's for Messenger.
func (c Config) accountID(kind store.InboxKind) string {
	if kind == store.InboxInstagram {
		return c.InstagramAccountID
	}
	return c.PageID
}
