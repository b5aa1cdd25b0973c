package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestLabels(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		conv := fmt.Sprintf("/api/v1/conversations/%d", a.conv.ID)

		var urgent store.Label
		c.do("POST", "/api/v1/labels", `{"name":"Urgent","color":"#FF8800","description":"today"}`).ok(t, http.StatusCreated, &urgent)
		if urgent.ID == 0 || urgent.Name != "Urgent" || urgent.Color != "#ff8800" || urgent.Description != "today" {
			t.Fatalf("created %+v", urgent)
		}
		label := fmt.Sprintf("/api/v1/labels/%d", urgent.ID)
		// Labelling a conversation by a new name creates the label too.
		c.do("POST", conv+"/labels", `{"label":"vip"}`).ok(t, http.StatusOK, nil)
		c.do("POST", conv+"/labels", `{"label":"Urgent"}`).ok(t, http.StatusOK, nil)

		listNames := func(t *testing.T) []string {
			var list struct {
				Labels []store.Label `json:"labels"`
			}
			c.do("GET", "/api/v1/labels", "").ok(t, http.StatusOK, &list)
			var names []string
			for _, l := range list.Labels {
				names = append(names, l.Name)
			}
			return names
		}
		if got := listNames(t); !slices.Equal(got, []string{"Urgent", "vip"}) {
			t.Fatalf("labels %v, want [Urgent vip]", got)
		}

		t.Run("rename relabels conversations", func(t *testing.T) {
			var renamed store.Label
			c.do("PATCH", label, `{"name":"Critical","color":""}`).ok(t, http.StatusOK, &renamed)
			if renamed.Name != "Critical" || renamed.Color != "" || renamed.Description != "today" {
				t.Fatalf("renamed %+v", renamed)
			}
			var got store.Conversation
			c.do("GET", conv, "").ok(t, http.StatusOK, &got)
			if !slices.Equal(got.Labels, []string{"Critical", "vip"}) {
				t.Fatalf("conversation labels %v, want [Critical vip]", got.Labels)
			}
			if ids := c.list("/api/v1/conversations?label=Critical"); !slices.Equal(ids, []int64{a.conv.ID}) {
				t.Fatalf("filter by the new name: %v", ids)
			}
		})

		t.Run("delete takes it off conversations", func(t *testing.T) {
			seq := latestSeq(t, st, a.ws.ID)
			c.do("DELETE", label, "").ok(t, http.StatusNoContent, nil)
			var got store.Conversation
			c.do("GET", conv, "").ok(t, http.StatusOK, &got)
			if !slices.Equal(got.Labels, []string{"vip"}) {
				t.Fatalf("conversation labels %v, want [vip]", got.Labels)
			}
			var page eventList
			c.do("GET", fmt.Sprintf("/api/v1/events?after=%d", seq), "").ok(t, http.StatusOK, &page)
			var kinds []string
			for _, e := range page.Events {
				kinds = append(kinds, e.Kind)
			}
			if want := []string{store.EventConversationUpdated, store.EventLabelDeleted}; !slices.Equal(kinds, want) {
				t.Fatalf("events %v, want %v", kinds, want)
			}
			if got := listNames(t); !slices.Equal(got, []string{"vip"}) {
				t.Fatalf("labels %v, want [vip]", got)
			}
			c.do("DELETE", label, "").wantError(t, http.StatusNotFound, "not_found", "")
		})
	})
}

func TestLabelBadRequests(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		taken := newLabel(t, st, a.ws.ID)
		other := newLabel(t, st, a.ws.ID)
		label := fmt.Sprintf("/api/v1/labels/%d", other.ID)
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"malformed JSON", "POST", "/api/v1/labels", `{`, 400, "malformed_json", ""},
			{"unknown field", "POST", "/api/v1/labels", `{"name":"x","colour":"#ffffff"}`, 400, "unknown_field", "colour"},
			{"empty name", "POST", "/api/v1/labels", `{"name":""}`, 400, "invalid", "name"},
			{"long name", "POST", "/api/v1/labels", fmt.Sprintf(`{"name":%q}`, strings.Repeat("n", store.MaxLabelBytes+1)), 400, "invalid", "name"},
			{"control character", "POST", "/api/v1/labels", `{"name":"a\nb"}`, 400, "invalid", "name"},
			{"colour by name", "POST", "/api/v1/labels", `{"name":"x","color":"red"}`, 400, "invalid", "color"},
			{"colour of wrong type", "POST", "/api/v1/labels", `{"name":"x","color":255}`, 400, "invalid", "color"},
			{"duplicate name", "POST", "/api/v1/labels", fmt.Sprintf(`{"name":%q}`, taken.Name), 409, "conflict", "name"},
			{"rename to a taken name", "PATCH", label, fmt.Sprintf(`{"name":%q}`, taken.Name), 409, "conflict", "name"},
			{"bad colour", "PATCH", label, `{"color":"#12345"}`, 400, "invalid", "color"},
			{"null colour", "PATCH", label, `{"color":null}`, 400, "invalid", "color"},
			{"empty patch", "PATCH", label, `{}`, 400, "invalid", ""},
			{"unknown label", "PATCH", "/api/v1/labels/999999999", `{"name":"x"}`, 404, "not_found", ""},
			{"delete unknown label", "DELETE", "/api/v1/labels/999999999", "", 404, "not_found", ""},
			{"non-numeric id", "DELETE", "/api/v1/labels/vip", "", 404, "not_found", ""},
			{"get one label", "GET", label, "", 405, "method_not_allowed", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
	})
}
