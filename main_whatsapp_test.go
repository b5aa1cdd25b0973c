package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/storetest"
)

const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // 32 bytes, base64

// TestServeWhatsAppInbound runs the WhatsApp inbound slice end to end on
// both stores: a workspace and a WhatsApp inbox made with the CLI, the
// real server, Meta's verification handshake, and signed webhooks sent
// by "simulate whatsapp", whose message lands in the inbox once however
// often it is delivered and shows in the workspace's event log.
func TestServeWhatsAppInbound(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			env := map[string]string{"SWITCHBOARD_SECRET_KEY": testSecretKey}
			if dialect == "sqlite" {
				env["SWITCHBOARD_SQLITE_PATH"] = filepath.Join(t.TempDir(), "wa.db")
			} else {
				env["SWITCHBOARD_DATABASE_URL"] = storetest.FreshPostgres(t)
			}
			ctx := context.Background()
			var out, errOut bytes.Buffer
			if err := run(ctx, []string{"workspace", "create", "--name", "Acme", "--owner-email", "owner@acme.test"}, envOf(env), &out, &errOut); err != nil {
				t.Fatalf("workspace create: %v (%s)", err, errOut.String())
			}
			var ws struct {
				WorkspaceID int64  `json:"workspace_id"`
				APIToken    string `json:"api_token"`
			}
			if err := json.Unmarshal(out.Bytes(), &ws); err != nil {
				t.Fatal(err)
			}

			const appSecret = "meta-app-secret-e2e"
			out.Reset()
			err := run(ctx, []string{"inbox", "create-whatsapp", "--workspace", fmt.Sprint(ws.WorkspaceID), "--name", "Support",
				"--phone-number-id", "106540352242922", "--app-secret", appSecret, "--access-token", "EAAG-e2e-token"}, envOf(env), &out, io.Discard)
			if err != nil {
				t.Fatalf("inbox create-whatsapp: %v", err)
			}
			if strings.Contains(out.String(), appSecret) || strings.Contains(out.String(), "EAAG-e2e-token") {
				t.Fatalf("inbox create-whatsapp printed a secret: %s", out.String())
			}
			var in struct {
				InboxID     int64  `json:"inbox_id"`
				WebhookPath string `json:"webhook_path"`
				VerifyToken string `json:"verify_token"`
			}
			if err := json.Unmarshal(out.Bytes(), &in); err != nil || in.InboxID == 0 || in.VerifyToken == "" {
				t.Fatalf("inbox create-whatsapp output %q: %v", out.String(), err)
			}

			s := startServe(t, env)
			client := newHTTPClient(t)
			base := "http://" + s.addr

			// Meta's subscription handshake.
			resp, err := client.Get(base + in.WebhookPath + "?hub.mode=subscribe&hub.challenge=8675309&hub.verify_token=" + in.VerifyToken)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "8675309" {
				t.Fatalf("verification: %s %q", resp.Status, body)
			}
			resp, err = client.Get(base + in.WebhookPath + "?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("verification with a wrong token: %s, want 403", resp.Status)
			}

			simulate := func(secret string) (string, error) {
				var out bytes.Buffer
				err := run(ctx, []string{"simulate", "whatsapp", "--url", base, "--inbox", fmt.Sprint(in.InboxID), "--app-secret", secret,
					"--phone-number-id", "106540352242922", "--from", "+15551234567", "--name", "Ann", "--text", "Hello", "--id", "wamid.E2E1"},
					envOf(nil), &out, io.Discard)
				return out.String(), err
			}
			for i, want := range []string{`"messages":1`, `"duplicates":1`} {
				got, err := simulate(appSecret)
				if err != nil || !strings.Contains(got, "200 OK") || !strings.Contains(got, want) {
					t.Fatalf("delivery %d: %v\n%s\nwant 200 with %s", i+1, err, got, want)
				}
			}
			if got, err := simulate("wrong-secret"); err == nil || !strings.Contains(got, "401") {
				t.Fatalf("wrongly signed delivery: %v\n%s\nwant 401", err, got)
			}

			// The message is in the event log once, as message.created.
			req, _ := http.NewRequest("GET", base+"/api/v1/events?after=0", nil)
			req.Header.Set("Authorization", "Bearer "+ws.APIToken)
			resp, err = client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var page struct {
				Events []store.Event `json:"events"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
				t.Fatal(err)
			}
			created := 0
			for _, ev := range page.Events {
				if ev.Kind == store.EventMessageCreated {
					created++
					if !bytes.Contains(ev.Payload, []byte(`"Hello"`)) || !bytes.Contains(ev.Payload, []byte(`wamid.E2E1`)) {
						t.Errorf("message.created payload %s", ev.Payload)
					}
				}
			}
			if created != 1 {
				t.Fatalf("%d message.created events, want 1: %+v", created, page.Events)
			}
		})
	}
}

// TestServeWithoutSecretKey starts without SWITCHBOARD_SECRET_KEY: the
// server runs, and the WhatsApp webhook says why it cannot work.
func TestServeWithoutSecretKey(t *testing.T) {
	s := startServe(t, map[string]string{"SWITCHBOARD_SQLITE_PATH": filepath.Join(t.TempDir(), "nokey.db")})
	resp, err := newHTTPClient(t).Post("http://"+s.addr+"/channels/whatsapp/1/webhook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// No inbox 1 exists yet: 404 before any key is needed.
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST webhook: %s, want 404", resp.Status)
	}
	if !strings.Contains(s.log.String(), "SWITCHBOARD_SECRET_KEY is not set") {
		t.Errorf("no warning about the missing key in the log:\n%s", s.log.String())
	}
	var errOut bytes.Buffer
	err = run(context.Background(), []string{"inbox", "create-whatsapp", "--workspace", "1", "--name", "x", "--phone-number-id", "1", "--app-secret", "s"},
		envOf(map[string]string{"SWITCHBOARD_SQLITE_PATH": filepath.Join(t.TempDir(), "nokey2.db")}), io.Discard, &errOut)
	if err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_SECRET_KEY") {
		t.Fatalf("inbox create-whatsapp without a key: %v, want an error naming SWITCHBOARD_SECRET_KEY", err)
	}
}
