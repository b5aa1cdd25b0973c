package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestConnectorsEndToEnd wires every connector through the real commands:
// an inbox of each kind created with `inbox create`, a customer message
// sent to the running server with `simulate <provider>`, and the REST API
// showing one conversation per inbox. It also shows the REST API lists
// them and never shows their secrets.
func TestConnectorsEndToEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connectors.db")
	key := strings.Repeat("5a", 32)
	env := map[string]string{"SWITCHBOARD_SQLITE_PATH": path, "SWITCHBOARD_SECRET_KEY": key}
	ctx := context.Background()
	cli := func(args ...string) []byte {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, args, envOf(env), &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.Bytes()
	}
	var ws struct {
		WorkspaceID int64  `json:"workspace_id"`
		APIToken    string `json:"api_token"`
	}
	if err := json.Unmarshal(cli("workspace", "create", "--name", "Acme", "--owner-email", "owner@acme.test"), &ws); err != nil {
		t.Fatal(err)
	}
	wsFlag := fmt.Sprint(ws.WorkspaceID)

	const (
		appSecret = "meta-app-secret"
		twToken   = "twilio-auth-token-value"
		twAccount = "AC0123456789abcdef0123456789abcdef"
		apiToken  = "inbound-token-0123456789abcdef0123456789"
	)
	kinds := []struct {
		kind, config string
		simulate     func(url, inbox string) []string
	}{
		{"whatsapp", `{"phone_number_id":"106540352242922","verify_token":"v","app_secret":"` + appSecret + `"}`,
			func(url, inbox string) []string {
				return []string{"simulate", "whatsapp", "--url", url, "--inbox", inbox, "--app-secret", appSecret, "--phone-number-id", "106540352242922", "--from", "+15550001", "--text", "hi on whatsapp"}
			}},
		{"sms", `{"account_sid":"` + twAccount + `","auth_token":"` + twToken + `","phone_number":"+14155559999"}`,
			func(url, inbox string) []string {
				return []string{"simulate", "sms", "--url", url, "--inbox", inbox, "--account-sid", twAccount, "--auth-token", twToken, "--from", "+14155550100", "--to", "+14155559999", "--text", "hi by sms"}
			}},
		{"messenger", `{"page_id":"1122334455","app_id":"777","app_secret":"` + appSecret + `","verify_token":"v"}`,
			func(url, inbox string) []string {
				return []string{"simulate", "messenger", "--url", url, "--inbox", inbox, "--app-secret", appSecret, "--page-id", "1122334455", "--from", "6783961241632418", "--text", "hi on messenger"}
			}},
		{"instagram", `{"instagram_account_id":"17841400000000000","app_id":"777","app_secret":"` + appSecret + `","verify_token":"v"}`,
			func(url, inbox string) []string {
				return []string{"simulate", "instagram", "--url", url, "--inbox", inbox, "--app-secret", appSecret, "--page-id", "17841400000000000", "--from", "1914223215685731", "--text", "hi on instagram"}
			}},
		{"api", `{"inbound_token":"` + apiToken + `"}`,
			func(url, inbox string) []string {
				return []string{"simulate", "api", "--url", url, "--inbox", inbox, "--token", apiToken, "--from", "user-42", "--text", "hi from the website"}
			}},
	}
	inboxes := map[string]string{}
	for _, k := range kinds {
		var in struct {
			InboxID     int64  `json:"inbox_id"`
			WebhookPath string `json:"webhook_path"`
		}
		if err := json.Unmarshal(cli("inbox", "create", "--workspace", wsFlag, "--kind", k.kind, "--name", k.kind+" line", "--config", k.config), &in); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(in.WebhookPath, "/channels/") || !strings.Contains(in.WebhookPath, fmt.Sprint(in.InboxID)) {
			t.Fatalf("%s: webhook path %q", k.kind, in.WebhookPath)
		}
		inboxes[k.kind] = fmt.Sprint(in.InboxID)
	}
	// A refused configuration creates nothing.
	var errOut bytes.Buffer
	err := run(ctx, []string{"inbox", "create", "--workspace", wsFlag, "--kind", "sms", "--name", "bad", "--config", `{"account_sid":"nope"}`}, envOf(env), &bytes.Buffer{}, &errOut)
	if err == nil || !strings.Contains(err.Error(), "invalid configuration") {
		t.Fatalf("bad config: %v", err)
	}

	// The one-line WhatsApp command generates and prints a verify token.
	var wa struct {
		InboxID     int64  `json:"inbox_id"`
		VerifyToken string `json:"verify_token"`
		WebhookPath string `json:"webhook_path"`
	}
	if err := json.Unmarshal(cli("inbox", "create-whatsapp", "--workspace", wsFlag, "--name", "Second line",
		"--phone-number-id", "2", "--app-secret", appSecret), &wa); err != nil {
		t.Fatal(err)
	}
	if wa.InboxID == 0 || len(wa.VerifyToken) < 20 || wa.WebhookPath != fmt.Sprintf("/channels/whatsapp/%d/webhook", wa.InboxID) {
		t.Fatalf("create-whatsapp printed %+v", wa)
	}
	if err := run(ctx, []string{"inbox", "configure-whatsapp", "--workspace", wsFlag, "--inbox", inboxes["sms"],
		"--phone-number-id", "2", "--app-secret", appSecret}, envOf(env), &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
		t.Fatal("configure-whatsapp sealed a WhatsApp configuration into an SMS inbox")
	}
	inboxes["whatsapp-2"] = fmt.Sprint(wa.InboxID)

	s := startServe(t, env)
	url := "http://" + s.addr
	for _, k := range kinds {
		cli(k.simulate(url, inboxes[k.kind])...)
	}
	if err := run(ctx, []string{"simulate", "telegram"}, envOf(env), &bytes.Buffer{}, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "whatsapp|api|sms|messenger|instagram") {
		t.Fatalf("simulate telegram: %v", err)
	}

	get := func(path string, v any) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+ws.APIToken)
		resp, err := newHTTPClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, buf.String())
		}
		if err := json.Unmarshal(buf.Bytes(), v); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	var convs struct {
		Conversations []struct {
			InboxID int64 `json:"inbox_id"`
		} `json:"conversations"`
	}
	get("/api/v1/conversations?limit=50", &convs)
	seen := map[string]bool{}
	for _, c := range convs.Conversations {
		seen[fmt.Sprint(c.InboxID)] = true
	}
	for kind, id := range inboxes {
		if !seen[id] && kind != "whatsapp-2" {
			t.Errorf("no conversation in the %s inbox %s: %+v", kind, id, convs)
		}
	}
	if len(convs.Conversations) != len(kinds) {
		t.Errorf("%d conversations, want %d", len(convs.Conversations), len(kinds))
	}
	var list struct {
		Inboxes []struct {
			Kind       string `json:"kind"`
			Configured bool   `json:"configured"`
		} `json:"inboxes"`
	}
	raw := get("/api/v1/inboxes", &list)
	if len(list.Inboxes) != len(kinds)+1 {
		t.Errorf("inboxes %+v", list)
	}
	for _, secret := range []string{appSecret, twToken, apiToken} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("GET /api/v1/inboxes shows a secret: %s", raw)
		}
	}
}
