package apichannel_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/channels/apichannel"
	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestSealConfig(t *testing.T) {
	tok, sec := strings.Repeat("t", 32), strings.Repeat("s", 32)
	tests := []struct {
		name, raw string
		wantErr   string // empty: accepted
	}{
		{"inbound only", `{"inbound_token":"` + tok + `"}`, ""},
		{"with webhook", `{"inbound_token":"` + tok + `","webhook_url":"https://hooks.example.com/sb?k=1","webhook_secret":"` + sec + `"}`, ""},
		{"http webhook", `{"inbound_token":"` + tok + `","webhook_url":"http://10.0.0.5:9000/hook","webhook_secret":"` + sec + `"}`, ""},
		{"no token", `{}`, "inbound_token: is required"},
		{"short token", `{"inbound_token":"short"}`, "inbound_token: must be at least 32 characters"},
		{"token with a space", `{"inbound_token":"` + tok + ` x"}`, "inbound_token: must be printable ASCII"},
		{"token not ASCII", `{"inbound_token":"` + tok + `é"}`, "inbound_token: must be printable ASCII"},
		{"url without secret", `{"inbound_token":"` + tok + `","webhook_url":"https://hooks.example.com"}`, "webhook_secret: is required with webhook_url"},
		{"short secret", `{"inbound_token":"` + tok + `","webhook_url":"https://hooks.example.com","webhook_secret":"x"}`, "webhook_secret: must be at least 32"},
		{"ftp url", `{"inbound_token":"` + tok + `","webhook_url":"ftp://hooks.example.com","webhook_secret":"` + sec + `"}`, "webhook_url: must be an http or https URL"},
		{"relative url", `{"inbound_token":"` + tok + `","webhook_url":"/hook","webhook_secret":"` + sec + `"}`, "webhook_url: must be an http or https URL"},
		{"url without host", `{"inbound_token":"` + tok + `","webhook_url":"https:///hook","webhook_secret":"` + sec + `"}`, "webhook_url: must name a host"},
		{"url with fragment", `{"inbound_token":"` + tok + `","webhook_url":"https://h.example.com/#x","webhook_secret":"` + sec + `"}`, "webhook_url: must not have a fragment"},
		{"not a url", `{"inbound_token":"` + tok + `","webhook_url":"https://exa mple.com","webhook_secret":"` + sec + `"}`, "webhook_url: is not a URL"},
		{"unknown field", `{"inbound_token":"` + tok + `","verify_token":"x"}`, "unknown field"},
		{"trailing data", `{"inbound_token":"` + tok + `"} {}`, "trailing data"},
		{"not an object", `"` + tok + `"`, "invalid configuration"},
	}
	box := newBox(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings, sealed, err := apichannel.SealConfig(box, 7, json.RawMessage(tt.raw))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if strings.Contains(string(settings), tok) || strings.Contains(string(settings), sec) || strings.Contains(string(sealed), tok) {
					t.Fatalf("a secret is in the clear: settings %s", settings)
				}
				return
			}
			if !errors.Is(err, connector.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want ErrInvalidConfig with %q", err, tt.wantErr)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	st := teststore.SQLite(t)
	ctx := context.Background()
	box := newBox(t)
	ws, _, err := st.CreateWorkspace(ctx, store.NewWorkspace{Name: "Acme", OwnerEmail: "owner@example.com"})
	must(t, err)
	in, err := st.CreateInbox(ctx, ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "Web"})
	must(t, err)
	cfg := apichannel.Config{InboundToken: inboundToken, WebhookURL: "https://hooks.example.com/sb", WebhookSecret: webhookSecret}
	settings, sealed, err := apichannel.Seal(box, in.ID, cfg)
	must(t, err)
	if string(settings) != `{"webhook_url":"https://hooks.example.com/sb"}` {
		t.Fatalf("settings %s: want only the webhook URL", settings)
	}
	in, err = st.ConfigureInbox(ctx, ws.ID, in.ID, settings, sealed)
	must(t, err)
	got, err := apichannel.Open(box, in)
	if err != nil || got != cfg {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, cfg)
	}
	// Sealed for one inbox, the credentials do not open on another.
	other, err := st.CreateInbox(ctx, ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "Other"})
	must(t, err)
	other, err = st.ConfigureInbox(ctx, ws.ID, other.ID, settings, sealed)
	must(t, err)
	if _, err := apichannel.Open(box, other); err == nil {
		t.Fatal("credentials copied to another inbox opened there")
	}
	if _, err := apichannel.Open(nil, in); !errors.Is(err, apichannel.ErrUnavailable) {
		t.Fatalf("Open without a box: %v, want ErrUnavailable", err)
	}
	if _, _, err := apichannel.Seal(box, in.ID, apichannel.Config{InboundToken: "short"}); err == nil {
		t.Fatal("Seal took an invalid configuration")
	}
}
