package ai

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors for drafts. Most are labelled by
// suggester ("openai", "offline", or whatever name Instrument is given);
// three carry the workspace (its id), for what the issue asks per
// workspace: drafts by outcome, tokens, and the latency to the first
// delta. A self-hosted server has few workspaces; a host with thousands
// should drop the switchboard_ai_workspace_* series at the scraper.
//
//	switchboard_ai_drafts_total{suggester}                      drafts completed
//	switchboard_ai_draft_failures_total{suggester,reason}       drafts failed, by Reason
//	switchboard_ai_tokens_total{suggester,kind}                 tokens, kind prompt|completion
//	switchboard_ai_first_delta_seconds{suggester}               start to first delta
//	switchboard_ai_draft_duration_seconds{suggester}            start to completion or failure
//	switchboard_ai_workspace_drafts_total{workspace,outcome}    completed, or the failure's Reason
//	switchboard_ai_workspace_tokens_total{workspace,kind}       tokens, kind prompt|completion
//	switchboard_ai_workspace_first_delta_seconds{workspace}     start to first delta
type Metrics struct {
	drafts     *prometheus.CounterVec
	failures   *prometheus.CounterVec
	tokens     *prometheus.CounterVec
	firstDelta *prometheus.HistogramVec
	duration   *prometheus.HistogramVec

	wsDrafts     *prometheus.CounterVec
	wsTokens     *prometheus.CounterVec
	wsFirstDelta *prometheus.HistogramVec
}

// NewMetrics builds the collectors and registers them with reg (none if
// reg is nil). Collectors already registered by an earlier call on the same
// registry are shared, so building Metrics twice is not an error.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 60}
	m := &Metrics{
		drafts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ai_drafts_total",
			Help: "Draft replies completed, by suggester.",
		}, []string{"suggester"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ai_draft_failures_total",
			Help: "Draft replies that failed, by suggester and reason (timeout, stalled, unavailable, rate_limited, misconfigured, bad_response, no_suggestion, canceled).",
		}, []string{"suggester", "reason"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ai_tokens_total",
			Help: "Tokens reported by model endpoints, by suggester and kind (prompt, completion).",
		}, []string{"suggester", "kind"}),
		firstDelta: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_ai_first_delta_seconds",
			Help:    "Time from the start of a draft to its first text, by suggester.",
			Buckets: buckets,
		}, []string{"suggester"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_ai_draft_duration_seconds",
			Help:    "Time from the start of a draft to its completion or failure, by suggester.",
			Buckets: buckets,
		}, []string{"suggester"}),
		wsDrafts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ai_workspace_drafts_total",
			Help: "Draft replies by workspace and outcome (completed, or the failure's reason).",
		}, []string{"workspace", "outcome"}),
		wsTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ai_workspace_tokens_total",
			Help: "Tokens reported by model endpoints, by workspace and kind (prompt, completion).",
		}, []string{"workspace", "kind"}),
		wsFirstDelta: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_ai_workspace_first_delta_seconds",
			Help:    "Time from the start of a draft to its first text, by workspace.",
			Buckets: []float64{.05, .25, 1, 5, 20},
		}, []string{"workspace"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.drafts, err = register(reg, m.drafts); err != nil {
		return nil, err
	}
	if m.failures, err = register(reg, m.failures); err != nil {
		return nil, err
	}
	if m.tokens, err = register(reg, m.tokens); err != nil {
		return nil, err
	}
	if m.firstDelta, err = register(reg, m.firstDelta); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.wsDrafts, err = register(reg, m.wsDrafts); err != nil {
		return nil, err
	}
	if m.wsTokens, err = register(reg, m.wsTokens); err != nil {
		return nil, err
	}
	if m.wsFirstDelta, err = register(reg, m.wsFirstDelta); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// Observe records one finished suggestion: d if err is nil, else a failure
// with err's Reason. A nil *Metrics records nothing.
func (m *Metrics) Observe(suggester string, d Draft, err error, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(suggester).Observe(elapsed.Seconds())
	if err != nil {
		m.failures.WithLabelValues(suggester, string(ReasonOf(err))).Inc()
		return
	}
	m.drafts.WithLabelValues(suggester).Inc()
	m.firstDelta.WithLabelValues(suggester).Observe(d.FirstDelta.Seconds())
	m.tokens.WithLabelValues(suggester, "prompt").Add(float64(d.Usage.PromptTokens))
	m.tokens.WithLabelValues(suggester, "completion").Add(float64(d.Usage.CompletionTokens))
}

// ObserveWorkspace records one finished suggestion of a workspace in the
// per-workspace series. A nil *Metrics or an empty workspace records
// nothing.
func (m *Metrics) ObserveWorkspace(workspace string, d Draft, err error) {
	if m == nil || workspace == "" {
		return
	}
	if err != nil {
		m.wsDrafts.WithLabelValues(workspace, string(ReasonOf(err))).Inc()
		return
	}
	m.wsDrafts.WithLabelValues(workspace, "completed").Inc()
	m.wsFirstDelta.WithLabelValues(workspace).Observe(d.FirstDelta.Seconds())
	m.wsTokens.WithLabelValues(workspace, "prompt").Add(float64(d.Usage.PromptTokens))
	m.wsTokens.WithLabelValues(workspace, "completion").Add(float64(d.Usage.CompletionTokens))
}

// Instrument returns a Suggester that records every suggestion of s in m
// under the given suggester name.
func Instrument(name string, s Suggester, m *Metrics) Suggester {
	return instrumented{name: name, s: s, m: m}
}

type instrumented struct {
	name string
	s    Suggester
	m    *Metrics
}

func (i instrumented) Suggest(ctx context.Context, in Input, emit func(string)) (Draft, error) {
	start := time.Now()
	d, err := i.s.Suggest(ctx, in, emit)
	i.m.Observe(i.name, d, err, time.Since(start))
	i.m.ObserveWorkspace(in.Workspace, d, err)
	return d, err
}
