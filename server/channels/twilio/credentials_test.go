package twilio_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/twilio"
	"github.com/switchboard-inbox/switchboard/server/store"
)

func TestConfigValidate(t *testing.T) {
	ok := twilio.Config{AccountSID: accountSID, AuthToken: authToken, PhoneNumber: inboxNumber}
	tests := []struct {
		name   string
		change func(*twilio.Config)
		want   string
	}{
		{"complete", func(*twilio.Config) {}, ""},
		{"messaging service only", func(c *twilio.Config) {
			c.PhoneNumber, c.MessagingServiceSID = "", "MG0a1b2c3d4e5f60718293a4b5c6d7e8f9"
		}, ""},
		{"with an API key", func(c *twilio.Config) {
			c.APIKeySID, c.APIKeySecret = "SK0123456789abcdef0123456789abcdef", "key-secret"
		}, ""},
		{"no account", func(c *twilio.Config) { c.AccountSID = "" }, "account_sid is required"},
		{"account not a SID", func(c *twilio.Config) { c.AccountSID = "AC123" }, "account_sid must be"},
		{"account of another kind", func(c *twilio.Config) { c.AccountSID = "SK" + accountSID[2:] }, "account_sid must be"},
		{"no token", func(c *twilio.Config) { c.AuthToken = " " }, "auth_token is required"},
		{"no sender", func(c *twilio.Config) { c.PhoneNumber = "" }, "phone_number or messaging_service_sid"},
		{"national number", func(c *twilio.Config) { c.PhoneNumber = "(415) 555-9999" }, "E.164"},
		{"number with a zero", func(c *twilio.Config) { c.PhoneNumber = "+0415" }, "E.164"},
		{"bad service", func(c *twilio.Config) { c.MessagingServiceSID = "MGxyz" }, "messaging_service_sid must be"},
		{"key without secret", func(c *twilio.Config) { c.APIKeySID = "SK0123456789abcdef0123456789abcdef" }, "go together"},
		{"secret without key", func(c *twilio.Config) { c.APIKeySecret = "s" }, "go together"},
		{"bad key", func(c *twilio.Config) { c.APIKeySID, c.APIKeySecret = "AK0123456789abcdef0123456789abcdef", "s" }, "api_key_sid must be"},
	}
	for _, tt := range tests {
		c := ok
		tt.change(&c)
		err := c.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSealConfigAndOpen(t *testing.T) {
	box, _ := secretbox.New(bytes.Repeat([]byte{1}, secretbox.KeySize))
	raw := json.RawMessage(`{"account_sid":" ` + accountSID + ` ","auth_token":"` + authToken + `","phone_number":"+14155559999","api_key_sid":"SK0123456789abcdef0123456789abcdef","api_key_secret":"key-secret"}`)
	settings, sealed, err := twilio.SealConfig(box, 7, raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(settings), authToken) || strings.Contains(string(settings), "key-secret") || bytes.Contains(sealed, []byte(authToken)) {
		t.Fatalf("a secret is in the clear: settings %s", settings)
	}
	var s map[string]string
	if err := json.Unmarshal(settings, &s); err != nil || s["account_sid"] != accountSID || s["phone_number"] != inboxNumber || s["api_key_sid"] == "" {
		t.Fatalf("settings %s: want the identifiers, trimmed", settings)
	}
	in := store.Inbox{ID: 7, Kind: store.InboxSMS, Settings: settings, Credentials: sealed}
	cfg, err := twilio.Open(box, in)
	if err != nil {
		t.Fatal(err)
	}
	want := twilio.Config{AccountSID: accountSID, AuthToken: authToken, PhoneNumber: inboxNumber, APIKeySID: "SK0123456789abcdef0123456789abcdef", APIKeySecret: "key-secret"}
	if cfg != want {
		t.Fatalf("Open = %+v, want %+v", cfg, want)
	}
	in.ID = 8
	if _, err := twilio.Open(box, in); err == nil {
		t.Fatal("credentials sealed for inbox 7 opened for inbox 8")
	}
	if _, err := twilio.Open(nil, in); !errors.Is(err, twilio.ErrUnavailable) {
		t.Fatalf("Open without a key: %v", err)
	}
	if _, err := twilio.Open(box, store.Inbox{ID: 9, Kind: store.InboxSMS}); !errors.Is(err, twilio.ErrNotConfigured) {
		t.Fatalf("Open unconfigured: %v", err)
	}

	for name, raw := range map[string]string{
		"not JSON":      `{"account_sid":`,
		"unknown field": `{"account_sid":"` + accountSID + `","auth_token":"x","phone_number":"+14155559999","token":"x"}`,
		"trailing data": `{"account_sid":"` + accountSID + `","auth_token":"x","phone_number":"+14155559999"} {}`,
		"invalid":       `{"account_sid":"` + accountSID + `","auth_token":"x"}`,
	} {
		if _, _, err := twilio.SealConfig(box, 7, json.RawMessage(raw)); !errors.Is(err, connector.ErrInvalidConfig) || strings.Contains(err.Error(), authToken) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, _, err := twilio.SealConfig(nil, 7, raw); !errors.Is(err, twilio.ErrUnavailable) {
		t.Errorf("SealConfig without a key: %v", err)
	}
}
