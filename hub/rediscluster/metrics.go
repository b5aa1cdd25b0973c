package rediscluster

import "github.com/prometheus/client_golang/prometheus"

// metrics are the broker's Prometheus series. With a nil Registerer they
// are created but never exported.
type metrics struct {
	published       prometheus.Counter
	publishErrors   prometheus.Counter
	dropped         prometheus.Counter
	received        prometheus.Counter
	malformed       prometheus.Counter
	lag             prometheus.Histogram
	stateChanges    prometheus.Counter
	stateErrors     prometheus.Counter
	resyncs         prometheus.Counter
	reaped          prometheus.Counter
	topicOpsDropped prometheus.Counter
	backlog         prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, backlog func() float64) *metrics {
	m := &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_published_total", Help: "Publications sent to other replicas through Redis."}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_publish_errors_total", Help: "Publications Redis did not take; they reached this replica only."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_dropped_total", Help: "Publications not sent to Redis because its queue was full; they reached this replica only."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_received_total", Help: "Publications received from other replicas."}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_malformed_total", Help: "Undecodable messages received on a topic."}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "switchboard_broker_lag_seconds", Help: "Time from another replica's publish to its receipt here (clocks permitting).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}),
		stateChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_state_changes_total", Help: "Subscription and presence changes applied to the cluster state."}),
		stateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_state_errors_total", Help: "Failed writes of cluster state; each leads to a re-send once Redis answers."}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_reconnects_total", Help: "Times this replica re-sent its state after losing Redis or its lease."}),
		reaped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_reaped_replicas_total", Help: "Dead replicas whose state this replica removed."}),
		topicOpsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_broker_topic_ops_dropped_total", Help: "Topic unsubscriptions skipped because the topic loop was behind."}),
		backlog: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_broker_backlog", Help: "Publications waiting to be sent to Redis."}, backlog),
	}
	if reg != nil {
		reg.MustRegister(m.published, m.publishErrors, m.dropped, m.received, m.malformed, m.lag,
			m.stateChanges, m.stateErrors, m.resyncs, m.reaped, m.topicOpsDropped, m.backlog)
	}
	return m
}
