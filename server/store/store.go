// Package store owns the inbox's persistent state: the domain types, the
// errors callers branch on, and Store, the contract that the Postgres
// (server/store/postgres) and SQLite (server/store/sqlite) implementations
// both meet and that server/store/storetest checks.
//
// Rules every implementation keeps:
//   - every method that reads or writes workspace data takes the workspace
//     id and never touches another workspace's rows; a row of another
//     workspace is ErrNotFound;
//   - every change to inbox state appends its event(s) to the workspace
//     event log in the same transaction, with the next gap-free sequence
//     number, so that committed state and the log never disagree;
//   - times are UTC with microsecond precision.
package store

import (
	"context"
	"encoding/json"
	"time"
)

// Store is what the inbox and the API need from storage.
type Store interface {
	// AIStore is the knowledge base, AI settings and AI opt-outs (ai.go).
	AIStore
	// AIAutoReplyStore is the inboxes' auto-reply settings and the
	// conversations' hand-overs (ai_autoreply.go).
	AIAutoReplyStore
	// AISummaryStore is the conversations' summaries (ai_summary.go).
	AISummaryStore
	// RetentionStore is the retention settings and the deletions of
	// what they expire (retention.go).
	RetentionStore
	// ArchiveStore reads and writes whole workspaces for archives (archive.go).
	ArchiveStore
	// ErasureStore is the erasure requests and the deletions that carry
	// them out (erasure.go).
	ErasureStore

	// Ping checks the database is reachable, for /readyz.
	Ping(ctx context.Context) error
	// SchemaVersion reports the database's schema version and the newest
	// version this binary knows.
	SchemaVersion(ctx context.Context) (current, latest int64, err error)
	// Close releases the database.
	Close() error

	// CreateWorkspace creates a workspace with fresh Pusher credentials and
	// its owner, creating the owner agent if the email is new.
	CreateWorkspace(ctx context.Context, w NewWorkspace) (Workspace, Agent, error)
	Workspace(ctx context.Context, id int64) (Workspace, error)
	// WorkspaceByAppKey and WorkspaceByAppID serve the hub's AppStore.
	WorkspaceByAppKey(ctx context.Context, key string) (Workspace, error)
	WorkspaceByAppID(ctx context.Context, appID string) (Workspace, error)

	// CreateAgent adds an agent to a workspace, creating the agent if the
	// email is new; an agent already in the workspace is ErrConflict.
	CreateAgent(ctx context.Context, workspaceID int64, a NewAgent) (Agent, error)
	Agent(ctx context.Context, workspaceID, agentID int64) (Agent, error)
	ListAgents(ctx context.Context, workspaceID int64) ([]Agent, error)

	// CreateAPIToken stores a new token for a member and returns its
	// plaintext, which is never available again. It records token.created
	// as nt.By (see NewAPIToken.TokenRole for the role it gets).
	CreateAPIToken(ctx context.Context, workspaceID int64, t NewAPIToken) (APIToken, string, error)
	// AuthenticateToken resolves a plaintext token, or ErrUnauthenticated.
	AuthenticateToken(ctx context.Context, plaintext string) (Principal, error)

	// --- Membership: invitations, roles, tokens, audit (see membership.go) ---
	// The methods taking an Actor check its rank rule (Actor.Permits,
	// ErrForbidden) under the change's locks and record their audit entry
	// in the change's transaction.

	// APIToken returns a token of the workspace, revoked or not.
	APIToken(ctx context.Context, workspaceID, tokenID int64) (APIToken, error)
	// ListAPITokens returns the workspace's unrevoked tokens, newest
	// first: agentID's only when it is not 0.
	ListAPITokens(ctx context.Context, workspaceID, agentID int64) ([]APIToken, error)
	// RevokeAPIToken revokes a token and records token.revoked; revoking
	// a revoked token changes and records nothing.
	RevokeAPIToken(ctx context.Context, workspaceID, tokenID int64, by Actor) (APIToken, error)

	// CreateInvitation invites an email with a role and appends
	// invitation.created. An outstanding invitation of the same email is
	// replaced: revoked (invitation.revoked) in the same transaction. An
	// email that is already a member is ErrAlreadyMember.
	CreateInvitation(ctx context.Context, workspaceID int64, ni NewInvitation, by Actor) (Invitation, error)
	// ListInvitations returns the workspace's outstanding invitations
	// (pending or expired; not accepted, not revoked), newest first.
	ListInvitations(ctx context.Context, workspaceID int64) ([]Invitation, error)
	// RevokeInvitation revokes an outstanding invitation and appends
	// invitation.revoked; revoking twice is fine and appends nothing. An
	// accepted invitation is ErrConflict.
	RevokeInvitation(ctx context.Context, workspaceID, invitationID int64, by Actor) (Invitation, error)
	// JoinByEmail is what a sign-in does with a verified email: it accepts
	// every pending, unexpired invitation of the email in every workspace
	// (creating the agent if the email is new; an expired invitation is
	// not accepted) with the invited role, and, when hostedDomain (Google's
	// hd claim) is not empty, joins as agent every workspace whose
	// auto-join domain it is. It appends member.added (and
	// invitation.accepted) in each workspace joined, and returns all the
	// person's memberships by workspace id. An unverified email joins
	// nothing and is a member of nothing here: nil.
	JoinByEmail(ctx context.Context, email string, emailVerified bool, hostedDomain string) ([]Membership, error)
	// SetRole changes a member's role and appends member.updated (nothing
	// when the role is unchanged). Demoting the last owner is
	// ErrLastOwner.
	SetRole(ctx context.Context, workspaceID, agentID int64, role Role, by Actor) (Agent, error)
	// RemoveMember ends a membership: it unassigns the member's
	// conversations (conversation.updated each), takes them off their
	// teams (team.updated each), deletes their API tokens of the
	// workspace and appends member.removed, in one transaction. Removing
	// the last owner is ErrLastOwner.
	RemoveMember(ctx context.Context, workspaceID, agentID int64, by Actor) error
	// UpdateWorkspace applies u and appends workspace.updated (nothing
	// when nothing changed).
	UpdateWorkspace(ctx context.Context, workspaceID int64, u WorkspaceUpdate, by Actor) (Workspace, error)
	// RecordAudit appends an entry to the workspace's audit log, for
	// changes made outside the store (sign-ins).
	RecordAudit(ctx context.Context, workspaceID int64, e AuditEntry) error
	// ListAudit pages the workspace's audit log, newest first.
	ListAudit(ctx context.Context, workspaceID int64, f AuditFilter) (AuditPage, error)

	// CreateTeam creates a team and appends team.created; a taken name is
	// ErrConflict.
	CreateTeam(ctx context.Context, workspaceID int64, t NewTeam) (Team, error)
	// AddTeamMember adds a member of the workspace to a team and appends
	// team.updated; adding twice is fine and appends nothing. An agent
	// who is not a member of the workspace is invalid (field agent_id).
	AddTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error
	// RemoveTeamMember takes an agent off a team and appends
	// team.updated; removing a non-member is fine and appends nothing.
	RemoveTeamMember(ctx context.Context, workspaceID, teamID, agentID int64) error
	ListTeams(ctx context.Context, workspaceID int64) ([]Team, error)
	Team(ctx context.Context, workspaceID, teamID int64) (Team, error)
	// UpdateTeam applies u and appends team.updated; a taken name is
	// ErrConflict.
	UpdateTeam(ctx context.Context, workspaceID, teamID int64, u TeamUpdate) (Team, error)
	// DeleteTeam deletes a team. The conversations routed to it are
	// unrouted (team_id unset), each appending conversation.updated,
	// before team.deleted, all in one transaction.
	DeleteTeam(ctx context.Context, workspaceID, teamID int64) error

	// ListLabels returns the workspace's labels by name.
	ListLabels(ctx context.Context, workspaceID int64) ([]Label, error)
	// CreateLabel creates a label and appends label.created; a taken name
	// is ErrConflict.
	CreateLabel(ctx context.Context, workspaceID int64, l NewLabel) (Label, error)
	// UpdateLabel applies u and appends label.updated; a taken name is
	// ErrConflict. A rename first appends conversation.updated for each
	// conversation carrying the label.
	UpdateLabel(ctx context.Context, workspaceID, labelID int64, u LabelUpdate) (Label, error)
	// DeleteLabel deletes a label, taking it off every conversation
	// (each appending conversation.updated) before label.deleted, all in
	// one transaction.
	DeleteLabel(ctx context.Context, workspaceID, labelID int64) error

	// CreateCannedResponse saves a reply and appends
	// canned_response.created; a taken short code is ErrConflict.
	CreateCannedResponse(ctx context.Context, workspaceID int64, c CannedResponse) (CannedResponse, error)
	// ListCannedResponses returns the replies whose short code starts
	// with prefix (all for ""), by short code.
	ListCannedResponses(ctx context.Context, workspaceID int64, prefix string) ([]CannedResponse, error)
	// UpdateCannedResponse applies u and appends canned_response.updated;
	// a taken short code is ErrConflict.
	UpdateCannedResponse(ctx context.Context, workspaceID, id int64, u CannedResponseUpdate) (CannedResponse, error)
	// DeleteCannedResponse deletes a reply and appends
	// canned_response.deleted.
	DeleteCannedResponse(ctx context.Context, workspaceID, id int64) error

	CreateInbox(ctx context.Context, workspaceID int64, in NewInbox) (Inbox, error)
	Inbox(ctx context.Context, workspaceID, inboxID int64) (Inbox, error)
	// ListInboxes returns the workspace's inboxes, oldest first.
	ListInboxes(ctx context.Context, workspaceID int64) ([]Inbox, error)
	// RenameInbox changes an inbox's name.
	RenameInbox(ctx context.Context, workspaceID, inboxID int64, name string) (Inbox, error)
	// ConfigureInbox replaces an inbox's settings and its sealed
	// credentials (opaque here: server/channels/secretbox seals them).
	ConfigureInbox(ctx context.Context, workspaceID, inboxID int64, settings json.RawMessage, credentials []byte) (Inbox, error)
	// WebhookInbox finds an inbox by id alone, in whatever workspace. It
	// is only for provider webhooks, whose URL names the inbox and which
	// must check the provider's signature with the inbox's credentials
	// before anything else is read or written; everything after uses the
	// workspace id it returns.
	WebhookInbox(ctx context.Context, inboxID int64) (Inbox, error)
	// CreateDeadLetter keeps a provider payload that could not be
	// processed; ListDeadLetters returns the workspace's newest first.
	CreateDeadLetter(ctx context.Context, workspaceID int64, d NewDeadLetter) (DeadLetter, error)
	ListDeadLetters(ctx context.Context, workspaceID int64, limit int) ([]DeadLetter, error)

	// UpsertContact returns the contact known by identity, or creates it
	// from c with that identity; created says which.
	UpsertContact(ctx context.Context, workspaceID int64, id Identity, c NewContact) (contact Contact, created bool, err error)
	Contact(ctx context.Context, workspaceID, contactID int64) (Contact, error)
	// SetContactOptOut opts a contact out of outbound messages or back
	// in, keeping a ConsentRecord and appending contact.updated; changed
	// is false (and nothing is written) when the contact already was in
	// that state.
	SetContactOptOut(ctx context.Context, workspaceID, contactID int64, c ConsentChange) (contact Contact, changed bool, err error)
	// ConsentRecords lists a contact's opt-outs and opt-ins, oldest first.
	ConsentRecords(ctx context.Context, workspaceID, contactID int64) ([]ConsentRecord, error)
	// CreateContact creates a contact known by ids (none is fine) and
	// appends contact.created; an identity another contact already has is
	// ErrConflict.
	CreateContact(ctx context.Context, workspaceID int64, c NewContact, ids []Identity) (Contact, Event, error)
	// ListContacts pages contacts newest first by id, optionally only those
	// matching a full-text query (see ContactFilter).
	ListContacts(ctx context.Context, workspaceID int64, f ContactFilter) (ContactPage, error)
	// UpdateContact applies u (attributes merge key by key, see
	// ContactUpdate) and appends contact.updated.
	UpdateContact(ctx context.Context, workspaceID, contactID int64, u ContactUpdate) (Contact, Event, error)
	// DeleteContact deletes a contact with its identities and appends
	// contact.deleted. A contact with conversations is ErrConflict: it can
	// be merged into another, and erasing a customer's history is a
	// separate data-rights operation.
	DeleteContact(ctx context.Context, workspaceID, contactID int64) (Event, error)
	// MergeContacts moves fromID's identities and conversations to intoID,
	// fills intoID's fields from fromID (MergeContactFields) and deletes
	// fromID, appending conversation.updated for each moved conversation
	// and then contact.merged, all in one transaction. Merging a contact
	// into itself is invalid (field from_id); either id unknown is
	// ErrNotFound, so of two identical merges racing, the loser gets it.
	MergeContacts(ctx context.Context, workspaceID, intoID, fromID int64) (Contact, []Event, error)

	// OpenConversation returns the contact's latest conversation in the
	// inbox unless it is resolved, or creates one (created true,
	// conversation.created appended), atomically: concurrent calls for
	// one contact and inbox open one conversation.
	OpenConversation(ctx context.Context, workspaceID int64, c NewConversation) (conv Conversation, created bool, err error)
	// CreateConversation creates a conversation and appends
	// conversation.created.
	CreateConversation(ctx context.Context, workspaceID int64, c NewConversation) (Conversation, Event, error)
	Conversation(ctx context.Context, workspaceID, conversationID int64) (Conversation, error)
	// ListConversations pages conversations by last activity, newest first.
	ListConversations(ctx context.Context, workspaceID int64, f ConversationFilter) (ConversationPage, error)
	// ConversationPreviews returns, for each of the workspace's
	// conversations ids (another workspace's, or unknown, are skipped),
	// its contact's name and its newest message, in one query: what a
	// list row shows.
	ConversationPreviews(ctx context.Context, workspaceID int64, ids []int64) ([]ConversationPreview, error)
	// UpdateConversation applies u and appends conversation.updated, its
	// payload naming the fields that changed (ConversationPayload.Changed).
	UpdateConversation(ctx context.Context, workspaceID, conversationID int64, u ConversationUpdate) (Conversation, Event, error)
	// AddLabel labels a conversation, creating the label by name if needed
	// (and appending label.created first); RemoveLabel takes it off. Both
	// append conversation.updated, unless nothing changed, when the
	// returned Event is zero.
	AddLabel(ctx context.Context, workspaceID, conversationID int64, label string) (Conversation, Event, error)
	RemoveLabel(ctx context.Context, workspaceID, conversationID int64, label string) (Conversation, Event, error)
	// MarkRead records that agentID has read the conversation up to its
	// newest message, and appends conversation.read.
	MarkRead(ctx context.Context, workspaceID, conversationID, agentID int64) (Event, error)

	// CreateMessage stores a message, deduplicating inbound messages by
	// (inbox, provider message id) and outbound ones by (workspace,
	// idempotency key). In the same transaction it queues outbound
	// non-note messages in the outbox, bumps the conversation's last
	// activity and appends message.created (note.created for notes).
	CreateMessage(ctx context.Context, workspaceID int64, m NewMessage) (CreatedMessage, error)
	Message(ctx context.Context, workspaceID, messageID int64) (Message, error)
	// MessageByProviderID finds a message of the inbox by the channel's
	// id for it, for delivery receipts and early duplicate checks.
	MessageByProviderID(ctx context.Context, workspaceID, inboxID int64, providerMessageID string) (Message, error)
	// ListMessages pages a conversation's messages, newest first.
	ListMessages(ctx context.Context, workspaceID, conversationID int64, f MessageFilter) ([]Message, error)
	// UpdateMessageStatus records a delivery receipt and appends
	// message.updated.
	UpdateMessageStatus(ctx context.Context, workspaceID, messageID int64, status DeliveryStatus, errText string) (Message, Event, error)

	// --- Inbound media (server/media downloads it, see media.go) ---

	// Media returns a media item of the workspace.
	Media(ctx context.Context, workspaceID, mediaID int64) (Media, error)
	// ClaimMedia claims up to limit pending items due at now whose lease
	// (if any) has ended, oldest first, until now+lease, raising their
	// attempt count. Two concurrent claims never return the same item
	// while its lease runs.
	ClaimMedia(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]MediaJob, error)
	// MarkMediaStored records a claimed item's blob: the item becomes
	// stored and message.updated is appended, in one transaction.
	MarkMediaStored(ctx context.Context, j MediaJob, b StoredBlob) (Message, Event, error)
	// RetryMedia releases a claimed item to be attempted again at next,
	// keeping errText as its error.
	RetryMedia(ctx context.Context, j MediaJob, next time.Time, errText string) error
	// FailMedia gives up a claimed item with errText and appends
	// message.updated. All three return ErrMediaLeaseLost when j's claim
	// is no longer held.
	FailMedia(ctx context.Context, j MediaJob, errText string) (Message, Event, error)

	// --- The outbox (server/channels/outbox drains it, see outbox.go) ---

	// ClaimOutbox claims up to limit entries of inboxes of the given
	// kinds that are due at now (pending, or sending with an expired
	// lease), oldest first: each is marked sending until now+lease with
	// its attempt count raised. Two concurrent claims never return the
	// same entry while its lease runs.
	ClaimOutbox(ctx context.Context, kinds []InboxKind, now time.Time, lease time.Duration, limit int) ([]OutboxEntry, error)
	// MarkOutboxSent completes a claimed entry the provider accepted: the
	// message becomes sent with the provider's id for it, and
	// message.updated is appended, in one transaction.
	MarkOutboxSent(ctx context.Context, e OutboxEntry, providerMessageID string) (Message, Event, error)
	// RetryOutbox releases a claimed entry to be attempted again at next,
	// keeping errText as its last error; the message stays queued.
	RetryOutbox(ctx context.Context, e OutboxEntry, next time.Time, errText string) error
	// FailOutbox gives up a claimed entry: the message becomes failed
	// with errText, and message.updated is appended.
	// All three return ErrLeaseLost when e's claim is no longer held.
	FailOutbox(ctx context.Context, e OutboxEntry, errText string) (Message, Event, error)
	// RequeueMessage queues a failed outbound message again, as new: its
	// outbox entry pending with no attempts, the message queued without
	// its error or its old provider id (whose late receipts must not
	// apply to the new send), appending message.updated. A message that
	// is not a failed outbound send is ErrNotRetryable.
	RequeueMessage(ctx context.Context, workspaceID, messageID int64) (Message, Event, error)

	// EventsAfter returns up to limit events with seq > after, in order;
	// ErrEventsGone when some of them were pruned.
	EventsAfter(ctx context.Context, workspaceID, after int64, limit int) (EventPage, error)
	// PruneEvents deletes events created before olderThan; clients behind
	// them then get ErrEventsGone. The latest seq stays known regardless.
	PruneEvents(ctx context.Context, workspaceID int64, olderThan time.Time) (int64, error)
	// PublishedSeq, MarkPublished and UnpublishedWorkspaces keep the
	// relay's durable mark of what was published to the hub, so events
	// committed but not yet published survive a crash.
	PublishedSeq(ctx context.Context, workspaceID int64) (int64, error)
	MarkPublished(ctx context.Context, workspaceID, seq int64) error
	UnpublishedWorkspaces(ctx context.Context) ([]int64, error)

	// SearchMessages and SearchContacts run a full-text query within the
	// workspace, best matches first.
	SearchMessages(ctx context.Context, workspaceID int64, query string, limit int) ([]Message, error)
	SearchContacts(ctx context.Context, workspaceID int64, query string, limit int) ([]Contact, error)

	// --- Sign-in and browser sessions (server/auth) ---
	// These work on an agent as a person across workspaces (Account), so
	// they take an agent id, not a workspace id; SessionPrincipal still
	// answers for one workspace only.

	// UpsertAccount finds the agent by email (case-insensitively) or
	// creates it, fills an empty name, refreshes the avatar and links the
	// Google account on first Google sign-in. An agent already linked to
	// another Google account, or a Google account already linked to
	// another agent, is ErrConflict.
	UpsertAccount(ctx context.Context, a NewAccount) (Account, error)
	Account(ctx context.Context, agentID int64) (Account, error)
	// AccountWorkspaces lists the workspaces the agent is a member of,
	// oldest membership first.
	AccountWorkspaces(ctx context.Context, agentID int64) ([]AccountWorkspace, error)
	// SessionPrincipal resolves a signed-in session to its principal in
	// ref's workspace, with the agent's membership role. A stale epoch, a
	// membership that is gone or a workspace whose required domain the
	// sign-in did not carry is ErrUnauthenticated.
	SessionPrincipal(ctx context.Context, ref SessionRef) (Principal, error)
	// RevokeSessions ends every session of the agent (bumping its session
	// epoch) and returns the new epoch.
	RevokeSessions(ctx context.Context, agentID int64) (int64, error)
	// SetRequiredDomain makes the workspace admit only Google accounts of
	// hosted domain domain; "" admits any.
	SetRequiredDomain(ctx context.Context, workspaceID int64, domain string) error

	// FindSession, CommitSession and DeleteSession are the scs session
	// store (server/auth adapts them to scs.CtxStore). FindSession does
	// not find an expired or deleted session. DeleteSession keeps a
	// tombstone until the session's expiry, so a concurrent CommitSession
	// of the same token does not bring it back.
	FindSession(ctx context.Context, token string) (data []byte, found bool, err error)
	CommitSession(ctx context.Context, token string, data []byte, expiry time.Time) error
	DeleteSession(ctx context.Context, token string) error
	// DeleteExpiredSessions removes sessions (and tombstones) that expired
	// before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// Now is the store's clock: UTC, truncated to the microsecond both
// databases keep, so a value read back equals the value written.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
