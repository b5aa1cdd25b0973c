// Package retention owns data retention: the job that deletes, for each
// workspace, what its retention settings (store.RetentionSettings) expire.
//
// What goes, in this order, each kind in bounded batches (Options.Batch
// rows per transaction, Options.Pause between batches):
//
//   - conversations whose last activity is older than the message
//     retention, whole: the conversation row with its messages (and their
//     search index entries), mentions, outbox entries, labels, read marks
//     and media rows. Each appends conversation.deleted, so live clients
//     drop it. The stored blobs of the deleted media are deleted from the
//     blob store after the transaction commits;
//   - media items older than the media retention: the blob first, then
//     the row. The message stays, without the item, and message.updated
//     tells live clients;
//   - events older than the event retention, from the front of the log:
//     clients that catch up from behind them get 410 events_gone and
//     reload.
//
// A blob whose row is deleted with its conversation but whose deletion
// from the blob store then fails (or the process stops in between) is
// left behind, and logged with its key at error level: the row that named
// it is gone, so no later run finds it. A media blob that fails to delete
// keeps its row, and the next run tries again.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Defaults of Options.
const (
	DefaultInterval = time.Hour
	DefaultBatch    = 500
	DefaultPause    = 100 * time.Millisecond
)

// Blobs is the blob store as retention uses it (server/media.Blobs).
type Blobs interface {
	// Delete removes a blob; a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Options configures a Job.
type Options struct {
	// Store is required.
	Store store.RetentionStore
	// Blobs is the blob store media blobs are deleted from; required.
	Blobs Blobs
	// Logger receives what each run deleted and its failures; nil
	// discards them.
	Logger *slog.Logger
	// Metrics counts what runs delete; nil counts nothing.
	Metrics *Metrics
	// Interval is how often Run sweeps every workspace; DefaultInterval
	// when zero.
	Interval time.Duration
	// Batch bounds the rows of one kind deleted per transaction;
	// DefaultBatch when zero.
	Batch int
	// Pause is the rest between two batches, which lets other writers
	// in; DefaultPause when zero.
	Pause time.Duration
	// Leader, when set, reports whether this replica sweeps: in a
	// cluster only the leader does. Nil: always.
	Leader func() bool
	// OnCommit, when set, is called with the workspace after a batch
	// appended events (the inbox relay's Notify), so they are published
	// at once.
	OnCommit func(workspaceID int64)
	// Now is the clock; store.Now when nil.
	Now func() time.Time
}

// Job deletes what retention settings expire.
type Job struct {
	opts Options
	log  *slog.Logger
}

// Metrics are the job's Prometheus collectors:
// switchboard_retention_deleted_total{kind}, kind one of conversations,
// messages, media, events.
type Metrics struct {
	deleted *prometheus.CounterVec
}

// NewMetrics builds the collectors and registers them with reg (none if
// reg is nil). A counter already registered on reg by an earlier call is
// shared.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	deleted := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_retention_deleted_total",
		Help: "Rows deleted by data retention, by kind (conversations, messages, media, events).",
	}, []string{"kind"})
	if reg == nil {
		return &Metrics{deleted: deleted}, nil
	}
	if err := reg.Register(deleted); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return nil, fmt.Errorf("retention: metrics: %w", err)
		}
		existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, fmt.Errorf("retention: metrics: %w", err)
		}
		deleted = existing
	}
	return &Metrics{deleted: deleted}, nil
}

// add counts n.
func (m *Metrics) add(n store.RetentionCounts) {
	if m == nil {
		return
	}
	m.deleted.WithLabelValues("conversations").Add(float64(n.Conversations))
	m.deleted.WithLabelValues("messages").Add(float64(n.Messages))
	m.deleted.WithLabelValues("media").Add(float64(n.Media))
	m.deleted.WithLabelValues("events").Add(float64(n.Events))
}

