package ai

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type published struct {
	event string
	data  any
}

type eventLog struct {
	mu     sync.Mutex
	events []published
}

func (l *eventLog) publish(event string, data any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, published{event, data})
}

func TestRunPublishesDeltasThenCompleted(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    func(t *testing.T) Suggester
	}{
		{"offline", func(t *testing.T) Suggester { return NewOffline(testIndex(t), OfflineOptions{ChunkBytes: 8}) }},
		{"openai", func(t *testing.T) Suggester { return newTestOpenAI(t, newFakeOpenAI(t), nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log eventLog
			d, err := Run(t.Context(), tc.s(t), ask("Do gift cards expire?"), RunOptions{DraftID: "d1", Publish: log.publish})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			n := len(log.events)
			if n < 2 || log.events[n-1].event != EventCompleted {
				t.Fatalf("events = %+v", log.events)
			}
			var text strings.Builder
			for i, e := range log.events[:n-1] {
				de, ok := e.data.(DeltaEvent)
				if e.event != EventDelta || !ok || de.DraftID != "d1" || de.Seq != i+1 {
					t.Fatalf("event %d = %+v", i, e)
				}
				text.WriteString(de.Text)
			}
			done := log.events[n-1].data.(CompletedEvent)
			if done.DraftID != "d1" || done.Text != d.Text || text.String() != d.Text {
				t.Errorf("completed %+v; deltas built %q", done, text.String())
			}
		})
	}
}

func TestRunPublishesFailed(t *testing.T) {
	var log eventLog
	_, err := Run(t.Context(), NewOffline(testIndex(t), OfflineOptions{}), ask("Who won the football match?"), RunOptions{DraftID: "d2", Publish: log.publish})
	if ReasonOf(err) != ReasonNoSuggestion {
		t.Fatalf("err = %v", err)
	}
	if len(log.events) != 1 || log.events[0].event != EventFailed {
		t.Fatalf("events = %+v", log.events)
	}
	f := log.events[0].data.(FailedEvent)
	if f.DraftID != "d2" || f.Reason != ReasonNoSuggestion || f.Message == "" {
		t.Errorf("failed event = %+v", f)
	}
}

func TestEventJSON(t *testing.T) {
	b, err := json.Marshal(CompletedEvent{DraftID: "d1", Draft: Draft{
		Text: "Hi", Model: "offline", Confidence: 0.8,
		Sources: []Source{{Kind: KindArticle, ID: "a8", Title: "Gift cards"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"draft_id":"d1","text":"Hi","sources":[{"kind":"article","id":"a8","title":"Gift cards"}],"model":"offline","usage":{"prompt_tokens":0,"completion_tokens":0},"confidence":0.8}`
	if string(b) != want {
		t.Errorf("completed JSON =\n%s\nwant\n%s", b, want)
	}
	b, _ = json.Marshal(FailedEvent{DraftID: "d1", Reason: ReasonStalled, Message: "the endpoint sent nothing for 15s"})
	if string(b) != `{"draft_id":"d1","reason":"stalled","message":"the endpoint sent nothing for 15s"}` {
		t.Errorf("failed JSON = %s", b)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err != nil {
		t.Fatalf("second NewMetrics on one registry: %v", err)
	}
	f := newFakeOpenAI(t)
	s := Instrument("openai", newTestOpenAI(t, f, nil), m)
	if _, err := s.Suggest(t.Context(), testInput(), func(string) {}); err != nil {
		t.Fatal(err)
	}
	f.setMode("429")
	if _, err := s.Suggest(t.Context(), testInput(), func(string) {}); ReasonOf(err) != ReasonRateLimited {
		t.Fatal(err)
	}
	off := Instrument("offline", NewOffline(testIndex(t), OfflineOptions{}), m)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _ = off.Suggest(ctx, ask("Do gift cards expire?"), func(string) {})

	counters := []struct {
		c    prometheus.Counter
		want float64
	}{
		{m.drafts.WithLabelValues("openai"), 1},
		{m.tokens.WithLabelValues("openai", "prompt"), 42},
		{m.tokens.WithLabelValues("openai", "completion"), 6},
		{m.failures.WithLabelValues("openai", "rate_limited"), 1},
		{m.failures.WithLabelValues("offline", "canceled"), 1},
		{m.failures.WithLabelValues("offline", "no_suggestion"), 0},
		// The same drafts, per workspace (both inputs are ws1's).
		{m.wsDrafts.WithLabelValues("ws1", "completed"), 1},
		{m.wsDrafts.WithLabelValues("ws1", "rate_limited"), 1},
		{m.wsDrafts.WithLabelValues("ws1", "canceled"), 1},
		{m.wsTokens.WithLabelValues("ws1", "prompt"), 42},
		{m.wsTokens.WithLabelValues("ws1", "completion"), 6},
		{m.wsDrafts.WithLabelValues("ws2", "completed"), 0},
	}
	for i, c := range counters {
		var out dto.Metric
		if err := c.c.Write(&out); err != nil {
			t.Fatal(err)
		}
		if got := out.GetCounter().GetValue(); got != c.want {
			t.Errorf("counter %d: got %v, want %v", i, got, c.want)
		}
	}
	histograms := []struct {
		name, suggester string
		want            uint64
	}{
		{"switchboard_ai_first_delta_seconds", "openai", 1},
		{"switchboard_ai_first_delta_seconds", "offline", 0},
		{"switchboard_ai_draft_duration_seconds", "openai", 2},
		{"switchboard_ai_draft_duration_seconds", "offline", 1},
		{"switchboard_ai_workspace_first_delta_seconds", "ws1", 1},
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range histograms {
		var got uint64
		for _, fam := range families {
			for _, mt := range fam.GetMetric() {
				if fam.GetName() == h.name && mt.GetLabel()[0].GetValue() == h.suggester {
					got = mt.GetHistogram().GetSampleCount()
				}
			}
		}
		if got != h.want {
			t.Errorf("%s{%q} count = %d, want %d", h.name, h.suggester, got, h.want)
		}
	}

	var none *Metrics
	none.Observe("x", Draft{}, nil, 0) // a nil *Metrics records nothing and does not panic
	none.ObserveWorkspace("x", Draft{}, nil)
}
