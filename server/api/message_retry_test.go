package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

func TestRetryMessage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		b := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		send := fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID)
		retry := func(id int64) string { return fmt.Sprintf("/api/v1/messages/%d/retry", id) }

		var reply store.Message
		c.do("POST", send, `{"body":"Your order shipped."}`).ok(t, http.StatusCreated, &reply)
		c.do("POST", retry(reply.ID), "").wantError(t, http.StatusConflict, "not_retryable", "")

		// The channel refuses it.
		es, err := st.ClaimOutbox(ctx(t), []store.InboxKind{store.InboxAPI}, store.Now(), time.Minute, 10)
		must(t, err)
		if len(es) != 1 || es[0].Message.ID != reply.ID {
			t.Fatalf("claimed %+v", es)
		}
		_, _, err = st.FailOutbox(ctx(t), es[0], "WhatsApp error 131030: Recipient phone number not in allowed list")
		must(t, err)

		client{t: t, base: base, token: b.token}.do("POST", retry(reply.ID), "").wantError(t, http.StatusNotFound, "not_found", "")
		var again store.Message
		c.do("POST", retry(reply.ID), "").ok(t, http.StatusOK, &again)
		if again.ID != reply.ID || again.Status != store.DeliveryQueued || again.Error != "" {
			t.Fatalf("retried %+v", again)
		}
		c.do("POST", retry(reply.ID), "").wantError(t, http.StatusConflict, "not_retryable", "")

		var note store.Message
		c.do("POST", send, `{"body":"internal","type":"note"}`).ok(t, http.StatusCreated, &note)
		c.do("POST", retry(note.ID), "").wantError(t, http.StatusConflict, "not_retryable", "")
		c.do("POST", retry(1<<40), "").wantError(t, http.StatusNotFound, "not_found", "")
		c.do("POST", "/api/v1/messages/abc/retry", "").wantError(t, http.StatusNotFound, "not_found", "")
	})
}
