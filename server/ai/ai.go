// Package ai owns draft replies: suggesters that write a reply an agent can
// edit and send while the conversation is still on screen.
//
// A Suggester streams a draft through an emit callback and returns the
// finished Draft, or a *Failure saying in one machine word why there is none.
// Two implementations live here: OpenAI, for any OpenAI-compatible
// chat-completions endpoint (OpenAI, OpenRouter, Ollama, vLLM), and Offline,
// which needs no network and answers from a BM25 Index over the workspace's
// articles and past agent replies, citing its sources, or honestly not at all.
//
// Around them: BuildMessages assembles a bounded prompt (private notes never
// leave the server; Redact masks emails, phone numbers and card numbers),
// Coalescer batches deltas (about every 50 ms), Run turns one suggestion into
// draft.delta / draft.completed / draft.failed events, and Metrics counts
// tokens, first-delta latency and failures for Prometheus.
//
// The package knows no store, hub or HTTP route: callers hand it the
// conversation as Input and publish what it produces.
package ai

import (
	"context"
	"errors"
	"time"
)

// Suggester writes one draft reply. Suggest calls emit with consecutive
// pieces of the draft text as they become available, in order, from the
// calling goroutine; the pieces concatenated equal the returned Draft.Text.
// emit must not block for long (wrap it in a Coalescer). On failure the error
// is a *Failure (see ReasonOf), and text already emitted is to be discarded.
// Suggest returns promptly once ctx is done.
type Suggester interface {
	Suggest(ctx context.Context, in Input, emit func(delta string)) (Draft, error)
}

// The suggesters of this package.
var (
	_ Suggester = (*OpenAI)(nil)
	_ Suggester = (*Offline)(nil)
)

// Input is what a suggester may know about the conversation. Workspace and
// Conversation are identifiers for logs; nothing else in Input is logged.
type Input struct {
	Workspace    string
	Conversation string
	PromptInput
}

// SourceKind says what a Source is.
type SourceKind string

// Source kinds: a knowledge-base article (or FAQ entry), or a past agent
// reply from a resolved conversation.
const (
	KindArticle SourceKind = "article"
	KindReply   SourceKind = "reply"
)

// Source is a document a draft is grounded on, shown to the agent as a
// citation ("Source: <Title>").
type Source struct {
	Kind  SourceKind `json:"kind"`
	ID    string     `json:"id"`
	Title string     `json:"title"`
}

// Usage counts tokens as reported by the model endpoint; zero when the
// endpoint does not report them (the offline suggester never does).
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
}

// Draft is a finished suggestion.
type Draft struct {
	// Text is the whole draft, the concatenation of every emitted delta.
	Text string `json:"text"`
	// Sources are the documents the draft is grounded on, best first.
	Sources []Source `json:"sources,omitempty"`
	// Model names what wrote the draft: the endpoint's model, or "offline".
	Model string `json:"model"`
	Usage Usage  `json:"usage"`
	// FirstDelta is the time from the start of Suggest to the first emit.
	FirstDelta time.Duration `json:"-"`
	// Confidence is in [0, 1]: for the offline suggester, the weighted
	// share of the question's terms found in the best source; 0 for a model,
	// which gives no such figure.
	Confidence float64 `json:"confidence"`
	// FinishReason is the endpoint's finish_reason ("stop", "length", ...),
	// empty if it sent none.
	FinishReason string `json:"finish_reason,omitempty"`
}

// Reason is the machine word for why a suggestion failed; it is what
// draft.failed carries for clients to branch on.
type Reason string

// Failure reasons.
const (
	// ReasonTimeout: the whole suggestion took longer than its limit.
	ReasonTimeout Reason = "timeout"
	// ReasonStalled: the endpoint stopped sending chunks mid-stream.
	ReasonStalled Reason = "stalled"
	// ReasonUnavailable: the endpoint could not be reached or answered 5xx.
	ReasonUnavailable Reason = "unavailable"
	// ReasonRateLimited: the endpoint answered 429.
	ReasonRateLimited Reason = "rate_limited"
	// ReasonMisconfigured: the endpoint refused the key, model or URL
	// (400, 401, 403, 404, 422): an administrator must fix the settings.
	ReasonMisconfigured Reason = "misconfigured"
	// ReasonBadResponse: the endpoint answered something that is not a
	// chat-completions stream, or a draft over the size limit.
	ReasonBadResponse Reason = "bad_response"
	// ReasonNoSuggestion: nothing fits well enough to suggest.
	ReasonNoSuggestion Reason = "no_suggestion"
	// ReasonCanceled: the caller canceled (the agent sent, or left).
	ReasonCanceled Reason = "canceled"
)

// Failure is the error every Suggester returns: a Reason for machines, a
// short Message for people (safe to show an agent: no keys, no message
// bodies), and the underlying error, if any, for logs.
type Failure struct {
	Reason  Reason
	Message string
	Err     error
}

// Error returns "ai: <reason>: <message>".
func (f *Failure) Error() string {
	s := "ai: " + string(f.Reason)
	if f.Message != "" {
		s += ": " + f.Message
	}
	return s
}

// Unwrap returns the underlying error.
func (f *Failure) Unwrap() error { return f.Err }

// Is reports whether target is a *Failure with the same Reason, so
// errors.Is(err, ErrNoSuggestion) works whatever the message.
func (f *Failure) Is(target error) bool {
	t, ok := target.(*Failure)
	return ok && t.Reason == f.Reason
}

// ErrNoSuggestion matches, with errors.Is, any Failure with reason
// no_suggestion.
var ErrNoSuggestion = &Failure{Reason: ReasonNoSuggestion, Message: "nothing in the knowledge base fits this question"}

func fail(r Reason, msg string, err error) *Failure {
	return &Failure{Reason: r, Message: msg, Err: err}
}

// ReasonOf returns the Reason of err: its Failure's, canceled or timeout for
// the context errors, unavailable for anything else, "" for nil.
func ReasonOf(err error) Reason {
	var f *Failure
	switch {
	case err == nil:
		return ""
	case errors.As(err, &f):
		return f.Reason
	case errors.Is(err, context.Canceled):
		return ReasonCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	default:
		return ReasonUnavailable
	}
}

// asFailure converts any error into a *Failure, keeping one if present.
func asFailure(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	r := ReasonOf(err)
	return fail(r, string(r), err)
}
