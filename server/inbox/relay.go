package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// WorkspaceChannel is the private channel on which every change of a
// workspace is published, each event carrying its sequence number.
func WorkspaceChannel(workspaceID int64) string {
	return "private-workspace-" + strconv.FormatInt(workspaceID, 10)
}

// AgentChannel is the private channel of one agent of a workspace (of its
// Pusher app). The relay publishes on it only what concerns that agent:
// EventConversationAssigned and EventNoteMentioned.
func AgentChannel(agentID int64) string {
	return "private-agent-" + strconv.FormatInt(agentID, 10)
}

// The events the relay derives from the log for agent channels. Each is
// the log event it comes from, with the same seq and payload, renamed:
// seqs on an agent channel increase but have gaps, since most of the log
// is not for that agent.
const (
	// EventConversationAssigned tells an agent a conversation was assigned
	// to them: from a conversation.updated whose payload's Changed holds
	// assignee_id, or a conversation.created with an assignee.
	EventConversationAssigned = "conversation.assigned"
	// EventNoteMentioned tells each agent @mentioned in a note
	// (store.Message.Mentions) about it: from a note.created.
	EventNoteMentioned = "note.mentioned"
)

// EventLog is what the relay reads from the store and marks in it.
type EventLog interface {
	Workspace(ctx context.Context, id int64) (store.Workspace, error)
	EventsAfter(ctx context.Context, workspaceID, after int64, limit int) (store.EventPage, error)
	PublishedSeq(ctx context.Context, workspaceID int64) (int64, error)
	MarkPublished(ctx context.Context, workspaceID, seq int64) error
	UnpublishedWorkspaces(ctx context.Context) ([]int64, error)
}

// Publisher is the hub, as the relay uses it.
type Publisher interface {
	Publish(ctx context.Context, app *hub.App, ev hub.Event) error
}

// RelayOptions configure a Relay.
type RelayOptions struct {
	Logger *slog.Logger
	// Interval is how often every workspace is checked for unpublished
	// events, whether or not anyone called Notify. Default 500 ms.
	Interval time.Duration
	// Leader, when set, reports whether this replica runs that periodic
	// check: in a cluster only the leader sweeps, while every replica
	// still publishes what it is notified of at once. Nil: always.
	Leader func() bool
	// OnEvents, when set, is called with each batch of a workspace's
	// events once it is published and marked, in order, from the relay's
	// goroutine: it must not block (server/drafts starts drafts from it).
	OnEvents func(workspaceID int64, events []store.Event)
}

// relayPage is how many events the relay reads per query.
const relayPage = 100

// Relay publishes each workspace's event log to the hub, after commit and
// in sequence order: every event on WorkspaceChannel, and right after it
// any agent events derived from it on AgentChannel. Its progress is a
// durable mark in the store (the workspace's published seq), so events
// committed just before a crash are published when the server comes back:
// delivery is at least once, and clients drop what they have seen by its
// seq. Events are never published for rolled-back changes, because only
// committed ones are in the log.
type Relay struct {
	log      *slog.Logger
	events   EventLog
	pub      Publisher
	interval time.Duration
	leader   func() bool
	onEvents func(workspaceID int64, events []store.Event)

	mu      sync.Mutex
	pending map[int64]struct{}
	wake    chan struct{}
}

// NewRelay returns a relay; call Run to start it.
func NewRelay(events EventLog, pub Publisher, opts RelayOptions) *Relay {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = 500 * time.Millisecond
	}
	return &Relay{
		log: opts.Logger, events: events, pub: pub, interval: opts.Interval, leader: opts.Leader, onEvents: opts.OnEvents,
		pending: make(map[int64]struct{}), wake: make(chan struct{}, 1),
	}
}

// Notify asks for the workspace's new events to be published now rather
// than at the next interval. It never blocks.
func (r *Relay) Notify(workspaceID int64) {
	r.mu.Lock()
	r.pending[workspaceID] = struct{}{}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends: notified workspaces at once, and every
// workspace with unpublished events each interval (which is also how
// events left over from a crash are found).
func (r *Relay) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	r.sweep(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sweep(ctx)
		case <-r.wake:
			r.mu.Lock()
			ids := make([]int64, 0, len(r.pending))
			for id := range r.pending {
				ids = append(ids, id)
			}
			clear(r.pending)
			r.mu.Unlock()
			for _, id := range ids {
				r.publish(ctx, id)
			}
		}
	}
}

