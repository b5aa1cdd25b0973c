package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestChannelRules: replies the channel's rules forbid are 422 with the
// rule's code and write nothing; a WhatsApp template goes out when the
// window is closed; notes are never refused.
func TestChannelRules(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		wa, err := st.CreateInbox(ctx(t), a.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "WhatsApp"})
		must(t, err)
		conv, _, err := st.CreateConversation(ctx(t), a.ws.ID, store.NewConversation{InboxID: wa.ID, ContactID: a.contact.ID})
		must(t, err)
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID)

		e := c.do("POST", path, `{"body":"Hello!"}`).wantError(t, http.StatusUnprocessableEntity, store.CodeOutsideWindow, "")
		if !strings.Contains(e.Error.Message, "template") {
			t.Errorf("the window error does not say a template may be sent: %q", e.Error.Message)
		}
		c.do("POST", path, `{"body":"waiting on them","type":"note"}`).ok(t, http.StatusCreated, nil)

		var tpl store.Message
		c.do("POST", path, `{"type":"template","template":{"name":"order_update","language":"en_US","parameters":["#1042","Friday"]}}`).
			ok(t, http.StatusCreated, &tpl)
		var content struct {
			Template struct {
				Name       string   `json:"name"`
				Language   string   `json:"language"`
				Parameters []string `json:"parameters"`
			} `json:"template"`
		}
		must(t, json.Unmarshal(tpl.Content, &content))
		if tpl.Type != store.TypeTemplate || tpl.Status != store.DeliveryQueued || content.Template.Name != "order_update" ||
			len(content.Template.Parameters) != 2 || !strings.Contains(tpl.Body, "order_update") {
			t.Errorf("template message %+v content %+v", tpl, content)
		}
		for _, bad := range []struct{ body, field string }{
			{`{"type":"template"}`, "template"},
			{`{"type":"template","template":{"name":"Order Update","language":"en"}}`, "template.name"},
			{`{"type":"template","template":{"name":"x","language":"english"}}`, "template.language"},
			{`{"type":"template","template":{"name":"x","language":"en","parameters":[" "]}}`, "template.parameters"},
			{`{"type":"template","body":"hi","template":{"name":"x","language":"en"}}`, "body"},
			{`{"body":"hi","template":{"name":"x","language":"en"}}`, "template"},
			{`{"type":"sticker","body":"hi"}`, "type"},
		} {
			c.do("POST", path, bad.body).wantError(t, http.StatusBadRequest, "invalid", bad.field)
		}
		// Templates are WhatsApp's: the tenant's API-channel conversation
		// refuses one.
		c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID),
			`{"type":"template","template":{"name":"order_update","language":"en"}}`).
			wantError(t, http.StatusUnprocessableEntity, store.CodeUnsupported, "")

		// The contact writes: the window opens.
		inbound(t, st, a.ws.ID, conv.ID, "hi, where is my order?")
		c.do("POST", path, `{"body":"Hello!"}`).ok(t, http.StatusCreated, nil)

		// They opt out: nothing goes out on any inbox until they opt in.
		consent := fmt.Sprintf("/api/v1/contacts/%d/consent", a.contact.ID)
		var cv struct {
			OptedOutAt *string               `json:"opted_out_at"`
			Records    []store.ConsentRecord `json:"records"`
		}
		c.do("POST", consent, `{"opted_out":true}`).ok(t, http.StatusOK, &cv)
		if cv.OptedOutAt == nil || len(cv.Records) != 1 || cv.Records[0].Source != fmt.Sprintf("agent:%d", a.agent.ID) {
			t.Fatalf("after opting out: %+v", cv)
		}
		c.do("POST", path, `{"body":"still there?"}`).wantError(t, http.StatusUnprocessableEntity, store.CodeOptedOut, "")
		c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), `{"body":"other channel"}`).
			wantError(t, http.StatusUnprocessableEntity, store.CodeOptedOut, "")
		c.do("POST", consent, `{}`).wantError(t, http.StatusBadRequest, "invalid", "opted_out")
		c.do("POST", consent, `{"opted_out":"yes"}`).wantError(t, http.StatusBadRequest, "invalid", "opted_out")
		c.do("POST", consent, `{"opted_out":false}`).ok(t, http.StatusOK, &cv)
		if cv.OptedOutAt != nil || len(cv.Records) != 2 || cv.Records[1].Kind != store.ConsentOptIn {
			t.Fatalf("after opting in: %+v", cv)
		}
		c.do("POST", path, `{"body":"welcome back"}`).ok(t, http.StatusCreated, nil)

		// Another workspace's contact is not found.
		b := newTenant(t, st)
		client{t: t, base: base, token: b.token}.do("GET", consent, "").wantError(t, http.StatusNotFound, "not_found", "")
		client{t: t, base: base, token: b.token}.do("POST", consent, `{"opted_out":true}`).wantError(t, http.StatusNotFound, "not_found", "")
	})
}
