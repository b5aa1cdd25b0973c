// Package storetest is the contract every store.Store implementation must
// pass: both server/store/postgres and server/store/sqlite run Run against
// a real database. A behaviour the inbox relies on belongs here, not in one
// implementation's tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Opener returns a fresh, migrated, empty store, closed by t.Cleanup.
type Opener func(t testing.TB) store.Store

// Run runs the whole contract suite against the stores open returns. Each
// subtest opens its own store.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"SchemaVersion", testSchemaVersion},
		{"Workspaces", testWorkspaces},
		{"Agents", testAgents},
		{"APITokens", testAPITokens},
		{"APITokenManagement", testAPITokenManagement},
		{"Invitations", testInvitations},
		{"JoinByEmail", testJoinByEmail},
		{"SetRole", testSetRole},
		{"RemoveMember", testRemoveMember},
		{"LastOwnerConcurrent", testLastOwnerConcurrent},
		{"UpdateWorkspace", testUpdateWorkspace},
		{"Audit", testAudit},
		{"Accounts", testAccounts},
		{"SessionPrincipal", testSessionPrincipal},
		{"Sessions", testSessions},
		{"Teams", testTeams},
		{"CannedResponses", testCannedResponses},
		{"TeamChanges", testTeamChanges},
		{"DeleteTeam", testDeleteTeam},
		{"CannedResponseChanges", testCannedResponseChanges},
		{"Inboxes", testInboxes},
		{"ChannelInbox", testChannelInbox},
		{"DeadLetters", testDeadLetters},
		{"Contacts", testContacts},
		{"CreateContact", testCreateContact},
		{"ListContacts", testListContacts},
		{"UpdateContact", testUpdateContact},
		{"DeleteContact", testDeleteContact},
		{"MergeContacts", testMergeContacts},
		{"MergeContactsConcurrent", testConcurrentMerge},
		{"ContactSearch", testContactSearch},
		{"ContactIsolation", testContactIsolation},
		{"Conversations", testConversations},
		{"UpdateConversation", testUpdateConversation},
		{"Labels", testLabels},
		{"LabelCatalog", testLabelCatalog},
		{"ConversationChangedFields", testChangedFields},
		{"DeleteWhileConversationsChange", testDeleteWhileConversationsChange},
		{"ListConversationsFilters", testListFilters},
		{"ListConversationsPagingUnderInserts", testPagingUnderInserts},
		{"MarkRead", testMarkRead},
		{"Messages", testMessages},
		{"InboundDedup", testInboundDedup},
		{"InboundDedupConcurrent", testConcurrentDuplicates},
		{"UpsertContactConcurrent", testConcurrentUpsertContact},
		{"IdempotencyKey", testIdempotencyKey},
		{"MessageStatus", testMessageStatus},
		{"Media", testMedia},
		{"OutboundMedia", testOutboundMedia},
		{"ConversationPreviews", testConversationPreviews},
		{"MediaClaim", testMediaClaim},
		{"MediaRetry", testMediaRetry},
		{"MediaClaimConcurrent", testMediaClaimConcurrent},
		{"OutboxClaim", testOutboxClaim},
		{"OutboxRetry", testOutboxRetry},
		{"OutboxClaimConcurrent", testOutboxClaimConcurrent},
		{"RequeueMessage", testRequeueMessage},
		{"MessagingWindow", testMessagingWindow},
		{"OptOut", testOptOut},
		{"KnowledgeArticles", testKnowledgeArticles},
		{"AISettings", testAISettings},
		{"ContactAI", testContactAI},
		{"InboxAI", testInboxAI},
		{"HandOver", testHandOver},
		{"ConversationSummary", testConversationSummary},
		{"PastReplies", testPastReplies},
		{"SentElsewhere", testSentElsewhere},
		{"OpenConversation", testOpenConversation},
		{"MergeKeepsConsent", testMergeKeepsConsent},
		{"EventsGapFreeUnderConcurrency", testEventsConcurrent},
		{"EventsVisibleInOrder", testEventsVisibleInOrder},
		{"EventsAfterPaging", testEventsPaging},
		{"EventsPruned", testEventsPruned},
		{"RetentionSettings", testRetentionSettings},
		{"RetentionBoundary", testRetentionBoundary},
		{"RetentionConversations", testRetentionConversations},
		{"RetentionMedia", testRetentionMedia},
		{"RetentionEvents", testRetentionEvents},
		{"Erasure", testErasure},
		{"ErasureRequests", testErasureRequests},
		{"PublishedMark", testPublishedMark},
		{"Search", testSearch},
		{"BulkLoad", testBulkLoad},
		{"CrossWorkspaceIsolation", testIsolation},
		{"ArchiveSchema", testArchiveSchema},
		{"ArchiveRoundTrip", func(t *testing.T, s store.Store) { testArchiveRoundTrip(t, s, open(t)) }},
		{"ArchiveBadInput", func(t *testing.T, s store.Store) { testArchiveBadInput(t, s, open(t)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// ctx returns a context bounded so that a hung query fails the test
// instead of the whole run.
func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

var seq atomic.Int64

// unique returns a string no other call in this process returns.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// fixture is a workspace with an owner, an inbox, a contact and a
// conversation.
type fixture struct {
	ws      store.Workspace
	owner   store.Agent
	inbox   store.Inbox
	contact store.Contact
	conv    store.Conversation
}

func newFixture(t testing.TB, s store.Store) fixture {
	t.Helper()
	c := ctx(t)
	var f fixture
	var err error
	f.ws, f.owner, err = s.CreateWorkspace(c, store.NewWorkspace{Name: unique("ws"), OwnerEmail: unique("owner") + "@example.com", OwnerName: "Olive Owner"})
	must(t, err)
	f.inbox, err = s.CreateInbox(c, f.ws.ID, store.NewInbox{Kind: store.InboxWhatsApp, Name: "Support line"})
	must(t, err)
	f.contact = newContact(t, s, f.ws.ID, "Carol Customer")
	f.conv = newConversation(t, s, f.ws.ID, f.inbox.ID, f.contact.ID)
	return f
}

func newContact(t testing.TB, s store.Store, workspaceID int64, name string) store.Contact {
	t.Helper()
	c, _, err := s.UpsertContact(ctx(t), workspaceID, store.Identity{Channel: "whatsapp", ExternalID: unique("+4470")}, store.NewContact{Name: name})
	must(t, err)
	return c
}

func newConversation(t testing.TB, s store.Store, workspaceID, inboxID, contactID int64) store.Conversation {
	t.Helper()
	c, _, err := s.CreateConversation(ctx(t), workspaceID, store.NewConversation{InboxID: inboxID, ContactID: contactID})
	must(t, err)
	return c
}

func inbound(t testing.TB, s store.Store, workspaceID, convID int64, body, providerID string) store.CreatedMessage {
	t.Helper()
	m, err := s.CreateMessage(ctx(t), workspaceID, store.NewMessage{
		ConversationID: convID, Direction: store.DirectionIn, Body: body, ProviderMessageID: providerID,
	})
	must(t, err)
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// wantInvalid fails unless err is a *store.ValidationError on field.
func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	var ve *store.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("got error %v, want a validation error on %q", err, field)
	}
	if ve.Field != field {
		t.Fatalf("validation error on %q (%v), want %q", ve.Field, err, field)
	}
}

func ptr[T any](v T) *T { return &v }
