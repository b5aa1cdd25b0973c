package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

type eventList struct {
	Events    []store.Event `json:"events"`
	HasMore   bool          `json:"has_more"`
	LatestSeq int64         `json:"latest_seq"`
}

func seqs(es []store.Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestEvents(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		base, _ := newServer(t, st)
		a := newTenant(t, st)
		c := client{t: t, base: base, token: a.token}
		for i := range 4 {
			c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), fmt.Sprintf(`{"body":"reply %d"}`, i)).ok(t, http.StatusCreated, nil)
		}

		var all eventList
		c.do("GET", "/api/v1/events?after=0&limit=1000", "").ok(t, http.StatusOK, &all)
		if len(all.Events) < 5 || all.HasMore {
			t.Fatalf("all events: %d, has_more %v", len(all.Events), all.HasMore)
		}
		for i, e := range all.Events {
			if e.Seq != all.Events[0].Seq+int64(i) || e.WorkspaceID != a.ws.ID {
				t.Fatalf("events not gap-free in order: %v", seqs(all.Events))
			}
		}
		latest := all.Events[len(all.Events)-1].Seq
		if all.LatestSeq != latest {
			t.Fatalf("latest_seq %d, last event %d", all.LatestSeq, latest)
		}

		t.Run("after a seq", func(t *testing.T) {
			for _, after := range []int64{0, latest - 3, latest - 1, latest} {
				var page eventList
				c.do("GET", fmt.Sprintf("/api/v1/events?after=%d", after), "").ok(t, http.StatusOK, &page)
				var want []int64
				for _, e := range all.Events {
					if e.Seq > after {
						want = append(want, e.Seq)
					}
				}
				if !slices.Equal(seqs(page.Events), want) {
					t.Errorf("after %d: %v, want %v", after, seqs(page.Events), want)
				}
			}
		})

		t.Run("pages", func(t *testing.T) {
			var got []int64
			after := int64(0)
			for {
				var page eventList
				c.do("GET", fmt.Sprintf("/api/v1/events?after=%d&limit=2", after), "").ok(t, http.StatusOK, &page)
				if len(page.Events) > 2 || (page.HasMore && len(page.Events) != 2) {
					t.Fatalf("page %v, has_more %v", seqs(page.Events), page.HasMore)
				}
				got = append(got, seqs(page.Events)...)
				if !page.HasMore {
					break
				}
				after = page.Events[len(page.Events)-1].Seq
			}
			if !slices.Equal(got, seqs(all.Events)) {
				t.Errorf("paged %v, want %v", got, seqs(all.Events))
			}
		})

		t.Run("new event", func(t *testing.T) {
			var sent store.Message
			c.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", a.conv.ID), `{"body":"one more"}`).ok(t, http.StatusCreated, &sent)
			var page eventList
			c.do("GET", fmt.Sprintf("/api/v1/events?after=%d", latest), "").ok(t, http.StatusOK, &page)
			if len(page.Events) != 1 || page.Events[0].Seq != latest+1 || page.Events[0].Kind != store.EventMessageCreated || page.LatestSeq != latest+1 {
				t.Fatalf("after %d: %+v", latest, page)
			}
			var payload store.MessagePayload
			must(t, json.Unmarshal(page.Events[0].Payload, &payload))
			if payload.Message.ID != sent.ID {
				t.Errorf("event carries message %d, sent %d", payload.Message.ID, sent.ID)
			}
			latest++
		})

		t.Run("pruned", func(t *testing.T) {
			if _, err := st.PruneEvents(ctx(t), a.ws.ID, store.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			c.do("GET", "/api/v1/events?after=0", "").wantError(t, http.StatusGone, "events_gone", "")
			c.do("GET", fmt.Sprintf("/api/v1/events?after=%d", latest-1), "").wantError(t, http.StatusGone, "events_gone", "")
			var page eventList
			c.do("GET", fmt.Sprintf("/api/v1/events?after=%d", latest), "").ok(t, http.StatusOK, &page)
			if len(page.Events) != 0 || page.HasMore || page.LatestSeq != latest {
				t.Errorf("after latest, all pruned: %+v", page)
			}
		})
	})
}
