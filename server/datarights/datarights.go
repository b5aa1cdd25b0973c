// Package datarights owns erasure: the worker that carries out durable
// requests to erase contacts (store.ErasureStore), and Meta's
// data-deletion callback with its public status page (meta.go).
//
// A request is recorded pending first (POST /api/v1/contacts/{id}/erase
// by an owner or admin, or a verified Meta signed_request), so it
// survives a restart; the worker then erases each of its contacts:
//
//  1. the contact's running and queued AI drafts are canceled;
//  2. the blobs of its stored media are deleted from the blob store, so
//     no blob outlives the rows that name it even if the process stops
//     in the middle;
//  3. its conversations are deleted in bounded transactions
//     (Options.Batch a step, store.ErasureStore.EraseContactStep), each
//     redacting their event-log payloads in place and appending
//     conversation.deleted; the last step deletes the contact itself
//     (identities, consent records, AI opt-out, the dead letters whose
//     payload names it) and appends contact.deleted. Blobs that a
//     download stored meanwhile are returned by the steps and deleted
//     too;
//  4. the drafts service's cached knowledge index of the workspace,
//     which holds past replies read from the contact's conversations, is
//     dropped.
//
// Erasing is idempotent (a contact already gone is done), so a failed
// attempt is simply retried, up to Options.MaxAttempts, after which the
// request is failed with the error. Completing a request records the
// audit entry contact.erased with the request's ids and counts only.
package datarights

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// Defaults of Options.
const (
	DefaultBatch       = 100
	DefaultInterval    = time.Minute
	DefaultMaxAttempts = 5
)

// Store is what erasure needs from storage.
type Store interface {
	store.ErasureStore
}

// Blobs is the media blob store as erasure uses it (server/media.Blobs).
type Blobs interface {
	// Delete removes a blob; a missing one is no error.
	Delete(ctx context.Context, key string) error
}

// Drafts is the AI drafts service as erasure uses it
// (server/drafts.Service).
type Drafts interface {
	// CancelContact stops the contact's running and queued drafts.
	CancelContact(workspaceID, contactID int64)
	// ForgetIndex drops the workspace's cached knowledge index.
	ForgetIndex(workspaceID int64)
}

// Options configures a Service.
type Options struct {
	// Store and Blobs are required.
	Store Store
	Blobs Blobs
	// Drafts, when set, has its drafts canceled and its index dropped.
	Drafts Drafts
	// Logger receives each request's outcome; nil discards it. Nothing
	// personal is logged: ids and counts.
	Logger *slog.Logger
	// OnCommit, when set, is called with the workspace after each step
	// that appended events (the inbox relay's Notify).
	OnCommit func(workspaceID int64)
	// Batch bounds the conversations deleted per transaction;
	// DefaultBatch when zero.
	Batch int
	// Interval is how often Run looks for pending requests besides being
	// woken by Request; DefaultInterval when zero.
	Interval time.Duration
	// MaxAttempts is how many times a request is tried before it is
	// failed; DefaultMaxAttempts when zero.
	MaxAttempts int
	// Leader, when set, reports whether this replica runs requests: in a
	// cluster only the leader does. Nil: always.
	Leader func() bool
}

// Service records erasure requests and carries them out.
type Service struct {
	opts Options
	log  *slog.Logger
	wake chan struct{}
}

// New returns a service; call Run to start its worker.
func New(opts Options) *Service {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, log: log, wake: make(chan struct{}, 1)}
}

// RequestErasure records a pending request to erase one contact of the
// workspace on by's behalf and wakes the worker. An unknown contact is
// store.ErrNotFound.
func (s *Service) RequestErasure(ctx context.Context, workspaceID, contactID int64, by store.Actor) (store.ErasureRequest, error) {
	return s.request(ctx, workspaceID, store.NewErasureRequest{Source: store.ErasureByAgent, ContactIDs: []int64{contactID}, By: by})
}

// request records r and wakes the worker.
func (s *Service) request(ctx context.Context, workspaceID int64, r store.NewErasureRequest) (store.ErasureRequest, error) {
	req, err := s.opts.Store.CreateErasureRequest(ctx, workspaceID, r)
	if err != nil {
		return store.ErasureRequest{}, err
	}
	// Stop drafts at once rather than when the worker gets there: a
	// draft must not be sent to someone being erased.
	if s.opts.Drafts != nil {
		for _, id := range req.ContactIDs {
			s.opts.Drafts.CancelContact(workspaceID, id)
		}
	}
	s.log.InfoContext(ctx, "datarights: erasure requested", slog.Int64("workspace", workspaceID),
		slog.Int64("request", req.ID), slog.String("source", string(req.Source)), slog.Int("contacts", len(req.ContactIDs)))
	s.Notify()
	return req, nil
}

