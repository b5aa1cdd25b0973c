package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"mime"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Store is what the Downloader needs of storage.
type Store interface {
	Inbox(ctx context.Context, workspaceID, inboxID int64) (store.Inbox, error)
	ClaimMedia(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.MediaJob, error)
	MarkMediaStored(ctx context.Context, j store.MediaJob, b store.StoredBlob) (store.Message, store.Event, error)
	RetryMedia(ctx context.Context, j store.MediaJob, next time.Time, errText string) error
	FailMedia(ctx context.Context, j store.MediaJob, errText string) (store.Message, store.Event, error)
}

// Defaults of Options left zero.
const (
	DefaultInterval     = 5 * time.Second
	DefaultFetchTimeout = 5 * time.Minute
	DefaultConcurrency  = 2
	DefaultMaxAttempts  = 8
	DefaultBaseBackoff  = 10 * time.Second
	DefaultMaxBackoff   = 30 * time.Minute
)

// Options configure a Downloader.
type Options struct {
	Store Store
	Blobs Blobs
	// Fetchers maps a provider (store.Media.Provider) to its fetcher; an
	// item of a provider without one fails.
	Fetchers map[string]Fetcher
	Logger   *slog.Logger
	// OnCommit is told the workspace after an outcome was recorded, so
	// message.updated goes live at once (inbox.Relay.Notify).
	OnCommit func(workspaceID int64)
	// MaxBytes bounds one item; DefaultMaxBytes when zero. A longer one
	// fails with ErrTooLarge.
	MaxBytes int64
	// Interval is how often the queue is polled when no Notify comes.
	Interval time.Duration
	// FetchTimeout bounds one download, from the first request to the
	// last byte stored.
	FetchTimeout time.Duration
	// Lease is how long a claim hides an item from other downloaders;
	// FetchTimeout plus a minute when zero. The item of a downloader that
	// died is downloaded again once its lease ends.
	Lease time.Duration
	// Concurrency is how many items download at once.
	Concurrency int
	// MaxAttempts bounds the attempts of an item that keeps failing
	// transiently; it then fails with the last error.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the wait before attempt n+1:
	// BaseBackoff·2^(n-1) capped at MaxBackoff, of which a random half is
	// jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// Downloader downloads pending media into the blob store; see the
// package comment.
type Downloader struct {
	opts Options
	log  *slog.Logger
	wake chan struct{}
}

// NewDownloader returns a Downloader; Run starts it.
func NewDownloader(opts Options) *Downloader {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.Lease <= 0 {
		opts.Lease = opts.FetchTimeout + time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
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
	d := &Downloader{opts: opts, log: opts.Logger, wake: make(chan struct{}, 1)}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d
}

// Notify asks for the queue to be polled now rather than at the next
// interval, after an inbound message with media was stored. It never
// blocks.
func (d *Downloader) Notify(int64) {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run downloads until ctx ends. Downloads in flight are then abandoned
// and released for a later attempt (by this or another replica) before
// Run returns.
func (d *Downloader) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		d.Drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// Drain downloads due items, Concurrency at a time, until none is due or
// ctx ends.
func (d *Downloader) Drain(ctx context.Context) {
	for ctx.Err() == nil {
		js, err := d.opts.Store.ClaimMedia(ctx, store.Now(), d.opts.Lease, d.opts.Concurrency)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("media: claim", slog.Any("err", err))
			}
			return
		}
		if len(js) == 0 {
			return
		}
		var wg sync.WaitGroup
		for _, j := range js {
			wg.Go(func() { d.download(ctx, j) })
		}
		wg.Wait()
	}
}

// download fetches one claimed item and records the outcome. The outcome
// is written even once ctx has ended (an abandoned download is released
// for retry), so its writes do not use ctx's cancellation.
func (d *Downloader) download(ctx context.Context, j store.MediaJob) {
	md := j.Media
	log := d.log.With(slog.Int64("workspace", md.WorkspaceID), slog.Int64("message", md.MessageID),
		slog.Int64("media", md.ID), slog.String("provider", md.Provider), slog.Int("attempt", md.Attempts))
	wctx := context.WithoutCancel(ctx)
	blob, mime, err := d.fetch(ctx, j)
	switch {
	case err == nil:
		_, _, err := d.opts.Store.MarkMediaStored(wctx, j, store.StoredBlob{Key: blob.Key, Size: blob.Size, SHA256: blob.SHA256, MimeType: mime})
		if err != nil {
			log.Error("media: record stored", slog.Any("err", err))
			if derr := d.opts.Blobs.Delete(wctx, blob.Key); derr != nil {
				log.Error("media: delete unrecorded blob", slog.String("key", blob.Key), slog.Any("err", derr))
			}
			return
		}
		log.Info("media: stored", slog.Int64("size", blob.Size))
		d.opts.OnCommit(md.WorkspaceID)
		return
	case ctx.Err() != nil:
		// Shutting down: release the item at once for the next start or
		// another replica rather than leave it to its lease.
		if err := d.opts.Store.RetryMedia(wctx, j, store.Now(), "interrupted by shutdown"); err != nil {
			log.Error("media: release", slog.Any("err", err))
		}
		return
	case IsPermanent(err) || errors.Is(err, ErrTooLarge):
		log.Warn("media: download refused", slog.Any("err", err))
		d.fail(wctx, log, j, err.Error())
		return
	case md.Attempts >= d.opts.MaxAttempts:
		log.Warn("media: giving up", slog.Any("err", err))
		d.fail(wctx, log, j, err.Error())
		return
	}
	next := store.Now().Add(d.backoff(md.Attempts))
	log.Info("media: download failed, will retry", slog.Time("next_attempt_at", next), slog.Any("err", err))
	if err := d.opts.Store.RetryMedia(wctx, j, next, err.Error()); err != nil {
		// The claim's lease ends and the item is retried anyway.
		log.Error("media: schedule retry", slog.Any("err", err))
	}
}

// fetch downloads an item into the blob store and checks its digest.
func (d *Downloader) fetch(ctx context.Context, j store.MediaJob) (Blob, string, error) {
	md := j.Media
	f := d.opts.Fetchers[md.Provider]
	if f == nil {
		return Blob{}, "", Permanent(fmt.Errorf("no downloader for provider %q", md.Provider))
	}
	in, err := d.opts.Store.Inbox(ctx, md.WorkspaceID, md.InboxID)
	if err != nil {
		return Blob{}, "", fmt.Errorf("read inbox: %w", err)
	}
	fctx, cancel := context.WithTimeout(ctx, d.opts.FetchTimeout)
	defer cancel()
	dl, err := f.Fetch(fctx, in, md)
	if err != nil {
		return Blob{}, "", err
	}
	defer dl.Body.Close()
	if dl.Size > d.opts.MaxBytes {
		return Blob{}, "", fmt.Errorf("%w: %d bytes declared, the limit is %d", ErrTooLarge, dl.Size, d.opts.MaxBytes)
	}
	blob, err := d.opts.Blobs.Put(fctx, dl.Body, d.opts.MaxBytes)
	if errors.Is(err, ErrTooLarge) {
		return Blob{}, "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, d.opts.MaxBytes)
	}
	if err != nil {
		return Blob{}, "", fmt.Errorf("store blob: %w", err)
	}
	if err := checkDigest(blob.SHA256, dl.SHA256); err != nil {
		if derr := d.opts.Blobs.Delete(context.WithoutCancel(ctx), blob.Key); derr != nil {
			d.log.Error("media: delete mismatched blob", slog.String("key", blob.Key), slog.Any("err", derr))
		}
		return Blob{}, "", err
	}
	return blob, mediaType(dl.MimeType), nil
}

// mediaType is a content type without its parameters; "" when it is
// unusable or says nothing (octet-stream), keeping the webhook's.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt == "application/octet-stream" || len(mt) > store.MaxMediaNameBytes {
		return ""
	}
	return mt
}

func (d *Downloader) fail(ctx context.Context, log *slog.Logger, j store.MediaJob, errText string) {
	if _, _, err := d.opts.Store.FailMedia(ctx, j, errText); err != nil {
		log.Error("media: record failure", slog.Any("err", err))
		return
	}
	d.opts.OnCommit(j.Media.WorkspaceID)
}

// backoff is the wait after the attempt-th attempt failed:
// BaseBackoff·2^(attempt-1) capped at MaxBackoff, the upper half of it
// random so that a burst of failures does not retry in lockstep.
func (d *Downloader) backoff(attempt int) time.Duration {
	b := d.opts.BaseBackoff
	for i := 1; i < attempt && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opts.MaxBackoff)
	return b/2 + rand.N(b/2+1)
}
