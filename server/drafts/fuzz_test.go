package drafts_test

import (
	"testing"

	"github.com/switchboard-inbox/switchboard/server/drafts"
	"github.com/switchboard-inbox/switchboard/server/store"
	"github.com/switchboard-inbox/switchboard/server/store/teststore"
)

// FuzzOnEvents: whatever payload an event carries, OnEvents neither
// panics nor blocks (nothing drains this service's small queue).
func FuzzOnEvents(f *testing.F) {
	f.Add(store.EventMessageCreated, []byte(`{"message":{"id":1,"conversation_id":2,"direction":"in"}}`))
	f.Add(store.EventMessageCreated, []byte(`{"message":{"id":3,"conversation_id":2,"direction":"out","author_kind":"agent","type":"text"}}`))
	f.Add(store.EventConversationUpdated, []byte(`{"conversation":{"id":2,"status":"resolved"},"changed":["status"]}`))
	f.Add(store.EventMessageCreated, []byte(`{"message":`))
	f.Add("note.created", []byte(`null`))
	svc := drafts.New(teststore.SQLite(f), nil, drafts.Options{Queue: 4})
	f.Fuzz(func(t *testing.T, kind string, payload []byte) {
		svc.OnEvents(1, []store.Event{{WorkspaceID: 1, Seq: 1, Kind: kind, Payload: payload}})
	})
}
