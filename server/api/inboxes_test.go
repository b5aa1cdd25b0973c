package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/channels/connector"
	"github.com/switchboard-inbox/switchboard/server/channels/secretbox"
	"github.com/switchboard-inbox/switchboard/server/channels/whatsapp"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// testConnectors is the real WhatsApp connector's sealing under box (nil:
// a server without SWITCHBOARD_SECRET_KEY).
func testConnectors(box *secretbox.Box) map[store.InboxKind]api.Connector {
	return map[store.InboxKind]api.Connector{
		store.InboxWhatsApp: {
			Seal: func(id int64, raw json.RawMessage) (json.RawMessage, []byte, error) {
				return whatsapp.SealConfig(box, id, raw)
			},
			WebhookPath: whatsapp.WebhookPath,
		},
	}
}

func testBox(t testing.TB) *secretbox.Box {
	box, err := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	must(t, err)
	return box
}

const waConfig = `{"phone_number_id":"106540352242922","verify_token":"verify-me","app_secret":"app-secret-value","access_token":"EAAG-secret-token"}`

type inboxJSON struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Name        string          `json:"name"`
	Settings    json.RawMessage `json:"settings"`
	Configured  bool            `json:"configured"`
	WebhookPath string          `json:"webhook_path"`
}

func TestInboxes(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		box := testBox(t)
		base, _ := newServerWith(t, st, api.Options{Connectors: testConnectors(box)})
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		noSecret := func(r reply) reply {
			t.Helper()
			for _, s := range []string{"app-secret-value", "EAAG-secret-token", "verify-me", "credentials"} {
				if bytes.Contains(r.body, []byte(s)) {
					t.Fatalf("answer shows %q: %s", s, r.body)
				}
			}
			return r
		}

		var created inboxJSON
		noSecret(c.do("POST", "/api/v1/inboxes", `{"kind":"whatsapp","name":"Support line","config":`+waConfig+`}`)).ok(t, http.StatusCreated, &created)
		if created.Kind != "whatsapp" || !created.Configured || !strings.Contains(string(created.Settings), "106540352242922") ||
			created.WebhookPath != fmt.Sprintf("/channels/whatsapp/%d/webhook", created.ID) {
			t.Fatalf("created %+v", created)
		}
		in, err := st.Inbox(ctx(t), a.ws.ID, created.ID)
		must(t, err)
		cfg, err := whatsapp.Open(box, in)
		must(t, err)
		if cfg.AppSecret != "app-secret-value" || cfg.AccessToken != "EAAG-secret-token" {
			t.Fatalf("sealed configuration opens to %+v", cfg)
		}

		var list struct{ Inboxes []inboxJSON }
		noSecret(c.do("GET", "/api/v1/inboxes", "")).ok(t, http.StatusOK, &list)
		if len(list.Inboxes) != 2 || list.Inboxes[0].ID != a.inbox.ID || list.Inboxes[0].Configured || list.Inboxes[1].ID != created.ID {
			t.Fatalf("list %+v", list)
		}

		// Bad requests create nothing.
		for _, bad := range []struct {
			body   string
			status int
			code   string
			field  string
		}{
			{`{"kind":"whatsapp","name":"x","config":{"phone_number_id":"1","verify_token":"v"}}`, 400, "invalid", "config"},
			{`{"kind":"whatsapp","name":"x","config":{"phone_number_id":"1","verify_token":"v","app_secret":"s","extra":1}}`, 400, "invalid", "config"},
			{`{"kind":"whatsapp","name":"x","config":[1]}`, 400, "invalid", "config"},
			{`{"kind":"whatsapp","name":" ","config":` + waConfig + `}`, 400, "invalid", "name"},
			{`{"kind":"telegram","name":"x"}`, 400, "invalid", "kind"},
			{`{"kind":"sms","name":"x"}`, 503, "unavailable", ""},
		} {
			e := c.do("POST", "/api/v1/inboxes", bad.body).wantError(t, bad.status, bad.code, bad.field)
			if strings.Contains(e.Error.Message, "app_secret\":") || strings.Contains(e.Error.Message, "s3cret") {
				t.Errorf("error shows the configuration: %q", e.Error.Message)
			}
		}
		noSecret(c.do("GET", "/api/v1/inboxes", "")).ok(t, http.StatusOK, &list)
		if len(list.Inboxes) != 2 {
			t.Fatalf("a refused creation left an inbox: %+v", list)
		}

		// Unconfigured, then configured; renamed.
		var bare inboxJSON
		c.do("POST", "/api/v1/inboxes", `{"kind":"whatsapp","name":"Sales"}`).ok(t, http.StatusCreated, &bare)
		if bare.Configured {
			t.Fatalf("bare %+v", bare)
		}
		path := fmt.Sprintf("/api/v1/inboxes/%d", bare.ID)
		c.do("PUT", path+"/config", `{"phone_number_id":"2","verify_token":"v"}`).wantError(t, 400, "invalid", "config")
		noSecret(c.do("PUT", path+"/config", waConfig)).ok(t, http.StatusOK, &bare)
		if !bare.Configured {
			t.Fatalf("configured %+v", bare)
		}
		c.do("PATCH", path, `{"name":"Sales EU"}`).ok(t, http.StatusOK, &bare)
		c.do("GET", path, "").ok(t, http.StatusOK, &bare)
		if bare.Name != "Sales EU" || !bare.Configured {
			t.Fatalf("after rename %+v", bare)
		}
		c.do("PATCH", path, `{"name":""}`).wantError(t, 400, "invalid", "name")

		// Another workspace sees none of it.
		b := client{t: t, base: base, token: newTenant(t, st).token}
		b.do("GET", path, "").wantError(t, 404, "not_found", "")
		b.do("PATCH", path, `{"name":"mine"}`).wantError(t, 404, "not_found", "")
		b.do("PUT", path+"/config", waConfig).wantError(t, 404, "not_found", "")

		// The audit log has the changes, never the secrets.
		r := noSecret(c.do("GET", "/api/v1/audit", ""))
		for _, action := range []string{store.AuditInboxCreated, store.AuditInboxConfigured} {
			if !bytes.Contains(r.body, []byte(`"action":"`+action+`"`)) {
				t.Errorf("audit log lacks %s: %s", action, r.body)
			}
		}
	})
}

