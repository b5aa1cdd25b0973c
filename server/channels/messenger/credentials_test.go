package messenger_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/messenger"
	"github.com/switchboard-inbox/switchboard/server/store"
)

func TestSealConfig(t *testing.T) {
	box := testBox(t)
	const inboxID = 7
	tests := []struct {
		name string
		kind store.InboxKind
		raw  string
		want string // "" for accepted; else a part of the error
	}{
		{"messenger", store.InboxMessenger, `{"page_id":"1477823465785462","app_id":"1517776481860111","app_secret":"s","verify_token":"v","page_access_token":"EAAG"}`, ""},
		{"instagram", store.InboxInstagram, `{"instagram_account_id":"17841405822304914","app_id":"1","app_secret":"s","verify_token":"v"}`, ""},
		{"instagram through its page", store.InboxInstagram, `{"instagram_account_id":"17841405822304914","page_id":"1","app_id":"1","app_secret":"s","verify_token":"v"}`, ""},
		{"no ids", store.InboxMessenger, `{"app_id":"1","app_secret":"s","verify_token":"v"}`, "page_id"},
		{"no app id", store.InboxMessenger, `{"page_id":"1","app_secret":"s","verify_token":"v"}`, "app_id is required"},
		{"no app secret", store.InboxMessenger, `{"page_id":"1","app_id":"1","verify_token":"v"}`, "app_secret is required"},
		{"blank verify token", store.InboxMessenger, `{"page_id":"1","app_id":"1","app_secret":"s","verify_token":"  "}`, "verify_token is required"},
		{"unknown field", store.InboxMessenger, `{"page_id":"1","app_id":"1","app_secret":"s","verify_token":"v","phone_number_id":"2"}`, "unknown field"},
		{"not an object", store.InboxMessenger, `["page_id"]`, "cannot unmarshal"},
		{"trailing data", store.InboxMessenger, `{"page_id":"1","app_id":"1","app_secret":"s","verify_token":"v"} {}`, "trailing data"},
		{"instagram config for a messenger inbox", store.InboxMessenger, `{"instagram_account_id":"1","app_id":"1","app_secret":"s","verify_token":"v"}`, "not instagram_account_id"},
		{"messenger config for an instagram inbox", store.InboxInstagram, `{"page_id":"1","app_id":"1","app_secret":"s","verify_token":"v"}`, "needs instagram_account_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings, sealed, err := messenger.SealConfigFor(box, tt.kind, inboxID, json.RawMessage(tt.raw))
			if tt.want != "" {
				if !errors.Is(err, connector.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want ErrInvalidConfig with %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(settings), `"s"`) || strings.Contains(string(sealed), "EAAG") {
				t.Fatalf("a secret is readable: settings %s", settings)
			}
			var want messenger.Config
			if err := json.Unmarshal([]byte(tt.raw), &want); err != nil {
				t.Fatal(err)
			}
			got, err := messenger.Open(box, store.Inbox{ID: inboxID, Kind: tt.kind, Settings: settings, Credentials: sealed})
			if err != nil || got != want {
				t.Fatalf("opened %+v, %v; want %+v", got, err, want)
			}
			// The kind follows from the fields when not given.
			if _, _, err := messenger.SealConfig(box, inboxID, json.RawMessage(tt.raw)); err != nil {
				t.Fatalf("SealConfig: %v", err)
			}
			// Bound to the inbox: another inbox's row does not open them.
			if _, err := messenger.Open(box, store.Inbox{ID: inboxID + 1, Kind: tt.kind, Settings: settings, Credentials: sealed}); err == nil {
				t.Fatal("credentials opened for another inbox")
			}
		})
	}
	if _, _, err := messenger.SealConfig(nil, inboxID, json.RawMessage(tests[0].raw)); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("without a key: %v, want ErrUnavailable", err)
	}
	if _, err := messenger.Open(box, store.Inbox{ID: inboxID, Kind: store.InboxMessenger}); !errors.Is(err, messenger.ErrNotConfigured) {
		t.Fatalf("unconfigured inbox: %v, want ErrNotConfigured", err)
	}
}
