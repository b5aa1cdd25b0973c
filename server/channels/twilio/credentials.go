package twilio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// Config is an SMS inbox's Twilio configuration. The account, number,
// messaging service and API key SIDs are identifiers, kept in the inbox's
// settings; the auth token and API key secret are sealed into its
// credentials and never leave the server.
type Config struct {
	// AccountSID is the Twilio account (AC…); webhooks for another
	// account are not this inbox's.
	AccountSID string `json:"account_sid"`
	// AuthToken is the account's auth token: the HMAC key of
	// X-Twilio-Signature, and the API password unless an API key is set.
	AuthToken string `json:"auth_token"`
	// PhoneNumber is the inbox's Twilio number in E.164 (+14155550100):
	// inbound messages must be to it, replies are sent from it.
	PhoneNumber string `json:"phone_number,omitempty"`
	// MessagingServiceSID (MG…) sends replies through a Messaging
	// Service instead of, or together with, PhoneNumber.
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
	// APIKeySID (SK…) and APIKeySecret authenticate API calls instead of
	// the auth token, when set.
	APIKeySID    string `json:"api_key_sid,omitempty"`
	APIKeySecret string `json:"api_key_secret,omitempty"`
}

// credentials is the sealed part, as JSON.
type credentials struct {
	AuthToken    string `json:"auth_token"`
	APIKeySecret string `json:"api_key_secret,omitempty"`
}

type settings struct {
	AccountSID          string `json:"account_sid"`
	PhoneNumber         string `json:"phone_number,omitempty"`
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
	APIKeySID           string `json:"api_key_sid,omitempty"`
}

// Validate reports the first missing or malformed setting.
func (c Config) Validate() error {
	switch {
	case strings.TrimSpace(c.AccountSID) == "":
		return errors.New("account_sid is required")
	case !validSID("AC", c.AccountSID):
		return errors.New("account_sid must be AC followed by 32 hex digits")
	case strings.TrimSpace(c.AuthToken) == "":
		return errors.New("auth_token is required")
	case c.PhoneNumber == "" && c.MessagingServiceSID == "":
		return errors.New("phone_number or messaging_service_sid is required")
	case c.PhoneNumber != "" && !IsE164(c.PhoneNumber):
		return fmt.Errorf("phone_number must be in E.164 form such as +14155550100, got %.40q", c.PhoneNumber)
	case c.MessagingServiceSID != "" && !validSID("MG", c.MessagingServiceSID):
		return errors.New("messaging_service_sid must be MG followed by 32 hex digits")
	case (c.APIKeySID == "") != (c.APIKeySecret == ""):
		return errors.New("api_key_sid and api_key_secret go together")
	case c.APIKeySID != "" && !validSID("SK", c.APIKeySID):
		return errors.New("api_key_sid must be SK followed by 32 hex digits")
	}
	return nil
}

// IsE164 reports whether s is a phone number in E.164 form: a plus and 2
// to 15 digits, the first not 0.
func IsE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validSID reports whether s is a Twilio SID of the given two-letter
// prefix: the prefix and 32 hex digits.
func validSID(prefix, s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, r := range s[2:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}

// normalize trims what a user may have pasted around the values.
func (c Config) normalize() Config {
	c.AccountSID = strings.TrimSpace(c.AccountSID)
	c.AuthToken = strings.TrimSpace(c.AuthToken)
	c.PhoneNumber = strings.TrimSpace(c.PhoneNumber)
	c.MessagingServiceSID = strings.TrimSpace(c.MessagingServiceSID)
	c.APIKeySID = strings.TrimSpace(c.APIKeySID)
	c.APIKeySecret = strings.TrimSpace(c.APIKeySecret)
	return c
}

// Seal returns the inbox settings and sealed credentials that
// store.Store.ConfigureInbox keeps for cfg.
func Seal(box *secretbox.Box, inboxID int64, cfg Config) (json.RawMessage, []byte, error) {
	cfg = cfg.normalize()
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("twilio: %w", err)
	}
	return connector.SealCredentials(box, store.InboxSMS, inboxID,
		settings{AccountSID: cfg.AccountSID, PhoneNumber: cfg.PhoneNumber, MessagingServiceSID: cfg.MessagingServiceSID, APIKeySID: cfg.APIKeySID},
		credentials{AuthToken: cfg.AuthToken, APIKeySecret: cfg.APIKeySecret})
}

// SealConfig is Seal for a configuration given as JSON (the fields of
// Config); errors about the configuration wrap connector.ErrInvalidConfig.
func SealConfig(box *secretbox.Box, inboxID int64, raw json.RawMessage) (json.RawMessage, []byte, error) {
	var cfg Config
	if err := connector.DecodeConfig(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("twilio: %w", err)
	}
	cfg = cfg.normalize()
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("twilio: %w: %v", connector.ErrInvalidConfig, err)
	}
	return Seal(box, inboxID, cfg)
}

// Errors of Open, which the webhook answers 503 to.
var (
	// ErrNotConfigured: the inbox has no Twilio credentials.
	ErrNotConfigured = connector.ErrNotConfigured
	// ErrUnavailable: the server has no SWITCHBOARD_SECRET_KEY.
	ErrUnavailable = connector.ErrUnavailable
)

// Open returns the configuration of an SMS inbox.
func Open(box *secretbox.Box, in store.Inbox) (Config, error) {
	var c credentials
	var s settings
	if err := connector.OpenCredentials(box, in, &s, &c); err != nil {
		return Config{}, err
	}
	return Config{
		AccountSID: s.AccountSID, AuthToken: c.AuthToken,
		PhoneNumber: s.PhoneNumber, MessagingServiceSID: s.MessagingServiceSID,
		APIKeySID: s.APIKeySID, APIKeySecret: c.APIKeySecret,
	}, nil
}