// TestInboxesWithoutSecretKey: a server without SWITCHBOARD_SECRET_KEY
// cannot store credentials, and says why.
func TestInboxesWithoutSecretKey(t *testing.T) {
	st := teststore.SQLite(t)
	base, _ := newServerWith(t, st, api.Options{Connectors: testConnectors(nil)})
	a := newTenant(t, st)
	c := client{t: t, base: base, token: a.token}
	e := c.do("POST", "/api/v1/inboxes", `{"kind":"whatsapp","name":"x","config":`+waConfig+`}`).wantError(t, 503, "unavailable", "")
	if !strings.Contains(e.Error.Message, "SWITCHBOARD_SECRET_KEY") {
		t.Errorf("message %q does not name the setting", e.Error.Message)
	}
	if _, _, err := whatsapp.SealConfig(nil, 1, json.RawMessage(waConfig)); err != connector.ErrUnavailable {
		t.Errorf("SealConfig without a box: %v", err)
	}
}

func TestDeadLetters(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		_, err := st.CreateDeadLetter(ctx(t), a.ws.ID, store.NewDeadLetter{InboxID: a.inbox.ID, Provider: "whatsapp",
			Body: []byte("{\"entry\":[\xff]}"), Error: "message wamid.X: text without a body"})
		must(t, err)
		c := client{t: t, base: base, token: a.token}
		var got struct {
			DeadLetters []struct {
				InboxID  int64  `json:"inbox_id"`
				Provider string `json:"provider"`
				Error    string `json:"error"`
				Body     string `json:"body"`
			} `json:"dead_letters"`
		}
		c.do("GET", "/api/v1/dead_letters", "").ok(t, http.StatusOK, &got)
		if len(got.DeadLetters) != 1 || got.DeadLetters[0].Body != "{\"entry\":[\uFFFD]}" || got.DeadLetters[0].InboxID != a.inbox.ID ||
			!strings.Contains(got.DeadLetters[0].Error, "without a body") {
			t.Fatalf("dead letters %+v", got)
		}
		c.do("GET", "/api/v1/dead_letters?limit=0", "").wantError(t, 400, "invalid", "limit")
		client{t: t, base: base, token: newTenant(t, st).token}.do("GET", "/api/v1/dead_letters", "").ok(t, http.StatusOK, &got)
		if len(got.DeadLetters) != 0 {
			t.Fatalf("another workspace sees %+v", got)
		}
	})
}
