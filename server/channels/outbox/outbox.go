// Package outbox drains the store's outbox: it claims queued outbound
// messages, hands each to the sender of its inbox's kind, and records the
// outcome — sent with the provider's message id, retried later with
// exponential backoff and jitter, or failed with the provider's error for
// the agent to see.
//
// Delivery is at least once. An entry is claimed under a lease before it
// is sent, and marked sent right after the provider's answer; if the
// process dies between the two (or cannot write the mark before the lease
// ends), the lease expires and the entry is sent again. Providers like
// WhatsApp take no idempotency key, so that window cannot be closed, only
// kept small: one send at a time per drainer, the mark written at once
// and retried briefly, and in-flight sends finished on shutdown rather
// than abandoned.
package outbox

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Store is what the drainer needs of storage.
type Store interface {
	ClaimOutbox(ctx context.Context, kinds []store.InboxKind, now time.Time, lease time.Duration, limit int) ([]store.OutboxEntry, error)
	MarkOutboxSent(ctx context.Context, e store.OutboxEntry, providerMessageID string) (store.Message, store.Event, error)
	RetryOutbox(ctx context.Context, e store.OutboxEntry, next time.Time, errText string) error
	FailOutbox(ctx context.Context, e store.OutboxEntry, errText string) (store.Message, store.Event, error)
}

// Sender sends a message over one kind of channel and returns the
// provider's id for it ("" when the provider gave none). An error whose
// chain holds a Permanent() bool method answering true fails the message
// at once; any other error is retried.
type Sender interface {
	Send(ctx context.Context, m store.Message) (providerMessageID string, err error)
}

// Defaults of Options left zero.
const (
	DefaultInterval    = 5 * time.Second
	DefaultSendTimeout = 30 * time.Second
	DefaultMaxAttempts = 8
	DefaultBaseBackoff = 5 * time.Second
	DefaultMaxBackoff  = 10 * time.Minute
)

// Options configure a Drainer.
type Options struct {
	Store Store
	// Senders maps an inbox kind to its sender; entries of other kinds
	// are left in the outbox untouched.
	Senders map[store.InboxKind]Sender
	Logger  *slog.Logger
	// OnCommit is told the workspace after an outcome was recorded, so
	// message.updated goes live at once (inbox.Relay.Notify).
	OnCommit func(workspaceID int64)
	// Interval is how often the outbox is polled when no Notify comes:
	// retries fall due, other replicas' entries, leases expiring.
	Interval time.Duration
	// SendTimeout bounds one send; in-flight sends are finished within
	// it on shutdown, so keep it under the shutdown timeout.
	SendTimeout time.Duration
	// Lease is how long a claim hides an entry from other drainers;
	// SendTimeout plus 30s when zero. An entry whose drainer died is sent
	// again once its lease ends.
	Lease time.Duration
	// MaxAttempts bounds the attempts of a send that keeps failing
	// transiently; the message then fails with the last error.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the wait before attempt n+1:
	// BaseBackoff·2^(n-1) capped at MaxBackoff, of which a random half is
	// jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// Drainer drains the outbox; see the package comment.
type Drainer struct {
	opts  Options
	log   *slog.Logger
	kinds []store.InboxKind
	wake  chan struct{}
}

// New returns a Drainer; Run starts it.
func New(opts Options) *Drainer {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	if opts.Lease <= 0 {
		opts.Lease = opts.SendTimeout + 30*time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = DefaultBaseBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.OnCommit == nil {
		opts.OnCommit = func(int64) {}
	}
	d := &Drainer{opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	for k := range opts.Senders {
		d.kinds = append(d.kinds, k)
	}
	slices.Sort(d.kinds)
	return d
}

// Notify asks for the outbox to be drained now rather than at the next
// interval, after an outbound message was queued. It never blocks; the
// workspace is not needed, as the outbox is drained across workspaces.
func (d *Drainer) Notify(int64) {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run drains until ctx ends. Once it has, nothing new is claimed; a send
// in flight is finished (bounded by SendTimeout) and its outcome recorded
// before Run returns.
func (d *Drainer) Run(ctx context.Context) {
	if len(d.kinds) == 0 {
		return
	}
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		d.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// drain sends due entries one at a time until none is due or ctx ends.
// One at a time keeps a conversation's replies in order on a replica and
// the at-least-once window to a single send.
func (d *Drainer) drain(ctx context.Context) {
	for ctx.Err() == nil {
		es, err := d.opts.Store.ClaimOutbox(ctx, d.kinds, store.Now(), d.opts.Lease, 1)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("outbox: claim", slog.Any("err", err))
			}
			return
		}
		if len(es) == 0 {
			return
		}
		// The send and its outcome outlive ctx: cancelling mid-send
		// would leave a message that may have gone out recorded as not
		// sent, to be sent again.
		d.deliver(context.WithoutCancel(ctx), es[0])
	}
}

func (d *Drainer) deliver(ctx context.Context, e store.OutboxEntry) {
	log := d.log.With(slog.Int64("workspace", e.WorkspaceID), slog.Int64("conversation", e.Message.ConversationID),
		slog.Int64("message", e.Message.ID), slog.Int("attempt", e.Attempts))
	sender := d.opts.Senders[e.InboxKind] // claimed by kind: never nil
	sctx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
	providerID, err := sender.Send(sctx, e.Message)
	cancel()
	switch {
	case err == nil:
		d.markSent(ctx, log, e, providerID)
		return
	case isPermanent(err):
		log.Warn("outbox: send refused", slog.Any("err", err))
		d.fail(ctx, log, e, err.Error())
		return
	case e.Attempts >= d.opts.MaxAttempts:
		log.Warn("outbox: giving up", slog.Any("err", err))
		d.fail(ctx, log, e, err.Error())
		return
	}
	next := store.Now().Add(d.backoff(e.Attempts))
	log.Info("outbox: send failed, will retry", slog.Time("next_attempt_at", next), slog.Any("err", err))
	if err := d.opts.Store.RetryOutbox(ctx, e, next, err.Error()); err != nil {
		// The claim's lease ends and the entry is retried anyway.
		log.Error("outbox: schedule retry", slog.Any("err", err))
	}
}

// markSent records a send that went out. A failure to write it is retried
// briefly: each write that is lost becomes a duplicate send once the
// lease ends.
func (d *Drainer) markSent(ctx context.Context, log *slog.Logger, e store.OutboxEntry, providerID string) {
	var err error
	for i := range 5 {
		if _, _, err = d.opts.Store.MarkOutboxSent(ctx, e, providerID); err == nil {
			d.opts.OnCommit(e.WorkspaceID)
			return
		}
		if errors.Is(err, store.ErrLeaseLost) {
			break
		}
		time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
	}
	log.Error("outbox: sent but not recorded; it may be sent again", slog.String("provider_message_id", providerID), slog.Any("err", err))
}

func (d *Drainer) fail(ctx context.Context, log *slog.Logger, e store.OutboxEntry, errText string) {
	if _, _, err := d.opts.Store.FailOutbox(ctx, e, errText); err != nil {
		log.Error("outbox: record failure", slog.Any("err", err))
		return
	}
	d.opts.OnCommit(e.WorkspaceID)
}

// backoff is the wait after the attempt-th attempt failed:
// BaseBackoff·2^(attempt-1) capped at MaxBackoff, the upper half of it
// random so that a burst of failures does not retry in lockstep.
func (d *Drainer) backoff(attempt int) time.Duration {
	b := d.opts.BaseBackoff
	for i := 1; i < attempt && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opts.MaxBackoff)
	return b/2 + rand.N(b/2+1)
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
