package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
}

// relayPage is how many events the relay reads per query.
const relayPage = 100

// Relay publishes each workspace's event log to the hub, after commit and
// in sequence order. Its progress is a durable mark in the store (the
// workspace's published seq), so events committed just before a crash are
// published when the server comes back: delivery is at least once, and
// clients drop what they have seen by its seq. Events are never published
// for rolled-back changes, because only committed ones are in the log.
type Relay struct {
	log      *slog.Logger
	events   EventLog
	pub      Publisher
	interval time.Duration

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
		log: opts.Logger, events: events, pub: pub, interval: opts.Interval,
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
		}
		if !page.HasMore {
			return nil
		}
	}
}
