package ai

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

func testInput() Input {
	return Input{
		Workspace:    "ws1",
		Conversation: "c1",
		PromptInput: PromptInput{
			Instructions: "We ship from Lisbon.",
			BrandVoice:   "Friendly and short.",
			Contact:      map[string]string{"name": "Ana Silva", "email": "ana@example.com"},
			History: []Turn{
				{Role: RoleCustomer, Text: "Hello, where is my order 48213? Call me on +351 912 345 678."},
				{Role: RoleNote, Text: "VIP customer, internal only"},
			},
		},
	}
}

func newTestOpenAI(t *testing.T, f *fakeOpenAI, mutate func(*OpenAIConfig)) *OpenAI {
	t.Helper()
	cfg := OpenAIConfig{BaseURL: f.URL(), APIKey: "sk-test", Model: "gpt-4o-mini", Temperature: 0.3}
	if mutate != nil {
		mutate(&cfg)
	}
	o, err := NewOpenAI(cfg)
	if err != nil {
		t.Fatalf("NewOpenAI: %v", err)
	}
	return o
}

func TestOpenAIStreamsDraft(t *testing.T) {
	f := newFakeOpenAI(t)
	o := newTestOpenAI(t, f, func(c *OpenAIConfig) { c.Prompt.Redact = true })

	var deltas []string
	d, err := o.Suggest(t.Context(), testInput(), func(s string) { deltas = append(deltas, s) })
	if err != nil {
		t.Fatalf("Suggest: %v", err)
	}
	want := "Hi there! Your order ships today."
	if d.Text != want || strings.Join(deltas, "") != want {
		t.Errorf("text = %q, deltas = %q, want %q", d.Text, deltas, want)
	}
	if len(deltas) != 6 {
		t.Errorf("got %d deltas, want one per content chunk (6)", len(deltas))
	}
	if d.Usage != (Usage{PromptTokens: 42, CompletionTokens: 6}) {
		t.Errorf("usage = %+v", d.Usage)
	}
	if d.Model != "gpt-4o-mini-2024-07-18" || d.FinishReason != "stop" {
		t.Errorf("model = %q, finish = %q", d.Model, d.FinishReason)
	}

	req := f.lastRequest()
	if req.Method != "POST" || req.Path != "/v1/chat/completions" {
		t.Errorf("request = %s %s", req.Method, req.Path)
	}
	if req.Authorization != "Bearer sk-test" {
		t.Errorf("Authorization = %q", req.Authorization)
	}
	if !strings.HasPrefix(req.ContentType, "application/json") {
		t.Errorf("Content-Type = %q", req.ContentType)
	}
	b := req.Body
	if b.Model != "gpt-4o-mini" || !b.Stream || !b.StreamOptions.IncludeUsage || b.MaxTokens != DefaultMaxTokens {
		t.Errorf("body = %+v", b)
	}
	if b.Temperature == nil || *b.Temperature != 0.3 {
		t.Errorf("temperature = %v", b.Temperature)
	}
	if len(b.Messages) != 2 || b.Messages[0].Role != "system" || b.Messages[1].Role != "user" {
		t.Fatalf("messages = %+v", b.Messages)
	}
	all := b.Messages[0].Content + b.Messages[1].Content
	for _, leak := range []string{"ana@example.com", "912 345 678", "VIP customer"} {
		if strings.Contains(all, leak) {
			t.Errorf("prompt leaks %q", leak)
		}
	}
	for _, keep := range []string{"We ship from Lisbon.", "Friendly and short.", "order 48213", "[phone]", "Ana Silva"} {
		if !strings.Contains(all, keep) {
			t.Errorf("prompt lacks %q", keep)
		}
	}
}

