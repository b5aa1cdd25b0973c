package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// ctx returns a context bounded so a hung call fails the test, not the run.
func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var uniq atomic.Int64

func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, uniq.Add(1)) }

// tenant is a workspace with its owner, the owner's API token, an inbox,
// a contact and one conversation.
type tenant struct {
	ws      store.Workspace
	agent   store.Agent
	token   string
	inbox   store.Inbox
	contact store.Contact
	conv    store.Conversation
}

func newTenant(t testing.TB, st store.Store) tenant {
	t.Helper()
	c := ctx(t)
	var tn tenant
	var err error
	tn.ws, tn.agent, err = st.CreateWorkspace(c, store.NewWorkspace{Name: unique("ws"), OwnerEmail: unique("owner") + "@example.com", OwnerName: "Olive Owner"})
	must(t, err)
	_, tn.token, err = st.CreateAPIToken(c, tn.ws.ID, store.NewAPIToken{AgentID: tn.agent.ID, Name: "test"})
	must(t, err)
	tn.inbox, err = st.CreateInbox(c, tn.ws.ID, store.NewInbox{Kind: store.InboxAPI, Name: "Support line"})
	must(t, err)
	tn.contact = newContact(t, st, tn.ws.ID, unique("Carol Customer "))
	tn.conv = newConversation(t, st, tn)
	return tn
}

func newContact(t testing.TB, st store.Store, workspaceID int64, name string) store.Contact {
	t.Helper()
	c, _, err := st.UpsertContact(ctx(t), workspaceID, store.Identity{Channel: "whatsapp", ExternalID: unique("+4470")}, store.NewContact{Name: name})
	must(t, err)
	return c
}

func newConversation(t testing.TB, st store.Store, tn tenant) store.Conversation {
	t.Helper()
	c, _, err := st.CreateConversation(ctx(t), tn.ws.ID, store.NewConversation{InboxID: tn.inbox.ID, ContactID: tn.contact.ID})
	must(t, err)
	return c
}

func inbound(t testing.TB, st store.Store, workspaceID, convID int64, body string) store.Message {
	t.Helper()
	m, err := st.CreateMessage(ctx(t), workspaceID, store.NewMessage{
		ConversationID: convID, Direction: store.DirectionIn, Body: body, ProviderMessageID: unique("wamid."),
	})
	must(t, err)
	return m.Message
}

// lockedBuffer collects log output written from server goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newServer serves the API over st on a random port and returns its base
// URL and the log it writes.
func newServer(t testing.TB, st store.Store) (string, *lockedBuffer) {
	t.Helper()
	return newServerWith(t, st, api.Options{})
}

// newServerWith is newServer with opts; its Logger is replaced.
func newServerWith(t testing.TB, st store.Store, opts api.Options) (string, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewServer(api.New(st, opts))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// client calls the API as the holder of token.
type client struct {
	t     testing.TB
	base  string
	token string
}

// reply is a response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// request is one call: a body given as a string is sent as
// application/json unless header sets Content-Type.
func (c client) do(method, path, body string, header ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx(c.t), method, c.base+path, rd)
	must(c.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(c.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// ok fails unless the reply has status want, then decodes it into v.
func (r reply) ok(t testing.TB, want int, v any) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if v != nil {
		must(t, json.Unmarshal(r.body, v))
	}
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// wantError fails unless the reply is a JSON error with status, code and
// field.
func (r reply) wantError(t testing.TB, status int, code, field string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Error.Code != code || e.Error.Field != field {
		t.Fatalf("error code %q field %q, want %q %q; body %s", e.Error.Code, e.Error.Field, code, field, r.body)
	}
	if e.Error.Message == "" {
		t.Errorf("error without a message: %s", r.body)
	}
	return e
}

func TestAuthentication(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		revoked, revokedToken, err := st.CreateAPIToken(ctx(t), a.ws.ID, store.NewAPIToken{AgentID: a.agent.ID, Name: "old"})
		must(t, err)
		_, err = st.RevokeAPIToken(ctx(t), a.ws.ID, revoked.ID, store.Actor{})
		must(t, err)

		tests := []struct {
			name   string
			header string
		}{
			{"no header", ""},
			{"basic scheme", "Basic " + a.token},
			{"empty bearer", "Bearer "},
			{"unknown token", "Bearer " + store.TokenPrefix + "nope"},
			{"revoked token", "Bearer " + revokedToken},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c := client{t: t, base: base}
				r := c.do("GET", "/api/v1/me", "", "Authorization", tc.header)
				r.wantError(t, http.StatusUnauthorized, "unauthenticated", "")
				if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("WWW-Authenticate %q", h)
				}
			})
		}

		t.Run("valid token", func(t *testing.T) {
			c := client{t: t, base: base, token: a.token}
			r := c.do("GET", "/api/v1/me", "")
			var me struct {
				Workspace struct {
					ID     int64  `json:"id"`
					AppKey string `json:"app_key"`
				} `json:"workspace"`
				Agent struct {
					ID    int64  `json:"id"`
					Email string `json:"email"`
				} `json:"agent"`
				Role string `json:"role"`
			}
			r.ok(t, http.StatusOK, &me)
			if me.Workspace.ID != a.ws.ID || me.Agent.ID != a.agent.ID || me.Agent.Email != a.agent.Email || me.Role != "owner" || me.Workspace.AppKey != a.ws.AppKey {
				t.Errorf("me = %+v", me)
			}
			if bytes.Contains(r.body, []byte(a.ws.AppSecret)) {
				t.Error("/me leaks the app secret")
			}
		})
	})
}
