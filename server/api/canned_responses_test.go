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

func TestCannedResponses(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		var refund store.CannedResponse
		c.do("POST", "/api/v1/canned_responses", `{"short_code":"refund","content":"We have refunded you."}`).ok(t, http.StatusCreated, &refund)
		if refund.ID == 0 || refund.ShortCode != "refund" || refund.Content != "We have refunded you." {
			t.Fatalf("created %+v", refund)
		}
		c.do("POST", "/api/v1/canned_responses", `{"short_code":"refund-late","content":"Sorry for the wait."}`).ok(t, http.StatusCreated, nil)
		c.do("POST", "/api/v1/canned_responses", `{"short_code":"hello","content":"Hi!"}`).ok(t, http.StatusCreated, nil)
		codes := func(t *testing.T, query string) []string {
			var list struct {
				CannedResponses []store.CannedResponse `json:"canned_responses"`
			}
			c.do("GET", "/api/v1/canned_responses"+query, "").ok(t, http.StatusOK, &list)
			out := []string{}
			for _, r := range list.CannedResponses {
				out = append(out, r.ShortCode)
			}
			return out
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"hello", "refund", "refund-late"}},
			{"?prefix=ref", []string{"refund", "refund-late"}},
			{"?prefix=refund-", []string{"refund-late"}},
			{"?prefix=%25", []string{}},
		} {
			if got := codes(t, tc.query); !slices.Equal(got, tc.want) {
				t.Errorf("list%s = %v, want %v", tc.query, got, tc.want)
			}
		}

		reply := fmt.Sprintf("/api/v1/canned_responses/%d", refund.ID)
		var edited store.CannedResponse
		c.do("PATCH", reply, `{"content":"Refunded."}`).ok(t, http.StatusOK, &edited)
		if edited.ShortCode != "refund" || edited.Content != "Refunded." || edited.UpdatedAt.Before(refund.UpdatedAt) {
			t.Fatalf("edited %+v", edited)
		}
		c.do("PATCH", reply, `{"short_code":"refunded"}`).ok(t, http.StatusOK, &edited)
		if edited.ShortCode != "refunded" || edited.Content != "Refunded." {
			t.Fatalf("recoded %+v", edited)
		}
		c.do("DELETE", reply, "").ok(t, http.StatusNoContent, nil)
		if got := codes(t, ""); !slices.Equal(got, []string{"hello", "refund-late"}) {
			t.Errorf("after delete: %v", got)
		}

		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"malformed JSON", "POST", "/api/v1/canned_responses", `{"short_code":"x",`, 400, "malformed_json", ""},
			{"unknown field", "POST", "/api/v1/canned_responses", `{"short_code":"x","content":"y","title":"z"}`, 400, "unknown_field", "title"},
			{"two-word code", "POST", "/api/v1/canned_responses", `{"short_code":"two words","content":"y"}`, 400, "invalid", "short_code"},
			{"empty content", "POST", "/api/v1/canned_responses", `{"short_code":"x","content":" "}`, 400, "invalid", "content"},
			{"duplicate code", "POST", "/api/v1/canned_responses", `{"short_code":"hello","content":"again"}`, 409, "conflict", "short_code"},
			{"recode to a taken code", "PATCH", "/api/v1/canned_responses/" + fmt.Sprint(newCanned(t, st, a.ws.ID).ID), `{"short_code":"hello"}`, 409, "conflict", "short_code"},
			{"null content", "PATCH", "/api/v1/canned_responses/" + fmt.Sprint(newCanned(t, st, a.ws.ID).ID), `{"content":null}`, 400, "invalid", "content"},
			{"empty patch", "PATCH", "/api/v1/canned_responses/" + fmt.Sprint(newCanned(t, st, a.ws.ID).ID), `{}`, 400, "invalid", ""},
			{"long prefix", "GET", "/api/v1/canned_responses?prefix=" + strings.Repeat("p", store.MaxShortCodeBytes+1), "", 400, "invalid", "prefix"},
			{"deleted", "PATCH", reply, `{"content":"x"}`, 404, "not_found", ""},
			{"delete again", "DELETE", reply, "", 404, "not_found", ""},
			{"non-numeric id", "DELETE", "/api/v1/canned_responses/hello", "", 404, "not_found", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.code, tc.field)
			})
		}
	})
}