func TestOpenAIWithoutKeyIgnoresEnvironment(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_ORG_ID", "org-env")
	f := newFakeOpenAI(t)
	o := newTestOpenAI(t, f, func(c *OpenAIConfig) { c.APIKey = "" })
	if _, err := o.Suggest(t.Context(), testInput(), func(string) {}); err != nil {
		t.Fatalf("Suggest: %v", err)
	}
	if got := f.lastRequest().Authorization; got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

func TestOpenAIFailures(t *testing.T) {
	tests := []struct {
		mode   string
		mutate func(*OpenAIConfig)
		want   Reason
	}{
		{mode: "error", want: ReasonUnavailable},
		{mode: "429", want: ReasonRateLimited},
		{mode: "401", want: ReasonMisconfigured},
		{mode: "404", want: ReasonMisconfigured},
		{mode: "malformed", want: ReasonBadResponse},
		{mode: "json", want: ReasonBadResponse},
		{mode: "midstream-error", want: ReasonUnavailable},
		{mode: "empty", want: ReasonNoSuggestion},
		{mode: "refusal", want: ReasonNoSuggestion},
		{mode: "huge", mutate: func(c *OpenAIConfig) { c.MaxDraftBytes = 1000 }, want: ReasonBadResponse},
		{mode: "stall", mutate: func(c *OpenAIConfig) { c.IdleTimeout = 100 * time.Millisecond }, want: ReasonStalled},
		{mode: "hang", mutate: func(c *OpenAIConfig) { c.IdleTimeout = 100 * time.Millisecond }, want: ReasonStalled},
		{mode: "slow", mutate: func(c *OpenAIConfig) { c.Timeout = 200 * time.Millisecond }, want: ReasonTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := newFakeOpenAI(t)
			f.setMode(tt.mode)
			o := newTestOpenAI(t, f, tt.mutate)
			d, err := o.Suggest(t.Context(), testInput(), func(string) {})
			var fl *Failure
			if !errors.As(err, &fl) {
				t.Fatalf("err = %v (%T), want a *Failure", err, err)
			}
			t.Logf("%v (cause: %v)", fl, fl.Err)
			if fl.Reason != tt.want || ReasonOf(err) != tt.want {
				t.Errorf("reason = %q (%v), want %q", fl.Reason, err, tt.want)
			}
			if fl.Message == "" || strings.Contains(fl.Message, "sk-") {
				t.Errorf("message = %q: want a short, key-free explanation", fl.Message)
			}
			if d.Text != "" {
				t.Errorf("draft text = %q on failure", d.Text)
			}
			if n := f.requestCount(); n != 1 {
				t.Errorf("%d requests, want 1 (no retries by default)", n)
			}
		})
	}
}

func TestOpenAIRetriesWhenAsked(t *testing.T) {
	f := newFakeOpenAI(t)
	f.setMode("error")
	o := newTestOpenAI(t, f, func(c *OpenAIConfig) { c.MaxRetries = 1 })
	_, err := o.Suggest(t.Context(), testInput(), func(string) {})
	if ReasonOf(err) != ReasonUnavailable {
		t.Fatalf("err = %v", err)
	}
	if n := f.requestCount(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestOpenAIUnreachable(t *testing.T) {
	srv := httptest.NewServer(nil)
	url := srv.URL + "/v1"
	srv.Close() // nothing listens there any more
	o, err := NewOpenAI(OpenAIConfig{BaseURL: url, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Suggest(t.Context(), testInput(), func(string) {})
	if ReasonOf(err) != ReasonUnavailable {
		t.Errorf("err = %v, want reason unavailable", err)
	}
}

func TestOpenAICancelMidStream(t *testing.T) {
	f := newFakeOpenAI(t)
	f.setMode("cancel")
	o := newTestOpenAI(t, f, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []string
	// Cancel as the agent would, once the first text has arrived.
	_, err := o.Suggest(ctx, testInput(), func(s string) {
		got = append(got, s)
		cancel()
	})
	if ReasonOf(err) != ReasonCanceled {
		t.Fatalf("err = %v, want reason canceled", err)
	}
	if len(got) != 1 || got[0] != "Hi" {
		t.Errorf("deltas = %q", got)
	}
	select {
	case <-f.disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint never saw the connection close")
	}
}

func TestOpenAICanceledBeforeStart(t *testing.T) {
	f := newFakeOpenAI(t)
	o := newTestOpenAI(t, f, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := o.Suggest(ctx, testInput(), func(string) {})
	if ReasonOf(err) != ReasonCanceled {
		t.Errorf("err = %v, want canceled", err)
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests after cancel", n)
	}
}

func TestNewOpenAIValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  OpenAIConfig
		want string
	}{
		{"no model", OpenAIConfig{BaseURL: "http://localhost:11434/v1"}, "Model"},
		{"no url", OpenAIConfig{Model: "llama3"}, "BaseURL"},
		{"bad scheme", OpenAIConfig{BaseURL: "ftp://x/v1", Model: "llama3"}, "BaseURL"},
		{"no host", OpenAIConfig{BaseURL: "http:///v1", Model: "llama3"}, "BaseURL"},
		{"garbage", OpenAIConfig{BaseURL: "://", Model: "llama3"}, "BaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewOpenAI(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestOpenAILeavesNoGoroutines(t *testing.T) {
	f := newFakeOpenAI(t)
	client := &http.Client{Transport: &http.Transport{}}
	o := newTestOpenAI(t, f, func(c *OpenAIConfig) {
		c.HTTPClient = client
		c.IdleTimeout = 50 * time.Millisecond
	})
	before := runtime.NumGoroutine()
	for _, mode := range []string{"normal", "stall", "hang", "malformed", "error", "cancel"} {
		f.setMode(mode)
		ctx, cancel := context.WithCancel(t.Context())
		_, _ = o.Suggest(ctx, testInput(), func(string) {
			if mode == "cancel" {
				cancel()
			}
		})
		cancel()
	}
	client.CloseIdleConnections()
	// Poll: connection goroutines wind down asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
