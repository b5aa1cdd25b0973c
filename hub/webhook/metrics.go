package webhook

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Dispatcher's Prometheus collectors. They always exist, so
// callers never check for nil; they are registered only when a Registerer
// is given.
type metrics struct {
	sent     prometheus.Counter // events delivered (2xx)
	dropped  prometheus.Counter // events refused by a full queue or lost at shutdown
	failed   prometheus.Counter // events given up on after their attempts
	requests *prometheus.CounterVec
	queue    prometheus.Gauge
}

// newMetrics builds the collectors and registers them with reg, if any. A
// collector already registered (by another Dispatcher on the same
// registry) is shared rather than a reason to panic.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_webhook_events_total",
		Help: "Webhook events by outcome, one per target copy: sent, dropped (queue full or shutdown) or failed (attempts exhausted or refused).",
	}, []string{"result"})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_webhook_requests_total",
		Help: "Webhook POSTs by HTTP status code, or code=\"error\" when no response came.",
	}, []string{"code"})
	queue := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "switchboard_webhook_queue_length",
		Help: "Webhook events held, queued or being delivered.",
	})
	if reg != nil {
		events = register(reg, events, log)
		requests = register(reg, requests, log)
		queue = register(reg, queue, log)
	}
	return &metrics{
		sent:     events.WithLabelValues("sent"),
		dropped:  events.WithLabelValues("dropped"),
		failed:   events.WithLabelValues("failed"),
		requests: requests,
		queue:    queue,
	}
}

// register registers c with reg and returns the collector to use: c, or
// the one of the same description already registered. Any other failure is
// logged and c is used unregistered, since metrics must not stop webhooks.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Error("webhook: register metrics", slog.Any("error", err))
	return c
}