// New returns a job.
func New(opts Options) *Job {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Pause <= 0 {
		opts.Pause = DefaultPause
	}
	if opts.Now == nil {
		opts.Now = store.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Job{opts: opts, log: log}
}

// Run sweeps every workspace at start and then every Interval, while
// this replica is the leader, until ctx ends.
func (j *Job) Run(ctx context.Context) {
	t := time.NewTicker(j.opts.Interval)
	defer t.Stop()
	for {
		if j.opts.Leader == nil || j.opts.Leader() {
			j.Sweep(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep runs retention for every workspace once. A workspace that fails
// is logged and the sweep goes on with the next.
func (j *Job) Sweep(ctx context.Context) {
	ids, err := j.opts.Store.RetentionWorkspaceIDs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			j.log.ErrorContext(ctx, "retention: list workspaces", slog.Any("err", err))
		}
		return
	}
	for _, id := range ids {
		n, err := j.RunWorkspace(ctx, id, false)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			j.log.ErrorContext(ctx, "retention: run", slog.Int64("workspace", id), slog.Any("err", err))
		}
		if n != (store.RetentionCounts{}) {
			j.log.InfoContext(ctx, "retention: deleted", slog.Int64("workspace", id),
				slog.Int64("conversations", n.Conversations), slog.Int64("messages", n.Messages),
				slog.Int64("media", n.Media), slog.Int64("events", n.Events))
		}
	}
}

// RunWorkspace runs retention for one workspace now and returns what it
// deleted; with dryRun it deletes nothing and returns what it would
// delete. On an error the counts are what was deleted before it.
func (j *Job) RunWorkspace(ctx context.Context, workspaceID int64, dryRun bool) (store.RetentionCounts, error) {
	settings, err := j.opts.Store.RetentionSettings(ctx, workspaceID)
	if err != nil {
		return store.RetentionCounts{}, err
	}
	cut := settings.Cutoffs(j.opts.Now())
	if dryRun {
		return j.opts.Store.CountExpired(ctx, workspaceID, cut)
	}
	var total store.RetentionCounts
	err = j.conversations(ctx, workspaceID, cut.Conversations, &total)
	if err == nil {
		err = j.media(ctx, workspaceID, cut.Media, &total)
	}
	if err == nil {
		err = j.events(ctx, workspaceID, cut.Events, &total)
	}
	if err != nil {
		return total, fmt.Errorf("retention: workspace %d: %w", workspaceID, err)
	}
	return total, nil
}

// conversations deletes expired conversations, batch by batch, and then
// their blobs.
func (j *Job) conversations(ctx context.Context, workspaceID int64, before time.Time, total *store.RetentionCounts) error {
	for {
		del, err := j.opts.Store.DeleteExpiredConversations(ctx, workspaceID, before, j.opts.Batch)
		if err != nil {
			return err
		}
		j.count(total, store.RetentionCounts{Conversations: del.Conversations, Messages: del.Messages, Media: del.Media})
		for _, key := range del.BlobKeys {
			// The rows are gone: carry on even once ctx ends, so the
			// blobs they named do not outlive them.
			if err := j.opts.Blobs.Delete(context.WithoutCancel(ctx), key); err != nil {
				j.log.ErrorContext(ctx, "retention: blob left behind by a deleted conversation",
					slog.Int64("workspace", workspaceID), slog.String("blob", key), slog.Any("err", err))
			}
		}
		if del.Conversations > 0 {
			j.committed(workspaceID)
		}
		if del.Conversations < int64(j.opts.Batch) {
			return nil
		}
		if err := j.pause(ctx); err != nil {
			return err
		}
	}
}

// media deletes expired media items: each blob first, then the rows.
func (j *Job) media(ctx context.Context, workspaceID int64, before time.Time, total *store.RetentionCounts) error {
	for {
		items, err := j.opts.Store.ExpiredMedia(ctx, workspaceID, before, j.opts.Batch)
		if err != nil || len(items) == 0 {
			return err
		}
		ids := make([]int64, 0, len(items))
		for _, md := range items {
			if md.BlobKey != "" {
				if err := j.opts.Blobs.Delete(ctx, md.BlobKey); err != nil {
					return fmt.Errorf("delete blob of media %d: %w", md.ID, err)
				}
			}
			ids = append(ids, md.ID)
		}
		n, err := j.opts.Store.DeleteMedia(ctx, workspaceID, ids)
		if err != nil {
			return err
		}
		j.count(total, store.RetentionCounts{Media: n})
		if n > 0 {
			j.committed(workspaceID)
		}
		if len(items) < j.opts.Batch {
			return nil
		}
		if err := j.pause(ctx); err != nil {
			return err
		}
	}
}

// events deletes the expired front of the event log.
func (j *Job) events(ctx context.Context, workspaceID int64, before time.Time, total *store.RetentionCounts) error {
	for {
		n, err := j.opts.Store.DeleteExpiredEvents(ctx, workspaceID, before, j.opts.Batch)
		if err != nil {
			return err
		}
		j.count(total, store.RetentionCounts{Events: n})
		if n < int64(j.opts.Batch) {
			return nil
		}
		if err := j.pause(ctx); err != nil {
			return err
		}
	}
}

// count adds n to the run's total and to the counters.
func (j *Job) count(total *store.RetentionCounts, n store.RetentionCounts) {
	total.Add(n)
	j.opts.Metrics.add(n)
}

func (j *Job) committed(workspaceID int64) {
	if j.opts.OnCommit != nil {
		j.opts.OnCommit(workspaceID)
	}
}

// pause rests between batches, or returns ctx's error once it ends.
func (j *Job) pause(ctx context.Context) error {
	t := time.NewTimer(j.opts.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
