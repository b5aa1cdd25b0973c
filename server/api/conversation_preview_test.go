package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestListConversationsWithPreview: include=preview puts each row's
// contact and newest message in the list; without it the rows are bare
// conversations; another value is 400.
func TestListConversationsWithPreview(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServerWith(t, st, api.Options{})
		a := newTenant(t, st)
		ca := client{t: t, base: base, token: a.token}
		_, err := st.CreateMessage(ctx(t), a.ws.ID, store.NewMessage{ConversationID: a.conv.ID, Direction: store.DirectionIn,
			Body: "Is my parcel lost?", ProviderMessageID: unique("m")})
		must(t, err)

		type row struct {
			ID          int64                 `json:"id"`
			ContactID   int64                 `json:"contact_id"`
			Contact     *store.ContactSummary `json:"contact"`
			LastMessage *store.MessagePreview `json:"last_message"`
		}
		var page struct{ Conversations []row }
		r := ca.do("GET", "/api/v1/conversations?include=preview", "")
		if r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		must(t, json.Unmarshal(r.body, &page))
		if len(page.Conversations) != 1 {
			t.Fatalf("rows %s", r.body)
		}
		got := page.Conversations[0]
		if got.Contact == nil || got.Contact.ID != a.contact.ID || got.Contact.Name != a.contact.Name {
			t.Errorf("contact %+v, want %s", got.Contact, a.contact.Name)
		}
		if got.LastMessage == nil || got.LastMessage.Body != "Is my parcel lost?" || got.LastMessage.Direction != store.DirectionIn {
			t.Errorf("last message %+v", got.LastMessage)
		}

		r = ca.do("GET", "/api/v1/conversations", "")
		page.Conversations = nil
		must(t, json.Unmarshal(r.body, &page))
		if len(page.Conversations) != 1 || page.Conversations[0].Contact != nil || page.Conversations[0].LastMessage != nil {
			t.Errorf("without include: %s", r.body)
		}
		if r := ca.do("GET", "/api/v1/conversations?include=everything", ""); r.status != http.StatusBadRequest {
			t.Errorf("include=everything: %d %s", r.status, r.body)
		}
	})
}
