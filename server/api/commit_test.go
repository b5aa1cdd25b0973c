package api_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/api"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// TestOnCommit: the relay is woken after each successful change, with the
// caller's workspace, and not after reads or refused requests.
func TestOnCommit(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		var mu sync.Mutex
		var got []int64
		base, _ := newServerWith(t, st, api.Options{OnCommit: func(ws int64) {
			mu.Lock()
			got = append(got, ws)
			mu.Unlock()
		}})
		tn := newTenant(t, st)
		c := client{t: t, base: base, token: tn.token}
		conv := fmt.Sprintf("/api/v1/conversations/%d", tn.conv.ID)

		c.do("GET", conv, "")                                                  // a read
		c.do("POST", conv+"/messages", `{"body":""}`)                          // refused: empty body
		c.do("PATCH", "/api/v1/conversations/999999", `{"status":"resolved"}`) // refused: not found
		c.do("POST", conv+"/messages", `{"body":"hello"}`).ok(t, 201, nil)
		c.do("PATCH", conv, `{"status":"resolved"}`).ok(t, 200, nil)

		mu.Lock()
		defer mu.Unlock()
		if want := []int64{tn.ws.ID, tn.ws.ID}; !slices.Equal(got, want) {
			t.Errorf("OnCommit calls %v, want %v", got, want)
		}
	})
}
