package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type contactList struct {
	Contacts   []store.Contact `json:"contacts"`
	NextCursor string          `json:"next_cursor"`
}

func contactIDs(cs []store.Contact) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// contacts fails unless GET path answers 200, and returns the page.
func (c client) contacts(path string) contactList {
	c.t.Helper()
	var l contactList
	c.do("GET", path, "").ok(c.t, http.StatusOK, &l)
	return l
}

// attrs decodes a contact's attributes for comparison by value.
func attrs(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	must(t, json.Unmarshal(raw, &m))
	return m
}

func TestContactLifecycle(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		var start eventList
		c.do("GET", "/api/v1/events?after=0&limit=1000", "").ok(t, http.StatusOK, &start)

		var ivy store.Contact
		r := c.do("POST", "/api/v1/contacts", `{"name":" Ivy Ingram ","email":"ivy@example.test","phone":"+4479000111",
			"attributes":{"plan":"pro","seats":3},
			"identities":[{"channel":"whatsapp","external_id":"+4479000111"},{"channel":"email","external_id":"ivy@example.test"}]}`)
		r.ok(t, http.StatusCreated, &ivy)
		wantIDs := []store.Identity{{Channel: "whatsapp", ExternalID: "+4479000111"}, {Channel: "email", ExternalID: "ivy@example.test"}}
		if ivy.ID == 0 || ivy.WorkspaceID != a.ws.ID || ivy.Name != "Ivy Ingram" || !slices.Equal(ivy.Identities, wantIDs) {
			t.Fatalf("created %s", r.body)
		}
		if !strings.Contains(string(r.body), `"identities":[{"channel":"whatsapp","external_id":"+4479000111"}`) {
			t.Errorf("identities JSON shape: %s", r.body)
		}
		ivyPath := fmt.Sprintf("/api/v1/contacts/%d", ivy.ID)

		var got store.Contact
		c.do("GET", ivyPath, "").ok(t, http.StatusOK, &got)
		if got.ID != ivy.ID || got.Email != "ivy@example.test" || !slices.Equal(got.Identities, wantIDs) {
			t.Fatalf("get = %+v", got)
		}

		t.Run("bare contact", func(t *testing.T) {
			r := c.do("POST", "/api/v1/contacts", `{}`)
			var bare store.Contact
			r.ok(t, http.StatusCreated, &bare)
			if !strings.Contains(string(r.body), `"identities":[]`) || !strings.Contains(string(r.body), `"attributes":{}`) {
				t.Errorf("bare contact JSON: %s", r.body)
			}
		})

		t.Run("patch", func(t *testing.T) {
			steps := []struct {
				name      string
				patch     string
				wantName  string
				wantEmail string
				wantAttrs map[string]any
			}{
				{"attributes merge", `{"attributes":{"plan":"enterprise","vip":true}}`, "Ivy Ingram", "ivy@example.test",
					map[string]any{"plan": "enterprise", "seats": 3.0, "vip": true}},
				{"null deletes a key", `{"attributes":{"seats":null}}`, "Ivy Ingram", "ivy@example.test",
					map[string]any{"plan": "enterprise", "vip": true}},
				{"rename and clear email", `{"name":"Ivy Ingram-Jones","email":null}`, "Ivy Ingram-Jones", "",
					map[string]any{"plan": "enterprise", "vip": true}},
			}
			for _, s := range steps {
				var updated, reread store.Contact
				c.do("PATCH", ivyPath, s.patch).ok(t, http.StatusOK, &updated)
				c.do("GET", ivyPath, "").ok(t, http.StatusOK, &reread)
				for _, g := range []store.Contact{updated, reread} {
					if g.Name != s.wantName || g.Email != s.wantEmail || !reflect.DeepEqual(attrs(t, g.Attributes), s.wantAttrs) || len(g.Identities) != 2 {
						t.Fatalf("%s: got %+v attributes %s", s.name, g, g.Attributes)
					}
				}
			}
		})

		t.Run("list and search", func(t *testing.T) {
			l := c.contacts("/api/v1/contacts")
			if len(l.Contacts) == 0 || l.Contacts[0].ID < ivy.ID || !slices.Contains(contactIDs(l.Contacts), a.contact.ID) {
				t.Fatalf("list %v: want newest first, with the tenant's contact", contactIDs(l.Contacts))
			}
			if got := contactIDs(c.contacts("/api/v1/contacts?q=" + url.QueryEscape("Ingram-Jones")).Contacts); !slices.Equal(got, []int64{ivy.ID}) {
				t.Errorf("q by the new name: %v", got)
			}
			var all []int64
			cursor := ""
			for range 10 {
				l := c.contacts("/api/v1/contacts?limit=1&cursor=" + url.QueryEscape(cursor))
				all = append(all, contactIDs(l.Contacts)...)
				if cursor = l.NextCursor; cursor == "" {
					break
				}
			}
			want := contactIDs(c.contacts("/api/v1/contacts?limit=100").Contacts)
			if !slices.Equal(all, want) || len(all) < 3 {
				t.Errorf("pages of one: %v, want %v", all, want)
			}
		})

		t.Run("conversations and merge", func(t *testing.T) {
			tenantPath := fmt.Sprintf("/api/v1/contacts/%d", a.contact.ID)
			if got := c.list(tenantPath + "/conversations"); !slices.Equal(got, []int64{a.conv.ID}) {
				t.Fatalf("tenant contact's conversations %v", got)
			}
			if got := c.list(ivyPath + "/conversations"); len(got) != 0 {
				t.Fatalf("Ivy's conversations %v, want none", got)
			}
			var merged store.Contact
			c.do("POST", tenantPath+"/merge", fmt.Sprintf(`{"from_id":%d}`, ivy.ID)).ok(t, http.StatusOK, &merged)
			if merged.ID != a.contact.ID || merged.Name != a.contact.Name || merged.Phone != "+4479000111" ||
				len(merged.Identities) != 3 || attrs(t, merged.Attributes)["plan"] != "enterprise" {
				t.Fatalf("merged %+v attributes %s", merged, merged.Attributes)
			}
			c.do("GET", ivyPath, "").wantError(t, http.StatusNotFound, "not_found", "")
			c.do("GET", ivyPath+"/conversations", "").wantError(t, http.StatusNotFound, "not_found", "")
			c.do("POST", tenantPath+"/merge", fmt.Sprintf(`{"from_id":%d}`, ivy.ID)).wantError(t, http.StatusNotFound, "not_found", "")

			// Merging a contact with conversations moves them.
			other := newContact(t, st, a.ws.ID, unique("Jack "))
			conv, _, err := st.CreateConversation(ctx(t), a.ws.ID, store.NewConversation{InboxID: a.inbox.ID, ContactID: other.ID})
			must(t, err)
			c.do("POST", tenantPath+"/merge", fmt.Sprintf(`{"from_id":%d}`, other.ID)).ok(t, http.StatusOK, nil)
			got := c.list(tenantPath + "/conversations")
			slices.Sort(got)
			if want := []int64{a.conv.ID, conv.ID}; !slices.Equal(got, want) {
				t.Fatalf("after merge: %v, want %v", got, want)
			}
			if got := c.list(tenantPath + "/conversations?limit=1"); len(got) != 1 {
				t.Fatalf("limit=1 gave %v", got)
			}
		})

		t.Run("delete", func(t *testing.T) {
			tenantPath := fmt.Sprintf("/api/v1/contacts/%d", a.contact.ID)
			e := c.do("DELETE", tenantPath, "").wantError(t, http.StatusConflict, "conflict", "")
			if !strings.Contains(e.Error.Message, "merge") {
				t.Errorf("409 message %q does not say what to do", e.Error.Message)
			}
			c.do("GET", tenantPath, "").ok(t, http.StatusOK, nil)

			var gone store.Contact
			c.do("POST", "/api/v1/contacts", `{"name":"Short-lived","identities":[{"channel":"sms","external_id":"+1999"}]}`).ok(t, http.StatusCreated, &gone)
			path := fmt.Sprintf("/api/v1/contacts/%d", gone.ID)
			r := c.do("DELETE", path, "")
			r.ok(t, http.StatusNoContent, nil)
			if len(r.body) != 0 {
				t.Errorf("204 with a body: %s", r.body)
			}
			c.do("GET", path, "").wantError(t, http.StatusNotFound, "not_found", "")
			c.do("DELETE", path, "").wantError(t, http.StatusNotFound, "not_found", "")
			// Its identity is free again.
			c.do("POST", "/api/v1/contacts", `{"identities":[{"channel":"sms","external_id":"+1999"}]}`).ok(t, http.StatusCreated, nil)
		})

		t.Run("events", func(t *testing.T) {
			var page eventList
			c.do("GET", fmt.Sprintf("/api/v1/events?after=%d&limit=1000", start.LatestSeq), "").ok(t, http.StatusOK, &page)
			var got []string
			for _, e := range page.Events {
				got = append(got, e.Kind)
			}
			want := []string{
				"contact.created", "contact.created", // Ivy, the bare one
				"contact.updated", "contact.updated", "contact.updated",
				"contact.merged",                         // Ivy into the tenant's contact: no conversations
				"conversation.created",                   // Jack's
				"conversation.updated", "contact.merged", // Jack into the tenant's contact
				"contact.created", "contact.deleted", "contact.created", // Short-lived, then its identity reused
			}
			if !slices.Equal(got, want) {
				t.Fatalf("events %v,\nwant %v", got, want)
			}
		})
	})
}

