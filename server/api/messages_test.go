package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type messageList struct {
	Messages   []store.Message `json:"messages"`
	NextCursor string          `json:"next_cursor"`
}

func TestSendMessage(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID)

		var reply store.Message
		c.do("POST", path, `{"body":"Hi Carol, on it."}`).ok(t, http.StatusCreated, &reply)
		if reply.ConversationID != a.conv.ID || reply.Direction != store.DirectionOut || reply.AuthorAgentID != a.agent.ID ||
			reply.Type != store.TypeText || reply.Status != store.DeliveryQueued {
			t.Errorf("reply = %+v", reply)
		}
		var note store.Message
		c.do("POST", path, fmt.Sprintf(`{"body":"@olive look","type":"note","mentions":[%d]}`, a.agent.ID)).ok(t, http.StatusCreated, &note)
		if note.Type != store.TypeNote || !slices.Equal(note.Mentions, []int64{a.agent.ID}) {
			t.Errorf("note = %+v", note)
		}

		// A retried send on a weak connection: the second answer is the
		// first message, and only one row exists.
		idempotent := []struct {
			name   string
			body   string
			header []string
		}{
			{"header key", `{"body":"Refund sent."}`, []string{"Idempotency-Key", unique("key-")}},
			{"body key", fmt.Sprintf(`{"body":"Refund sent.","idempotency_key":%q}`, unique("key-")), nil},
			{"both keys agree", fmt.Sprintf(`{"body":"Refund sent.","idempotency_key":"k%d"}`, a.conv.ID), []string{"Idempotency-Key", fmt.Sprintf("k%d", a.conv.ID)}},
		}
		for _, tc := range idempotent {
			t.Run(tc.name, func(t *testing.T) {
				var first, second store.Message
				c.do("POST", path, tc.body, tc.header...).ok(t, http.StatusCreated, &first)
				c.do("POST", path, tc.body, tc.header...).ok(t, http.StatusOK, &second)
				if first.ID == 0 || second.ID != first.ID || first.IdempotencyKey == "" {
					t.Fatalf("first %+v, second %+v", first, second)
				}
				var l messageList
				c.do("GET", path+"?limit=100", "").ok(t, http.StatusOK, &l)
				n := 0
				for _, m := range l.Messages {
					if m.IdempotencyKey == first.IdempotencyKey {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d messages with key %q, want 1", n, first.IdempotencyKey)
				}
			})
		}
	})
}

func TestListMessagesPages(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		var want []int64
		for i := range 5 {
			want = append(want, inbound(t, st, a.ws.ID, a.conv.ID, fmt.Sprintf("message %d", i)).ID)
		}
		slices.Reverse(want) // newest first

		var got []int64
		path := fmt.Sprintf("/api/v1/conversations/%d/messages?limit=2", a.conv.ID)
		for next := ""; ; {
			var l messageList
			c.do("GET", path+next, "").ok(t, http.StatusOK, &l)
			for _, m := range l.Messages {
				got = append(got, m.ID)
			}
			if l.NextCursor == "" {
				break
			}
			if len(got) > len(want) {
				t.Fatalf("paging does not end: %v", got)
			}
			next = "&cursor=" + l.NextCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged %v, want %v", got, want)
		}
	})
}

// TestSendMessageConcurrentRetries sends one key from many clients at
// once, as a flaky connection's retries racing each other would: exactly
// one 201, every other answer 200 with the same message.
func TestSendMessageConcurrentRetries(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		path := fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID)
		const n = 8
		type result struct {
			status int
			id     int64
		}
		results := make(chan result, n)
		reqCtx := ctx(t)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				// Not client.do: t.Fatal belongs to the test goroutine.
				req, err := http.NewRequestWithContext(reqCtx, "POST", base+path, strings.NewReader(`{"body":"once only"}`))
				if err != nil {
					t.Error(err)
					return
				}
				req.Header.Set("Authorization", "Bearer "+a.token)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "race-key")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				var m store.Message
				if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
					t.Errorf("status %d: %v", resp.StatusCode, err)
				}
				results <- result{resp.StatusCode, m.ID}
			})
		}
		wg.Wait()
		close(results)
		created, ids := 0, map[int64]bool{}
		for r := range results {
			switch r.status {
			case http.StatusCreated:
				created++
			case http.StatusOK:
			default:
				t.Errorf("status %d", r.status)
			}
			ids[r.id] = true
		}
		if created != 1 || len(ids) != 1 {
			t.Errorf("%d created, ids %v; want one message", created, ids)
		}
	})
}
