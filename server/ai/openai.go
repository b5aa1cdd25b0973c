package ai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// OpenAIConfig configures an OpenAI-compatible chat-completions endpoint.
// One is built per workspace from its settings.
type OpenAIConfig struct {
	// BaseURL is the API root the path "chat/completions" is appended to,
	// such as https://api.openai.com/v1, https://openrouter.ai/api/v1 or
	// http://localhost:11434/v1 (Ollama). Required.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends none (local servers).
	APIKey string
	// Model is the model name the endpoint knows. Required.
	Model string
	// MaxTokens bounds the draft's length in tokens (default 400).
	MaxTokens int
	// Temperature is sent when > 0; otherwise the endpoint's default applies.
	Temperature float64
	// Timeout bounds the whole suggestion, first byte to last (default 60 s).
	Timeout time.Duration
	// IdleTimeout bounds the wait for the first chunk and between chunks
	// (default 15 s); a slow local model may need more.
	IdleTimeout time.Duration
	// MaxDraftBytes bounds the draft text (default 16 KiB); an endpoint
	// sending more fails with bad_response.
	MaxDraftBytes int
	// MaxRetries is how often a 429 or 5xx is retried before failing
	// (default 0: a draft is best effort, and the agent is waiting).
	MaxRetries int
	// Prompt bounds and redacts the prompt built from Input.
	Prompt PromptOptions
	// HTTPClient makes the requests (default: a client on a clone of
	// http.DefaultTransport). Its own Timeout, if any, also applies.
	HTTPClient *http.Client
	// Logger receives failures (warn; debug for canceled and no_suggestion)
	// with workspace, conversation, model and reason, never message text or
	// keys (default: discard).
	Logger *slog.Logger
}

// OpenAI defaults.
const (
	DefaultMaxTokens          = 400
	DefaultTimeout            = 60 * time.Second
	DefaultIdleTimeout        = 15 * time.Second
	DefaultMaxModelDraftBytes = 16 << 10
)

var (
	errStalled = errors.New("no chunk within the idle timeout")
	errTimeout = errors.New("the suggestion timed out")
)

// OpenAI is the Suggester for an OpenAI-compatible chat-completions
// endpoint, streaming with "stream": true and asking for token usage
// (stream_options.include_usage). It is safe for concurrent use.
type OpenAI struct {
	cfg  OpenAIConfig
	chat openai.ChatCompletionService
}

// NewOpenAI returns a suggester for cfg, or an error naming the field that
// is missing or invalid. It makes no request. It reads no OPENAI_*
// environment variable: everything comes from cfg, so one workspace's
// settings never leak into another's requests.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("ai: openai: Model is required")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("ai: openai: BaseURL must be an http or https URL")
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxDraftBytes <= 0 {
		cfg.MaxDraftBytes = DefaultMaxModelDraftBytes
	}
	cfg.MaxRetries = max(cfg.MaxRetries, 0)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The service, not openai.NewClient: NewClient would read OPENAI_API_KEY
	// and friends from the environment.
	chat := openai.NewChatCompletionService(
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(cfg.APIKey),
		option.WithHTTPClient(cfg.HTTPClient),
		option.WithMaxRetries(cfg.MaxRetries),
	)
	return &OpenAI{cfg: cfg, chat: chat}, nil
}

// Model returns the configured model name.
func (o *OpenAI) Model() string { return o.cfg.Model }

// Suggest implements Suggester. It builds the prompt with BuildMessages and
// streams the reply; every failure is a *Failure whose reason tells an
// outage (unavailable, rate_limited, timeout, stalled) from a settings
// problem (misconfigured) and from garbage (bad_response).
func (o *OpenAI) Suggest(ctx context.Context, in Input, emit func(delta string)) (Draft, error) {
	start := time.Now()
	d, err := o.suggest(ctx, in, emit, start)
	if err != nil {
		f := asFailure(err)
		level := slog.LevelWarn // an outage or a settings problem
		if f.Reason == ReasonCanceled || f.Reason == ReasonNoSuggestion {
			level = slog.LevelDebug // routine
		}
		o.cfg.Logger.LogAttrs(ctx, level, "ai: draft failed",
			slog.String("workspace", in.Workspace),
			slog.String("conversation", in.Conversation),
			slog.String("model", o.cfg.Model),
			slog.String("reason", string(f.Reason)),
			slog.Duration("elapsed", time.Since(start)))
		return Draft{}, f
	}
	return d, nil
}

