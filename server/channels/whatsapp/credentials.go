package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Config is a WhatsApp inbox's configuration. PhoneNumberID is not secret
// and lives in the inbox's settings; the rest is sealed into its
// credentials and never leaves the server.
type Config struct {
	// PhoneNumberID is the Cloud API id of the business number; changes
	// for another number are not this inbox's.
	PhoneNumberID string `json:"phone_number_id"`
	// VerifyToken is what Meta echoes when the webhook is subscribed.
	VerifyToken string `json:"verify_token"`
	// AppSecret is the Meta app's secret, the HMAC key of
	// X-Hub-Signature-256.
	AppSecret string `json:"app_secret"`
	// AccessToken authorises sends through the Graph API.
	AccessToken string `json:"access_token,omitempty"`
}

// credentials is the sealed part, as JSON.
type credentials struct {
	VerifyToken string `json:"verify_token"`
	AppSecret   string `json:"app_secret"`
	AccessToken string `json:"access_token,omitempty"`
}

type settings struct {
	PhoneNumberID string `json:"phone_number_id"`
}

// Validate reports the first missing setting.
func (c Config) Validate() error {
	switch {
	case strings.TrimSpace(c.PhoneNumberID) == "":
		return errors.New("phone number id is required")
	case strings.TrimSpace(c.VerifyToken) == "":
		return errors.New("verify token is required")
	case strings.TrimSpace(c.AppSecret) == "":
		return errors.New("app secret is required")
	}
	return nil
}

// Seal returns the inbox settings and sealed credentials that
// store.Store.ConfigureInbox keeps for cfg.
func Seal(box *secretbox.Box, inboxID int64, cfg Config) (json.RawMessage, []byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("whatsapp: %w", err)
	}
	return connector.SealCredentials(box, store.InboxWhatsApp, inboxID,
		settings{PhoneNumberID: strings.TrimSpace(cfg.PhoneNumberID)},
		credentials{VerifyToken: cfg.VerifyToken, AppSecret: cfg.AppSecret, AccessToken: cfg.AccessToken})
}

// SealConfig is Seal for a configuration given as JSON (the fields of
// Config); errors about the configuration wrap connector.ErrInvalidConfig.
func SealConfig(box *secretbox.Box, inboxID int64, raw json.RawMessage) (json.RawMessage, []byte, error) {
	var cfg Config
	if err := connector.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("whatsapp: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("whatsapp: %w: %v", connector.ErrInvalidConfig, err)
	}
	return Seal(box, inboxID, cfg)
}

// Errors of Open, which the webhook answers 503 to.
var (
	// ErrNotConfigured: the inbox has no WhatsApp credentials.
	ErrNotConfigured = connector.ErrNotConfigured
	// ErrUnavailable: the server has no SWITCHBOARD_SECRET_KEY.
	ErrUnavailable = connector.ErrUnavailable
)

// Open returns the configuration of a WhatsApp inbox.
func Open(box *secretbox.Box, in store.Inbox) (Config, error) {
	var c credentials
	var s settings
	if err := connector.OpenCredentials(box, in, &s, &c); err != nil {
		return Config{}, err
	}
	return Config{PhoneNumberID: s.PhoneNumberID, VerifyToken: c.VerifyToken, AppSecret: c.AppSecret, AccessToken: c.AccessToken}, nil
}
