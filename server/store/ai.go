package store

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// AIStore is what the drafts service (server/drafts) and the AI endpoints
// need from storage: the knowledge base, the workspace's AI settings, a
// contact's AI opt-out, and past replies to learn from. It is part of
// Store.
type AIStore interface {
	// ListKnowledgeArticles returns the workspace's articles, oldest first.
	ListKnowledgeArticles(ctx context.Context, workspaceID int64) ([]KnowledgeArticle, error)
	KnowledgeArticle(ctx context.Context, workspaceID, id int64) (KnowledgeArticle, error)
	// CreateKnowledgeArticle saves an article; a workspace holding
	// MaxKnowledgeArticles already is ErrConflict.
	CreateKnowledgeArticle(ctx context.Context, workspaceID int64, a NewKnowledgeArticle) (KnowledgeArticle, error)
	// UpdateKnowledgeArticle applies u.
	UpdateKnowledgeArticle(ctx context.Context, workspaceID, id int64, u KnowledgeArticleUpdate) (KnowledgeArticle, error)
	DeleteKnowledgeArticle(ctx context.Context, workspaceID, id int64) error
	// KnowledgeVersion returns a value that changes whenever an article of
	// the workspace is created, changed or deleted, so a cached index can
	// tell it is stale with one cheap query.
	KnowledgeVersion(ctx context.Context, workspaceID int64) (string, error)

	// AISettings returns the workspace's AI settings, DefaultAISettings
	// when it never saved any.
	AISettings(ctx context.Context, workspaceID int64) (AISettings, error)
	// SetAISettings validates and saves s (s.WorkspaceID and s.UpdatedAt
	// are ignored) and returns what was saved.
	SetAISettings(ctx context.Context, workspaceID int64, s AISettings) (AISettings, error)

	// SetContactAI turns AI processing of a contact's conversations off
	// (enabled false) or back on, keeping a ConsentRecord of kind
	// ConsentAIOff or ConsentAIOn; changed is false (and nothing is
	// written) when it already was in that state.
	SetContactAI(ctx context.Context, workspaceID, contactID int64, c AIConsentChange) (changed bool, err error)
	// ContactAIOffAt returns when the contact's AI processing was turned
	// off, nil while it is on.
	ContactAIOffAt(ctx context.Context, workspaceID, contactID int64) (*time.Time, error)

	// PastReplies returns, for up to limit of the workspace's most
	// recently active resolved conversations, the customer's opening
	// question and the first agent reply to it: the exchanges the offline
	// suggester learns from. Conversations of contacts whose AI processing
	// is off are left out.
	PastReplies(ctx context.Context, workspaceID int64, limit int) ([]PastReply, error)
}

// Knowledge base limits.
const (
	MaxArticleTitleBytes = 200
	MaxArticleBodyBytes  = 64 << 10
	// MaxKnowledgeArticles bounds a workspace's knowledge base, which
	// the offline suggester holds in memory.
	MaxKnowledgeArticles = 5000
)