func (o *OpenAI) suggest(parent context.Context, in Input, emit func(string), start time.Time) (Draft, error) {
	if err := parent.Err(); err != nil {
		return Draft{}, fail(ReasonOf(err), "canceled before start", err)
	}
	ctx, cancelTimeout := context.WithTimeoutCause(parent, o.cfg.Timeout, errTimeout)
	defer cancelTimeout()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(o.cfg.IdleTimeout, func() { cancel(errStalled) })
	defer idle.Stop()

	msgs := BuildMessages(in.PromptInput, o.cfg.Prompt)
	params := openai.ChatCompletionNewParams{
		Model:         o.cfg.Model,
		Messages:      make([]openai.ChatCompletionMessageParamUnion, 0, len(msgs)),
		MaxTokens:     openai.Int(int64(o.cfg.MaxTokens)),
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if o.cfg.Temperature > 0 {
		params.Temperature = openai.Float(o.cfg.Temperature)
	}
	for _, m := range msgs {
		switch m.Role {
		case ChatSystem:
			params.Messages = append(params.Messages, openai.SystemMessage(m.Content))
		case ChatAssistant:
			params.Messages = append(params.Messages, openai.AssistantMessage(m.Content))
		default:
			params.Messages = append(params.Messages, openai.UserMessage(m.Content))
		}
	}

	stream := o.chat.NewStreaming(ctx, params)
	defer stream.Close()

	d := Draft{Model: o.cfg.Model}
	var text strings.Builder
	chunks, refused := 0, false
	for stream.Next() {
		idle.Reset(o.cfg.IdleTimeout)
		chunks++
		c := stream.Current()
		if c.Usage.PromptTokens > 0 || c.Usage.CompletionTokens > 0 {
			d.Usage = Usage{PromptTokens: c.Usage.PromptTokens, CompletionTokens: c.Usage.CompletionTokens}
		}
		if c.Model != "" {
			d.Model = c.Model
		}
		for _, ch := range c.Choices {
			if ch.Index != 0 {
				continue
			}
			if ch.FinishReason != "" {
				d.FinishReason = ch.FinishReason
			}
			if ch.Delta.Refusal != "" {
				refused = true
			}
			delta := ch.Delta.Content
			if delta == "" {
				continue
			}
			if text.Len()+len(delta) > o.cfg.MaxDraftBytes {
				return Draft{}, fail(ReasonBadResponse, fmt.Sprintf("the draft exceeded %d bytes", o.cfg.MaxDraftBytes), nil)
			}
			if text.Len() == 0 {
				d.FirstDelta = time.Since(start)
			}
			text.WriteString(delta)
			emit(delta)
		}
	}
	idle.Stop()
	if err := stream.Err(); err != nil {
		return Draft{}, o.classify(ctx, parent, err)
	}
	// The stream may also end because a context ended while the body was
	// being read and the decoder took that for the end of input.
	if cause := context.Cause(ctx); cause != nil {
		return Draft{}, o.classify(ctx, parent, cause)
	}
	switch {
	case chunks == 0:
		return Draft{}, fail(ReasonBadResponse, "the endpoint sent no chat-completion chunks", nil)
	case strings.TrimSpace(text.String()) == "" && refused:
		return Draft{}, fail(ReasonNoSuggestion, "the model declined to draft a reply", nil)
	case strings.TrimSpace(text.String()) == "":
		return Draft{}, fail(ReasonNoSuggestion, "the model returned an empty draft", nil)
	}
	d.Text = text.String()
	return d, nil
}

// classify turns a streaming error into a Failure. The contexts come first:
// after a cancel, the transport's error says little about why.
func (o *OpenAI) classify(ctx, parent context.Context, err error) *Failure {
	if cause := context.Cause(ctx); cause != nil {
		switch {
		case errors.Is(cause, errStalled):
			return fail(ReasonStalled, fmt.Sprintf("the endpoint sent nothing for %s", o.cfg.IdleTimeout), err)
		case errors.Is(cause, errTimeout):
			return fail(ReasonTimeout, fmt.Sprintf("the draft took longer than %s", o.cfg.Timeout), err)
		case parent.Err() != nil:
			r := ReasonOf(parent.Err())
			return fail(r, string(r), err)
		}
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		code := apiErr.StatusCode
		switch {
		case code == http.StatusTooManyRequests:
			return fail(ReasonRateLimited, "the endpoint is rate limiting requests (429)", err)
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return fail(ReasonMisconfigured, fmt.Sprintf("the endpoint refused the API key (%d)", code), err)
		case code == http.StatusNotFound:
			return fail(ReasonMisconfigured, "the endpoint does not know this URL or model (404)", err)
		case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
			return fail(ReasonMisconfigured, fmt.Sprintf("the endpoint rejected the request (%d)", code), err)
		case code >= 500:
			return fail(ReasonUnavailable, fmt.Sprintf("the endpoint failed (%d)", code), err)
		default:
			return fail(ReasonBadResponse, fmt.Sprintf("the endpoint answered %d", code), err)
		}
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		return fail(ReasonUnavailable, "the endpoint reported an error mid-stream", err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return fail(ReasonUnavailable, "the endpoint could not be reached", err)
	}
	return fail(ReasonBadResponse, "the endpoint sent a malformed chunk", err)
}