func (r *Relay) sweep(ctx context.Context) {
	if r.leader != nil && !r.leader() {
		return
	}
	ids, err := r.events.UnpublishedWorkspaces(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("relay: list unpublished workspaces", slog.Any("err", err))
		}
		return
	}
	for _, id := range ids {
		r.publish(ctx, id)
	}
}

// publish sends the workspace's events after its mark and advances the
// mark. A failure is logged and retried at the next interval.
func (r *Relay) publish(ctx context.Context, workspaceID int64) {
	if err := r.publishErr(ctx, workspaceID); err != nil && ctx.Err() == nil {
		r.log.Warn("relay: publish events", slog.Int64("workspace", workspaceID), slog.Any("err", err))
	}
}

func (r *Relay) publishErr(ctx context.Context, workspaceID int64) error {
	ws, err := r.events.Workspace(ctx, workspaceID)
	if err != nil {
		return err
	}
	app := &hub.App{ID: ws.AppID}
	seq, err := r.events.PublishedSeq(ctx, workspaceID)
	if err != nil {
		return err
	}
	channels := []string{WorkspaceChannel(workspaceID)}
	for {
		page, err := r.events.EventsAfter(ctx, workspaceID, seq, relayPage)
		if errors.Is(err, store.ErrEventsGone) {
			// Retention pruned events before they were published (the
			// server was down longer than the log is kept): clients catch
			// up with a full refetch, as the events API tells them.
			r.log.Warn("relay: events pruned before publishing", slog.Int64("workspace", workspaceID),
				slog.Int64("from", seq+1), slog.Int64("to", page.OldestSeq-1))
			seq = page.OldestSeq - 1
			continue
		}
		if err != nil {
			return err
		}
		for _, ev := range page.Events {
			data, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event %d: %w", ev.Seq, err)
			}
			if err := r.pub.Publish(ctx, app, hub.Event{Name: ev.Kind, Channels: channels, Data: string(data)}); err != nil {
				return fmt.Errorf("publish event %d: %w", ev.Seq, err)
			}
			// The mark moves past ev only once its agent events are out
			// too, so a failure here republishes ev as well: still at
			// least once.
			if err := r.publishToAgents(ctx, app, ev); err != nil {
				return fmt.Errorf("publish agent events of %d: %w", ev.Seq, err)
			}
			seq = ev.Seq
		}
		if len(page.Events) > 0 {
			// Record what was sent even when ctx was cancelled meanwhile
			// (shutdown), so a graceful stop republishes nothing.
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := r.events.MarkPublished(mctx, workspaceID, seq)
			cancel()
			if err != nil {
				return err
			}
			if r.onEvents != nil {
				r.onEvents(workspaceID, page.Events)
			}
		}
		if !page.HasMore {
			return nil
		}
	}
}

// publishToAgents publishes the agent events derived from ev, if any.
func (r *Relay) publishToAgents(ctx context.Context, app *hub.App, ev store.Event) error {
	name, agents, err := agentEvent(ev)
	if err != nil {
		// A payload the relay cannot read is a bug in whatever wrote it,
		// and retrying will not fix it: skip the agent events rather than
		// stall the workspace's whole log behind it. The workspace
		// channel already carried ev.
		r.log.Error("relay: undecodable event payload", slog.Int64("workspace", ev.WorkspaceID),
			slog.Int64("seq", ev.Seq), slog.String("kind", ev.Kind), slog.Any("err", err))
		return nil
	}
	if len(agents) == 0 {
		return nil
	}
	channels := make([]string, len(agents))
	for i, id := range agents {
		channels[i] = AgentChannel(id)
	}
	ev.Kind = name
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	return r.pub.Publish(ctx, app, hub.Event{Name: name, Channels: channels, Data: string(data)})
}

// agentEvent returns the agent event ev gives rise to and the agents it
// is for, or no agents.
func agentEvent(ev store.Event) (name string, agents []int64, err error) {
	switch ev.Kind {
	case store.EventConversationCreated, store.EventConversationUpdated:
		var p store.ConversationPayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			return "", nil, err
		}
		assigned := p.Conversation.AssigneeID != 0 &&
			(ev.Kind == store.EventConversationCreated || slices.Contains(p.Changed, "assignee_id"))
		if assigned {
			return EventConversationAssigned, []int64{p.Conversation.AssigneeID}, nil
		}
	case store.EventNoteCreated:
		var p store.MessagePayload
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			return "", nil, err
		}
		return EventNoteMentioned, p.Message.Mentions, nil
	}
	return "", nil, nil
}
