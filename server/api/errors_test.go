package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestBadRequests(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		conv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)
		other := fmt.Sprintf("/api/v1/conversations/%d", newConversation(t, st, a).ID)
		c.do("POST", conv+"/messages", `{"body":"first"}`, "Idempotency-Key", "used-once").ok(t, http.StatusCreated, nil)
		past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)

		tests := []struct {
			name   string
			method string
			path   string
			body   string
			header []string
			status int
			code   string
			field  string
		}{
			{"unknown status", "PATCH", conv, `{"status":"closed"}`, nil, 400, "invalid", "status"},
			{"null status", "PATCH", conv, `{"status":null}`, nil, 400, "invalid", "status"},
			{"unknown priority", "PATCH", conv, `{"priority":"asap"}`, nil, 400, "invalid", "priority"},
			{"snooze in the past", "PATCH", conv, fmt.Sprintf(`{"snoozed_until":%q}`, past), nil, 400, "invalid", "snoozed_until"},
			{"snooze not a time", "PATCH", conv, `{"snoozed_until":"tomorrow"}`, nil, 400, "invalid", "snoozed_until"},
			{"assignee of wrong type", "PATCH", conv, `{"assignee_id":"olive"}`, nil, 400, "invalid", "assignee_id"},
			{"assignee not a member", "PATCH", conv, `{"assignee_id":999999999}`, nil, 400, "invalid", "assignee_id"},
			{"unknown team", "PATCH", conv, `{"team_id":999999999}`, nil, 400, "invalid", "team_id"},
			{"empty patch", "PATCH", conv, `{}`, nil, 400, "invalid", ""},
			{"malformed JSON", "PATCH", conv, `{"status":`, nil, 400, "malformed_json", ""},
			{"trailing data", "PATCH", conv, `{"status":"open"} {}`, nil, 400, "malformed_json", ""},
			{"not an object", "POST", conv + "/labels", `["vip"]`, nil, 400, "invalid", ""},
			{"unknown field", "PATCH", conv, `{"colour":"red"}`, nil, 400, "unknown_field", "colour"},
			{"empty label", "POST", conv + "/labels", `{"label":"  "}`, nil, 400, "invalid", "label"},
			{"empty message", "POST", conv + "/messages", `{"body":" "}`, nil, 400, "invalid", "body"},
			{"media message without a file", "POST", conv + "/messages", `{"body":"x","type":"media"}`, nil, 400, "invalid", "file"},
			{"mentions in a reply", "POST", conv + "/messages", fmt.Sprintf(`{"body":"x","mentions":[%d]}`, a.agent.ID), nil, 400, "invalid", "mentions"},
			{"keys disagree", "POST", conv + "/messages", `{"body":"x","idempotency_key":"a"}`, []string{"Idempotency-Key", "b"}, 400, "invalid", "idempotency_key"},
			{"limit zero", "GET", "/api/v1/conversations?limit=0", "", nil, 400, "invalid", "limit"},
			{"limit too big", "GET", "/api/v1/conversations?limit=101", "", nil, 400, "invalid", "limit"},
			{"limit not a number", "GET", conv + "/messages?limit=ten", "", nil, 400, "invalid", "limit"},
			{"unknown status filter", "GET", "/api/v1/conversations?status=closed", "", nil, 400, "invalid", "status"},
			{"unknown assignee filter", "GET", "/api/v1/conversations?assignee=bob", "", nil, 400, "invalid", "assignee"},
			{"bad unread", "GET", "/api/v1/conversations?unread=yes", "", nil, 400, "invalid", "unread"},
			{"bad inbox id", "GET", "/api/v1/conversations?inbox_id=x", "", nil, 400, "invalid", "inbox_id"},
			{"bad cursor", "GET", "/api/v1/conversations?cursor=!!", "", nil, 400, "invalid", "cursor"},
			{"bad message cursor", "GET", conv + "/messages?cursor=x", "", nil, 400, "invalid", "cursor"},
			{"negative after", "GET", "/api/v1/events?after=-1", "", nil, 400, "invalid", "after"},
			{"events limit too big", "GET", "/api/v1/events?limit=1001", "", nil, 400, "invalid", "limit"},
			{"empty search", "GET", "/api/v1/search?q=+", "", nil, 400, "invalid", "q"},

			{"unknown conversation", "GET", "/api/v1/conversations/999999999", "", nil, 404, "not_found", ""},
			{"non-numeric id", "GET", "/api/v1/conversations/abc", "", nil, 404, "not_found", ""},
			{"zero id", "GET", "/api/v1/conversations/0", "", nil, 404, "not_found", ""},
			{"patch unknown", "PATCH", "/api/v1/conversations/999999999", `{"status":"open"}`, nil, 404, "not_found", ""},
			{"messages of unknown", "GET", "/api/v1/conversations/999999999/messages", "", nil, 404, "not_found", ""},
			{"send to unknown", "POST", "/api/v1/conversations/999999999/messages", `{"body":"hi"}`, nil, 404, "not_found", ""},
			{"read unknown", "POST", "/api/v1/conversations/999999999/read", "", nil, 404, "not_found", ""},
			{"unknown endpoint", "GET", "/api/v1/nope", "", nil, 404, "not_found", ""},

			{"delete the list", "DELETE", "/api/v1/conversations", "", nil, 405, "method_not_allowed", ""},
			{"put a conversation", "PUT", conv, `{}`, nil, 405, "method_not_allowed", ""},
			{"get read", "GET", conv + "/read", "", nil, 405, "method_not_allowed", ""},

			{"key reused elsewhere", "POST", other + "/messages", `{"body":"second"}`, []string{"Idempotency-Key", "used-once"}, 409, "conflict", "idempotency_key"},

			{"body too large", "POST", conv + "/messages", `{"body":"` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}`, nil, 413, "payload_too_large", ""},

			{"text body", "PATCH", conv, `{"status":"open"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
			{"no content type", "POST", conv + "/labels", `{"label":"x"}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := c.do(tc.method, tc.path, tc.body, tc.header...)
				r.wantError(t, tc.status, tc.code, tc.field)
				if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
					t.Error("405 without Allow")
				}
			})
		}

		t.Run("nothing written by refused requests", func(t *testing.T) {
			got, err := st.Conversation(ctx(t), a.ws.ID, a.conv.ID)
			must(t, err)
			if got.Status != store.StatusOpen || got.AssigneeID != 0 || got.Priority != store.PriorityNone || len(got.Labels) != 0 {
				t.Errorf("conversation changed: %+v", got)
			}
		})
	})
}

// failingStore is a real store whose Conversation fails the way a broken
// database would.
type failingStore struct {
	store.Store
}

var errDatabase = errors.New("pq: connection refused to 10.0.0.7 (secret detail)")

func (failingStore) Conversation(context.Context, int64, int64) (store.Conversation, error) {
	return store.Conversation{}, fmt.Errorf("store: conversation: %w", errDatabase)
}

func TestInternalErrorIsGeneric(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, logs := newServer(t, failingStore{st})
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		r := c.do("GET", fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID), "")
		r.wantError(t, http.StatusInternalServerError, "internal", "")
		if strings.Contains(string(r.body), "secret detail") {
			t.Errorf("500 leaks the cause: %s", r.body)
		}
		if !strings.Contains(logs.String(), "secret detail") {
			t.Errorf("cause not logged; log: %s", logs.String())
		}
	})
}

func TestMaxBodyBytesOption(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServerWith(t, st, api.Options{MaxBodyBytes: 64})
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID)
		c.do("POST", path, `{"body":"fits"}`).ok(t, http.StatusCreated, nil)
		c.do("POST", path, `{"body":"`+strings.Repeat("y", 64)+`"}`).wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large", "")
	})
}