func TestContactBadRequests(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		var kim store.Contact
		c.do("POST", "/api/v1/contacts", `{"name":"Kim","identities":[{"channel":"sms","external_id":"+1888"}]}`).ok(t, http.StatusCreated, &kim)
		contact := fmt.Sprintf("/api/v1/contacts/%d", a.contact.ID)
		kimPath := fmt.Sprintf("/api/v1/contacts/%d", kim.ID)
		var start eventList
		c.do("GET", "/api/v1/events?after=0&limit=1000", "").ok(t, http.StatusOK, &start)

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
			{"malformed JSON", "POST", "/api/v1/contacts", `{"name":`, nil, 400, "malformed_json", ""},
			{"empty body", "POST", "/api/v1/contacts", ``, []string{"Content-Type", "application/json"}, 400, "malformed_json", ""},
			{"trailing data", "PATCH", kimPath, `{"name":"x"} {}`, nil, 400, "malformed_json", ""},
			{"unknown field", "POST", "/api/v1/contacts", `{"nickname":"K"}`, nil, 400, "unknown_field", "nickname"},
			{"unknown identity field", "POST", "/api/v1/contacts", `{"identities":[{"channel":"sms","external_id":"1","primary":true}]}`, nil, 400, "unknown_field", "primary"},
			{"name of wrong type", "POST", "/api/v1/contacts", `{"name":5}`, nil, 400, "invalid", "name"},
			{"attributes not an object", "POST", "/api/v1/contacts", `{"attributes":["vip"]}`, nil, 400, "invalid", "attributes"},
			{"identities not a list", "POST", "/api/v1/contacts", `{"identities":{"channel":"sms"}}`, nil, 400, "invalid", "identities"},
			{"identity without channel", "POST", "/api/v1/contacts", `{"identities":[{"external_id":"1"}]}`, nil, 400, "invalid", "identities[0].channel"},
			{"identity twice", "POST", "/api/v1/contacts", `{"identities":[{"channel":"sms","external_id":"1"},{"channel":"sms","external_id":"1"}]}`, nil, 400, "invalid", "identities[1]"},
			{"empty patch", "PATCH", kimPath, `{}`, nil, 400, "invalid", ""},
			{"null attributes", "PATCH", kimPath, `{"attributes":null}`, nil, 400, "invalid", "attributes"},
			{"attributes a string", "PATCH", kimPath, `{"attributes":"vip"}`, nil, 400, "invalid", "attributes"},
			{"patch name of wrong type", "PATCH", kimPath, `{"name":["K"]}`, nil, 400, "invalid", "name"},
			{"patch unknown field", "PATCH", kimPath, `{"identities":[]}`, nil, 400, "unknown_field", "identities"},
			{"merge without from_id", "POST", contact + "/merge", `{}`, nil, 400, "invalid", "from_id"},
			{"merge from_id of wrong type", "POST", contact + "/merge", `{"from_id":"7"}`, nil, 400, "invalid", "from_id"},
			{"merge into itself", "POST", contact + "/merge", fmt.Sprintf(`{"from_id":%d}`, a.contact.ID), nil, 400, "invalid", "from_id"},
			{"merge unknown field", "POST", contact + "/merge", `{"from_id":1,"into_id":2}`, nil, 400, "unknown_field", "into_id"},
			{"list limit zero", "GET", "/api/v1/contacts?limit=0", "", nil, 400, "invalid", "limit"},
			{"list bad cursor", "GET", "/api/v1/contacts?cursor=!!", "", nil, 400, "invalid", "cursor"},
			{"list query too long", "GET", "/api/v1/contacts?q=" + strings.Repeat("q", store.MaxSearchQuery+1), "", nil, 400, "invalid", "q"},
			{"conversations bad cursor", "GET", contact + "/conversations?cursor=x", "", nil, 400, "invalid", "cursor"},
			{"conversations limit too big", "GET", contact + "/conversations?limit=101", "", nil, 400, "invalid", "limit"},

			{"unknown contact", "GET", "/api/v1/contacts/999999999", "", nil, 404, "not_found", ""},
			{"non-numeric id", "GET", "/api/v1/contacts/abc", "", nil, 404, "not_found", ""},
			{"zero id", "PATCH", "/api/v1/contacts/0", `{"name":"x"}`, nil, 404, "not_found", ""},
			{"patch unknown", "PATCH", "/api/v1/contacts/999999999", `{"name":"x"}`, nil, 404, "not_found", ""},
			{"delete unknown", "DELETE", "/api/v1/contacts/999999999", "", nil, 404, "not_found", ""},
			{"merge into unknown", "POST", "/api/v1/contacts/999999999/merge", fmt.Sprintf(`{"from_id":%d}`, kim.ID), nil, 404, "not_found", ""},
			{"merge from unknown", "POST", kimPath + "/merge", `{"from_id":999999999}`, nil, 404, "not_found", ""},
			{"conversations of unknown", "GET", "/api/v1/contacts/999999999/conversations", "", nil, 404, "not_found", ""},

			{"put a contact", "PUT", kimPath, `{}`, nil, 405, "method_not_allowed", ""},
			{"delete the list", "DELETE", "/api/v1/contacts", "", nil, 405, "method_not_allowed", ""},
			{"get merge", "GET", kimPath + "/merge", "", nil, 405, "method_not_allowed", ""},
			{"post conversations", "POST", kimPath + "/conversations", `{}`, nil, 405, "method_not_allowed", ""},

			{"taken identity", "POST", "/api/v1/contacts", `{"identities":[{"channel":"sms","external_id":"+1888"}]}`, nil, 409, "conflict", "identities"},
			{"delete with conversations", "DELETE", contact, "", nil, 409, "conflict", ""},

			{"body too large", "POST", "/api/v1/contacts", `{"name":"` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}`, nil, 413, "payload_too_large", ""},
			{"text body", "PATCH", kimPath, `{"name":"x"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
			{"no content type", "POST", kimPath + "/merge", `{"from_id":1}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", ""},
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
			var page eventList
			c.do("GET", "/api/v1/events?after=0&limit=1000", "").ok(t, http.StatusOK, &page)
			if page.LatestSeq != start.LatestSeq {
				t.Errorf("log moved from %d to %d", start.LatestSeq, page.LatestSeq)
			}
			var got store.Contact
			c.do("GET", kimPath, "").ok(t, http.StatusOK, &got)
			if got.Name != "Kim" || len(got.Identities) != 1 {
				t.Errorf("Kim changed: %+v", got)
			}
			if l := c.contacts("/api/v1/contacts?limit=100"); len(l.Contacts) != 2 {
				t.Errorf("%d contacts, want the tenant's and Kim", len(l.Contacts))
			}
		})
	})
}