// Notify wakes the worker; it never blocks.
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run carries out pending requests at start, whenever Notify is called
// and every Interval, while this replica is the leader, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		if s.opts.Leader == nil || s.opts.Leader() {
			s.RunPending(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// maxPendingPerPass bounds the requests one RunPending reads at once; it
// reads again until none is left.
const maxPendingPerPass = 20

// RunPending carries out every pending request now, oldest first. A
// request that fails is recorded with its error (and retried by a later
// pass, until MaxAttempts); RunPending goes on with the next.
func (s *Service) RunPending(ctx context.Context) {
	tried := map[int64]bool{}
	for ctx.Err() == nil {
		reqs, err := s.opts.Store.PendingErasureRequests(ctx, maxPendingPerPass)
		if err != nil {
			if ctx.Err() == nil {
				s.log.ErrorContext(ctx, "datarights: list pending erasures", slog.Any("err", err))
			}
			return
		}
		progressed := false
		for _, r := range reqs {
			if tried[r.ID] {
				continue
			}
			tried[r.ID] = true
			progressed = true
			s.Process(ctx, r)
		}
		if !progressed {
			return
		}
	}
}

// Process carries out one pending request and records its outcome.
func (s *Service) Process(ctx context.Context, r store.ErasureRequest) store.ErasureRequest {
	log := s.log.With(slog.Int64("workspace", r.WorkspaceID), slog.Int64("request", r.ID))
	counts := r.Counts
	err := s.erase(ctx, r, &counts)
	if ctx.Err() != nil {
		// Shutting down: the request stays pending for the next start.
		return r
	}
	u := store.ErasureUpdate{Status: store.ErasureCompleted, Counts: counts, Attempts: r.Attempts + 1}
	if err != nil {
		u.Status, u.Error = store.ErasurePending, err.Error()
		if u.Attempts >= s.opts.MaxAttempts {
			u.Status = store.ErasureFailed
		}
		log.ErrorContext(ctx, "datarights: erasure attempt failed", slog.Int("attempt", u.Attempts),
			slog.String("status", string(u.Status)), slog.Any("err", err))
	}
	// Recording the outcome must not be lost to a canceled request
	// context: the rows are gone already.
	out, uerr := s.opts.Store.UpdateErasureRequest(context.WithoutCancel(ctx), r.WorkspaceID, r.ID, u)
	if uerr != nil {
		log.ErrorContext(ctx, "datarights: record erasure outcome", slog.Any("err", uerr))
		return r
	}
	if out.Status == store.ErasureCompleted {
		log.InfoContext(ctx, "datarights: contacts erased", slog.Int64("contacts", counts.Contacts),
			slog.Int64("conversations", counts.Conversations), slog.Int64("messages", counts.Messages),
			slog.Int64("media", counts.Media), slog.Int64("events", counts.Events), slog.Int64("dead_letters", counts.DeadLetters))
	}
	return out
}

// erase erases every contact of r, adding what it deleted to counts.
func (s *Service) erase(ctx context.Context, r store.ErasureRequest, counts *store.ErasureCounts) error {
	for _, id := range r.ContactIDs {
		if err := s.eraseContact(ctx, r.WorkspaceID, id, counts); err != nil {
			return fmt.Errorf("contact %d: %w", id, err)
		}
	}
	if s.opts.Drafts != nil {
		s.opts.Drafts.ForgetIndex(r.WorkspaceID)
	}
	return nil
}

func (s *Service) eraseContact(ctx context.Context, workspaceID, contactID int64, counts *store.ErasureCounts) error {
	if s.opts.Drafts != nil {
		s.opts.Drafts.CancelContact(workspaceID, contactID)
	}
	keys, err := s.opts.Store.ContactBlobKeys(ctx, workspaceID, contactID)
	if err != nil {
		return err
	}
	if err := s.deleteBlobs(ctx, keys); err != nil {
		return err
	}
	for {
		step, err := s.opts.Store.EraseContactStep(ctx, workspaceID, contactID, s.opts.Batch)
		if errors.Is(err, store.ErrNotFound) {
			return nil // gone: erased by an earlier attempt, or never there
		}
		if err != nil {
			return err
		}
		counts.Add(step.ErasureCounts)
		if s.opts.OnCommit != nil {
			s.opts.OnCommit(workspaceID)
		}
		// Blobs a download stored after the first pass. The rows are
		// gone: carry on even once ctx ends.
		if err := s.deleteBlobs(context.WithoutCancel(ctx), step.BlobKeys); err != nil {
			// No row names these blobs any more: a retry cannot find
			// them, so they are logged for an operator to delete.
			s.log.ErrorContext(ctx, "datarights: blobs left behind by an erased conversation", slog.Int64("workspace", workspaceID),
				slog.Any("blobs", step.BlobKeys), slog.Any("err", err))
			return err
		}
		if step.Done {
			return nil
		}
	}
}

func (s *Service) deleteBlobs(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if err := s.opts.Blobs.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete media blob: %w", err)
		}
	}
	return nil
}