// KnowledgeArticle is a help article or FAQ entry of the workspace.
type KnowledgeArticle struct {
	ID          int64     `json:"id"`
	WorkspaceID int64     `json:"workspace_id"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NewKnowledgeArticle is the input to CreateKnowledgeArticle.
type NewKnowledgeArticle struct {
	Title string
	Body  string
}

// Normalize trims the title and reports the first invalid field.
func (a *NewKnowledgeArticle) Normalize() error {
	a.Title = strings.TrimSpace(a.Title)
	switch {
	case a.Title == "":
		return Invalid("title", "must not be empty")
	case len(a.Title) > MaxArticleTitleBytes:
		return Invalid("title", "longer than %d bytes", MaxArticleTitleBytes)
	case !utf8.ValidString(a.Title):
		return Invalid("title", "is not valid UTF-8")
	case strings.TrimSpace(a.Body) == "":
		return Invalid("body", "must not be empty")
	case len(a.Body) > MaxArticleBodyBytes:
		return Invalid("body", "longer than %d bytes", MaxArticleBodyBytes)
	case !utf8.ValidString(a.Body):
		return Invalid("body", "is not valid UTF-8")
	}
	return nil
}

// KnowledgeArticleUpdate changes some fields of an article; nil fields
// are left alone.
type KnowledgeArticleUpdate struct {
	Title *string
	Body  *string
}

// Apply returns a with u applied, validated.
func (u KnowledgeArticleUpdate) Apply(a KnowledgeArticle) (KnowledgeArticle, error) {
	n := NewKnowledgeArticle{Title: a.Title, Body: a.Body}
	if u.Title != nil {
		n.Title = *u.Title
	}
	if u.Body != nil {
		n.Body = *u.Body
	}
	if err := n.Normalize(); err != nil {
		return KnowledgeArticle{}, err
	}
	a.Title, a.Body = n.Title, n.Body
	return a, nil
}

// AuditAISettingsUpdated is the audit action of a change of the
// workspace's AI settings (target: the workspace); its details never hold
// the API key, only whether it changed.
const AuditAISettingsUpdated = "ai_settings.updated"

// AI providers: the offline retrieval suggester, which needs no network,
// or an OpenAI-compatible chat-completions endpoint.
const (
	AIProviderOffline = "offline"
	AIProviderOpenAI  = "openai"
)

// AI settings limits.
const (
	MaxAIInstructionsBytes = 4 << 10
	MaxAIBrandVoiceBytes   = 500
	MaxAIModelBytes        = 200
	MaxAIBaseURLBytes      = 2000
)

// AISettings are a workspace's AI draft settings.
type AISettings struct {
	WorkspaceID int64 `json:"-"`
	// Enabled turns drafts on for the workspace.
	Enabled bool `json:"enabled"`
	// Provider is AIProviderOffline or AIProviderOpenAI.
	Provider string `json:"provider"`
	// BaseURL and Model name the OpenAI-compatible endpoint; empty takes
	// the server's defaults (SWITCHBOARD_AI_BASE_URL, SWITCHBOARD_AI_MODEL).
	BaseURL string `json:"base_url"`
	Model   string `json:"model"`
	// APIKey is the endpoint's key sealed with server/channels/secretbox
	// (opaque here); nil uses the server's default key. It never leaves
	// the server.
	APIKey []byte `json:"-"`
	// Instructions and BrandVoice go into every prompt.
	Instructions string `json:"instructions"`
	BrandVoice   string `json:"brand_voice"`
	// Redact masks emails, phone and card numbers before a prompt leaves
	// the server.
	Redact    bool       `json:"redact"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// DefaultAISettings are a workspace's settings until it saves its own:
// drafts on, from the offline suggester (nothing leaves the server),
// redacting.
func DefaultAISettings(workspaceID int64) AISettings {
	return AISettings{WorkspaceID: workspaceID, Enabled: true, Provider: AIProviderOffline, Redact: true}
}

// Validate reports the first invalid field.
func (s AISettings) Validate() error {
	switch {
	case s.Provider != AIProviderOffline && s.Provider != AIProviderOpenAI:
		return Invalid("provider", "must be offline or openai")
	case len(s.Model) > MaxAIModelBytes:
		return Invalid("model", "longer than %d bytes", MaxAIModelBytes)
	case len(s.Instructions) > MaxAIInstructionsBytes:
		return Invalid("instructions", "longer than %d bytes", MaxAIInstructionsBytes)
	case len(s.BrandVoice) > MaxAIBrandVoiceBytes:
		return Invalid("brand_voice", "longer than %d bytes", MaxAIBrandVoiceBytes)
	case len(s.BaseURL) > MaxAIBaseURLBytes:
		return Invalid("base_url", "longer than %d bytes", MaxAIBaseURLBytes)
	case !utf8.ValidString(s.Instructions + s.BrandVoice + s.Model):
		return Invalid("instructions", "is not valid UTF-8")
	}
	if s.BaseURL != "" {
		u, err := url.Parse(s.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return Invalid("base_url", "must be an http or https URL without credentials, like https://api.openai.com/v1")
		}
	}
	return nil
}

// AIConsentChange is the input to SetContactAI.
type AIConsentChange struct {
	// Enabled is the new state: false turns AI processing off.
	Enabled bool
	// Channel is where it happened ("api" for an agent or integration).
	Channel string
	// Source says how ("agent:{id}").
	Source string
}

// PastReply is one resolved exchange: what the customer asked and how an
// agent answered.
type PastReply struct {
	ConversationID int64
	// Question is the customer's messages before the first agent reply,
	// joined by newlines.
	Question string
	// Answer is the first agent reply.
	Answer string
	At     time.Time
}

// PastReplyMessage is one message PairReplies reads.
type PastReplyMessage struct {
	ConversationID int64
	Direction      Direction
	AuthorKind     AuthorKind
	Type           MessageType
	Body           string
	At             time.Time
}

// Bounds of a PastReply's text.
const (
	maxPastQuestionBytes = 2 << 10
	maxPastAnswerBytes   = 4 << 10
)

// PairReplies turns messages, grouped by conversation and oldest first
// within each, into one PastReply per conversation that has a customer
// question followed by an agent's text reply. Both implementations use it,
// so they agree on what a past reply is.
func PairReplies(msgs []PastReplyMessage) []PastReply {
	var (
		out  []PastReply
		cur  int64
		q    []string
		done bool
	)
	for _, m := range msgs {
		if m.ConversationID != cur {
			cur, q, done = m.ConversationID, nil, false
		}
		if done || m.Type == TypeNote || strings.TrimSpace(m.Body) == "" {
			continue
		}
		switch {
		case m.Direction == DirectionIn:
			q = append(q, m.Body)
		case m.AuthorKind == AuthorAgent && m.Type == TypeText && len(q) > 0:
			out = append(out, PastReply{
				ConversationID: m.ConversationID,
				Question:       truncate(strings.Join(q, "\n"), maxPastQuestionBytes),
				Answer:         truncate(m.Body, maxPastAnswerBytes),
				At:             m.At,
			})
			done = true
		}
	}
	return out
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
