package ai

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeOpenAI is a local OpenAI-compatible chat-completions endpoint speaking
// the documented streaming format: "data: {chunk}\n\n" server-sent events of
// chat.completion.chunk objects, a final chunk with empty choices and the
// usage (stream_options.include_usage), then "data: [DONE]". Errors are
// OpenAI's error JSON with the matching status.
type fakeOpenAI struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	mode     string   // see serve
	words    []string // the draft, one content delta each
	requests []fakeRequest

	// disconnected receives once per request that ended because the client
	// went away.
	disconnected chan struct{}
	// release ends handlers that are holding a stream open.
	release chan struct{}
}

// fakeRequest is what the fake recorded of one request.
type fakeRequest struct {
	Method, Path, Authorization, ContentType string
	Body                                     chatRequest
}

// chatRequest is the part of the documented request body the tests check.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens   int      `json:"max_tokens"`
	Temperature *float64 `json:"temperature"`
}

func newFakeOpenAI(t testing.TB) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{
		t:            t,
		mode:         "normal",
		words:        []string{"Hi", " there!", " Your", " order", " ships", " today."},
		disconnected: make(chan struct{}, 16),
		release:      make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

// URL is the base URL to configure, like https://api.openai.com/v1.
func (f *fakeOpenAI) URL() string { return f.srv.URL + "/v1" }

func (f *fakeOpenAI) setMode(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode = mode
}

func (f *fakeOpenAI) lastRequest() fakeRequest {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		f.t.Fatal("the fake endpoint received no request")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeOpenAI) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func chunkJSON(content string, finish string) string {
	delta := map[string]any{"content": content}
	var fr any
	if finish != "" {
		fr = finish
		delta = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{
		"id":                 "chatcmpl-123",
		"object":             "chat.completion.chunk",
		"created":            1694268190,
		"model":              "gpt-4o-mini-2024-07-18",
		"system_fingerprint": "fp_44709d6fcb",
		"choices": []any{map[string]any{
			"index": 0, "delta": delta, "logprobs": nil, "finish_reason": fr,
		}},
		"usage": nil,
	})
	return string(b)
}

const usageChunk = `{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":42,"completion_tokens":6,"total_tokens":48}}`

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var c any
	if code != "" {
		c = code
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": c,
	}})
}

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{
		Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"), Body: req,
	})
	mode, words := f.mode, f.words
	f.mu.Unlock()

	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+r.Method+" "+r.URL.Path)
		return
	}
	hold := func() { // keep the stream open until the client leaves
		select {
		case <-r.Context().Done():
			f.disconnected <- struct{}{}
		case <-f.release:
		}
	}
	switch mode {
	case "error":
		writeError(w, http.StatusInternalServerError, "server_error", "", "The server had an error while processing your request. Sorry about that!")
		return
	case "429":
		w.Header().Set("Retry-After", "20")
		writeError(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.")
		return
	case "401":
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-wrong. You can find your API key at https://platform.openai.com/account/api-keys.")
		return
	case "404":
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found", "The model `gpt-nope` does not exist or you do not have access to it.")
		return
	case "json":
		// A server ignoring "stream": a plain chat.completion object.
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"chatcmpl-123","object":"chat.completion","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}]}`)
		return
	}

	if mode == "hang" { // accept the request, never answer
		hold()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	send := func(data string) bool {
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	send(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}`)
	switch mode {
	case "stall", "cancel":
		send(chunkJSON(words[0], ""))
		hold()
		return
	case "slow": // a chunk every 20 ms, forever
		for {
			select {
			case <-r.Context().Done():
				f.disconnected <- struct{}{}
				return
			case <-f.release:
				return
			case <-time.After(20 * time.Millisecond):
				if !send(chunkJSON(" more", "")) {
					return
				}
			}
		}
	case "malformed":
		send(chunkJSON(words[0], ""))
		send(`{"id":"chatcmpl-123","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"oops"`)
		send("[DONE]")
		return
	case "midstream-error":
		send(chunkJSON(words[0], ""))
		send(`{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`)
		return
	case "empty":
		send(chunkJSON("", "stop"))
		send(usageChunk)
		send("[DONE]")
		return
	case "refusal":
		send(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"refusal":"I can't help with that."},"finish_reason":null}]}`)
		send(chunkJSON("", "stop"))
		send("[DONE]")
		return
	case "huge":
		for range 200 {
			if !send(chunkJSON("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz ", "")) {
				return
			}
		}
		send("[DONE]")
		return
	}
	for _, w := range words {
		send(chunkJSON(w, ""))
	}
	send(chunkJSON("", "stop"))
	send(usageChunk)
	send("[DONE]")
}
