package ai

import (
	"context"
	"time"
)

// Event names for a draft's life on a conversation's channel.
const (
	EventDelta     = "draft.delta"
	EventCompleted = "draft.completed"
	EventFailed    = "draft.failed"
)

// DeltaEvent is the payload of draft.delta: the next piece of the draft.
// Seq counts from 1 per draft, so a client can tell a missed piece.
type DeltaEvent struct {
	DraftID string `json:"draft_id"`
	Seq     int    `json:"seq"`
	Text    string `json:"text"`
}

// CompletedEvent is the payload of draft.completed. Draft.Text is the whole
// draft, which replaces whatever the deltas built.
type CompletedEvent struct {
	DraftID string `json:"draft_id"`
	Draft
}

// FailedEvent is the payload of draft.failed. Text from earlier deltas is
// to be discarded.
type FailedEvent struct {
	DraftID string `json:"draft_id"`
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
}

// RunOptions configure Run.
type RunOptions struct {
	// DraftID identifies the draft in every event.
	DraftID string
	// Interval is the delta coalescing interval (DefaultCoalesceInterval).
	Interval time.Duration
	// Publish sends one event; data is a DeltaEvent, CompletedEvent or
	// FailedEvent. It is called from one goroutine at a time, in order, and
	// must not block for long.
	Publish func(event string, data any)
}

// Run drives one suggestion: deltas coalesced into draft.delta events, then
// exactly one draft.completed or draft.failed. It returns what Suggest
// returned. Run blocks until the suggestion ends (bounded by the
// suggester's timeouts and ctx), so callers run it in a goroutine they own,
// with a ctx canceled when the agent sends, the conversation closes or the
// server shuts down.
func Run(ctx context.Context, s Suggester, in Input, opt RunOptions) (Draft, error) {
	seq := 0
	c := NewCoalescer(opt.Interval, func(text string) {
		seq++
		opt.Publish(EventDelta, DeltaEvent{DraftID: opt.DraftID, Seq: seq, Text: text})
	})
	d, err := s.Suggest(ctx, in, c.Add)
	c.Close()
	if err != nil {
		f := asFailure(err)
		opt.Publish(EventFailed, FailedEvent{DraftID: opt.DraftID, Reason: f.Reason, Message: f.Message})
		return Draft{}, f
	}
	opt.Publish(EventCompleted, CompletedEvent{DraftID: opt.DraftID, Draft: d})
	return d, nil
}
