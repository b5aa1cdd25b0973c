package apichannel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Limits of a configuration.
const (
	// MinSecretLength is the shortest inbound token or webhook secret
	// accepted: 32 characters, as from `openssl rand -hex 16`.
	MinSecretLength = 32
	// maxSecretLength and maxURLLength bound what is sealed and sent.
	maxSecretLength = 512
	maxURLLength    = 2048
)

// Config is an API inbox's configuration. WebhookURL is not secret and
// lives in the inbox's settings; the two secrets are sealed into its
// credentials and never leave the server.
type Config struct {
	// InboundToken authenticates the source posting messages in:
	// "Authorization: Bearer <InboundToken>".
	InboundToken string `json:"inbound_token"`
	// WebhookURL receives agent replies; without it replies fail with a
	// message saying so.
	WebhookURL string `json:"webhook_url,omitempty"`
	// WebhookSecret is the HMAC-SHA256 key of X-Switchboard-Signature on
	// every webhook; required with WebhookURL.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// credentials is the sealed part, as JSON.
type credentials struct {
	InboundToken  string `json:"inbound_token"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

type settings struct {
	WebhookURL string `json:"webhook_url,omitempty"`
}

// Validate reports the first invalid setting, naming its field.
func (c Config) Validate() error {
	if err := validToken(c.InboundToken); err != nil {
		return fmt.Errorf("inbound_token: %w", err)
	}
	if c.WebhookURL == "" {
		if c.WebhookSecret != "" {
			if err := validSecret(c.WebhookSecret); err != nil {
				return fmt.Errorf("webhook_secret: %w", err)
			}
		}
		return nil
	}
	if err := validWebhookURL(c.WebhookURL); err != nil {
		return fmt.Errorf("webhook_url: %w", err)
	}
	if c.WebhookSecret == "" {
		return errors.New("webhook_secret: is required with webhook_url")
	}
	if err := validSecret(c.WebhookSecret); err != nil {
		return fmt.Errorf("webhook_secret: %w", err)
	}
	return nil
}

// validToken accepts what fits a bearer token in a header: printable
// ASCII without spaces.
func validToken(s string) error {
	if err := validSecret(s); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	return nil
}

func validSecret(s string) error {
	switch {
	case s == "":
		return errors.New("is required")
	case len(s) < MinSecretLength:
		return fmt.Errorf("must be at least %d characters", MinSecretLength)
	case len(s) > maxSecretLength:
		return fmt.Errorf("must be at most %d characters", maxSecretLength)
	}
	return nil
}

func validWebhookURL(s string) error {
	if len(s) > maxURLLength {
		return fmt.Errorf("must be at most %d characters", maxURLLength)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("must name a host")
	case strings.Contains(s, "#"):
		return errors.New("must not have a fragment")
	}
	return nil
}

// Seal returns the inbox settings and sealed credentials that
// store.Store.ConfigureInbox keeps for cfg.
func Seal(box *secretbox.Box, inboxID int64, cfg Config) (json.RawMessage, []byte, error) {
	cfg.WebhookURL = strings.TrimSpace(cfg.WebhookURL)
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("api channel: %w", err)
	}
	return connector.SealCredentials(box, store.InboxAPI, inboxID,
		settings{WebhookURL: cfg.WebhookURL},
		credentials{InboundToken: cfg.InboundToken, WebhookSecret: cfg.WebhookSecret})
}

// SealConfig is Seal for a configuration given as JSON (the fields of
// Config); errors about the configuration wrap connector.ErrInvalidConfig.
func SealConfig(box *secretbox.Box, inboxID int64, raw json.RawMessage) (json.RawMessage, []byte, error) {
	var cfg Config
	if err := connector.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("api channel: %w", err)
	}
	cfg.WebhookURL = strings.TrimSpace(cfg.WebhookURL)
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("api channel: %w: %v", connector.ErrInvalidConfig, err)
	}
	return Seal(box, inboxID, cfg)
}

// Errors of Open, which the inbound endpoint answers 503 to.
var (
	// ErrNotConfigured: the inbox has no API channel credentials.
	ErrNotConfigured = connector.ErrNotConfigured
	// ErrUnavailable: the server has no SWITCHBOARD_SECRET_KEY.
	ErrUnavailable = connector.ErrUnavailable
)

// Open returns the configuration of an API inbox.
func Open(box *secretbox.Box, in store.Inbox) (Config, error) {
	var c credentials
	var s settings
	if err := connector.OpenCredentials(box, in, &s, &c); err != nil {
		return Config{}, err
	}
	return Config{InboundToken: c.InboundToken, WebhookURL: s.WebhookURL, WebhookSecret: c.WebhookSecret}, nil
}
