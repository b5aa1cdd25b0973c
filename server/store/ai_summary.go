package store

import (
	"context"
	"slices"
	"time"
)

// AISummaryStore keeps each conversation's latest summary (server/drafts
// computes them). It is part of Store.
type AISummaryStore interface {
	// SetConversationSummary validates and saves the conversation's
	// summary, replacing an earlier one (sum.ConversationID and
	// sum.CreatedAt are ignored: the summary is the conversation's, made
	// now), and returns what was saved; a conversation of another
	// workspace is ErrNotFound.
	SetConversationSummary(ctx context.Context, workspaceID, conversationID int64, sum ConversationSummary) (ConversationSummary, error)
	// ConversationSummary returns the conversation's summary, or
	// ErrNotFound when it has none (or is not the workspace's).
	ConversationSummary(ctx context.Context, workspaceID, conversationID int64) (ConversationSummary, error)
}

// MaxSummaryBytes bounds a summary's text; longer text is cut at a rune
// boundary when saved.
const MaxSummaryBytes = 600

// Sentiments and intents a summary may have.
var (
	Sentiments = []string{"positive", "neutral", "negative"}
	Intents    = []string{"question", "complaint", "purchase", "cancellation", "other"}
)

// ConversationSummary is a conversation's summary and labels.
type ConversationSummary struct {
	ConversationID int64  `json:"conversation_id"`
	Summary        string `json:"summary"`
	// Sentiment is one of Sentiments, Intent one of Intents.
	Sentiment string `json:"sentiment"`
	Intent    string `json:"intent"`
	// Lead: the customer wants to buy, or asked about prices or a demo.
	Lead bool `json:"lead"`
	// Model is what computed the summary.
	Model     string    `json:"model"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports the first invalid field.
func (s ConversationSummary) Validate() error {
	switch {
	case !slices.Contains(Sentiments, s.Sentiment):
		return Invalid("sentiment", "must be one of positive, neutral, negative")
	case !slices.Contains(Intents, s.Intent):
		return Invalid("intent", "must be one of question, complaint, purchase, cancellation, other")
	case s.Model == "":
		return Invalid("model", "is required")
	}
	return nil
}

// TruncateSummary cuts a summary to MaxSummaryBytes at a rune boundary;
// both implementations store it so.
func TruncateSummary(s string) string { return truncate(s, MaxSummaryBytes) }
