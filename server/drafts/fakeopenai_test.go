package drafts_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fakeOpenAI is a local OpenAI-compatible chat-completions endpoint
// speaking the documented streaming format: "data: {chunk}\n\n"
// server-sent events of chat.completion.chunk objects, a final chunk with
// empty choices and the usage, then "data: [DONE]". Errors are OpenAI's
// error JSON with the matching status. (A trimmed copy of server/ai's.)
type fakeOpenAI struct {
	srv *httptest.Server

	mu       sync.Mutex
	mode     string   // normal, stall, error, json, hang
	words    []string // the draft, one content delta each
	requests []chatRequest
	auth     []string // the Authorization header of each request
	release  chan struct{}
}

// chatRequest is the part of the documented request body the tests check.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

func newFakeOpenAI(t testing.TB) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{
		mode:    "normal",
		words:   []string{"Hi", " Carol!", " Your", " order", " ships", " today."},
		release: make(chan struct{}),
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

func (f *fakeOpenAI) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeOpenAI) request(i int) chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[i]
}

func (f *fakeOpenAI) authorization(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.auth[i]
}

func chunkJSON(content, finish string) string {
	delta := map[string]any{"content": content}
	var fr any
	if finish != "" {
		fr, delta = finish, map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1694268190,
		"model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_44709d6fcb",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": fr}},
		"usage":   nil,
	})
	return string(b)
}

const usageChunk = `{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":42,"completion_tokens":6,"total_tokens":48}}`

func (f *fakeOpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil || r.URL.Path != "/v1/chat/completions" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"We could not parse the JSON body of your request.","type":"invalid_request_error","param":null,"code":null}}`)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	mode, words := f.mode, f.words
	f.mu.Unlock()

	hold := func() {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	}
	switch mode {
	case "error":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`)
		return
	case "json": // not a stream at all
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body>502 Bad Gateway</body></html>`)
		return
	case "hang":
		hold()
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl := w.(http.Flusher)
	send := func(data string) {
		fmt.Fprintf(w, "data: %s\n\n", data)
		fl.Flush()
	}
	send(`{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}`)
	if mode == "stall" { // one word, then nothing until the client leaves
		send(chunkJSON(words[0], ""))
		hold()
		return
	}
	for _, w := range words {
		send(chunkJSON(w, ""))
	}
	send(chunkJSON("", "stop"))
	send(usageChunk)
	send("[DONE]")
}
