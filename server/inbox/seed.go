package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Seeder is what Seed writes through.
type Seeder interface {
	Workspace(ctx context.Context, id int64) (store.Workspace, error)
	CreateInbox(ctx context.Context, workspaceID int64, in store.NewInbox) (store.Inbox, error)
	UpsertContact(ctx context.Context, workspaceID int64, id store.Identity, c store.NewContact) (store.Contact, bool, error)
	CreateConversation(ctx context.Context, workspaceID int64, c store.NewConversation) (store.Conversation, store.Event, error)
	CreateMessage(ctx context.Context, workspaceID int64, m store.NewMessage) (store.CreatedMessage, error)
}

// SeedMode chooses how Seed writes.
type SeedMode int

// The seed modes.
const (
	// SeedAuto bulk-loads a seed of at least BulkSeedThreshold messages
	// when the store is a store.BulkLoader, and writes row by row
	// otherwise.
	SeedAuto SeedMode = iota
	// SeedRowByRow writes through the store's ordinary methods, one
	// transaction and one event per row, like real traffic: slow (a few
	// thousand messages a second) but exercising the live path.
	SeedRowByRow
	// SeedBulk bulk-loads (store.BulkLoader): one transaction, generated
	// text in varied conversations, one workspace.imported event. It
	// fails on a store that cannot.
	SeedBulk
)

// BulkSeedThreshold is the seed size, in messages, from which SeedAuto
// bulk-loads.
const BulkSeedThreshold = 10_000

// SeedOptions size a seed.
type SeedOptions struct {
	Conversations int // default 10
	// Messages per conversation; default 3. Row by row they are all
	// inbound; a bulk load alternates the customer's messages with
	// replies.
	Messages int
	Mode     SeedMode
	// Progress, when set, is called as conversations are written: after
	// each one row by row, after each batch in bulk.
	Progress func(done, total int)
}

// SeedResult is what Seed created. A bulk seed leaves ConversationIDs
// out: it may be millions long.
type SeedResult struct {
	InboxID         int64   `json:"inbox_id"`
	ConversationIDs []int64 `json:"conversation_ids,omitempty"`
	Conversations   int     `json:"conversations"`
	Messages        int     `json:"messages"`
	Bulk            bool    `json:"bulk,omitempty"`
}

// MaxSeedConversations bounds one seed.
const MaxSeedConversations = 1_000_000

// Seed fills a workspace with demonstration data: an API-channel inbox,
// one contact per conversation and messages, so a newcomer's inbox, tests
// and benchmarks have something to show. Row by row it writes through the
// store like real traffic, events included; in bulk (see SeedMode) it
// hands the whole seed to the store's BulkLoader. Seeding the same
// workspace again adds a new inbox and new conversations.
func Seed(ctx context.Context, s Seeder, workspaceID int64, opts SeedOptions) (SeedResult, error) {
	if opts.Conversations == 0 {
		opts.Conversations = 10
	}
	if opts.Messages == 0 {
		opts.Messages = 3
	}
	if opts.Conversations < 0 || opts.Conversations > MaxSeedConversations || opts.Messages < 0 || opts.Messages > 1000 {
		return SeedResult{}, fmt.Errorf("inbox: seed: want 1-%d conversations and 1-1000 messages each", MaxSeedConversations)
	}
	if opts.Mode < SeedAuto || opts.Mode > SeedBulk {
		return SeedResult{}, fmt.Errorf("inbox: seed: unknown mode %d", opts.Mode)
	}
	bl, canBulk := s.(store.BulkLoader)
	bulk := opts.Mode == SeedBulk || opts.Mode == SeedAuto && canBulk && opts.Conversations*opts.Messages >= BulkSeedThreshold
	if bulk && !canBulk {
		return SeedResult{}, errors.New("inbox: seed: this store cannot bulk-load")
	}
	if _, err := s.Workspace(ctx, workspaceID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return SeedResult{}, fmt.Errorf("inbox: seed: no workspace %d", workspaceID)
		}
		return SeedResult{}, fmt.Errorf("inbox: seed: %w", err)
	}
	if bulk {
		res, err := bl.BulkLoad(ctx, workspaceID, store.BulkSpec{
			Conversations: opts.Conversations, MessagesPerConversation: opts.Messages,
			InboxName: "Demo website",
		}, opts.Progress)
		if err != nil {
			return SeedResult{}, fmt.Errorf("inbox: seed: %w", err)
		}
		return SeedResult{InboxID: res.InboxID, Conversations: res.Conversations, Messages: res.Messages, Bulk: true}, nil
	}
	in, err := s.CreateInbox(ctx, workspaceID, store.NewInbox{Kind: store.InboxAPI, Name: "Demo website"})
	if err != nil {
		return SeedResult{}, fmt.Errorf("inbox: seed: %w", err)
	}
	res := SeedResult{InboxID: in.ID}
	for i := range opts.Conversations {
		external := fmt.Sprintf("seed-%d-%d", in.ID, i)
		contact, _, err := s.UpsertContact(ctx, workspaceID, store.Identity{Channel: "inbox:" + fmt.Sprint(in.ID), ExternalID: external},
			store.NewContact{Name: fmt.Sprintf("Demo customer %d", i+1)})
		if err != nil {
			return res, fmt.Errorf("inbox: seed: %w", err)
		}
		conv, _, err := s.CreateConversation(ctx, workspaceID, store.NewConversation{InboxID: in.ID, ContactID: contact.ID})
		if err != nil {
			return res, fmt.Errorf("inbox: seed: %w", err)
		}
		res.ConversationIDs = append(res.ConversationIDs, conv.ID)
		res.Conversations++
		for j := range opts.Messages {
			_, err := s.CreateMessage(ctx, workspaceID, store.NewMessage{
				ConversationID: conv.ID, Direction: store.DirectionIn,
				Body:              fmt.Sprintf("Hello, this is demo message %d about order #%d.", j+1, 1000+i),
				ProviderMessageID: fmt.Sprintf("%s-m%d", external, j),
			})
			if err != nil {
				return res, fmt.Errorf("inbox: seed: %w", err)
			}
			res.Messages++
		}
		if opts.Progress != nil {
			opts.Progress(i+1, opts.Conversations)
		}
	}
	return res, nil
}
