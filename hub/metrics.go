package hub

import "github.com/prometheus/client_golang/prometheus"

// metrics are the hub's Prometheus series. With a nil Registerer they are
// created but never exported, so the hot path never checks for nil.
type metrics struct {
	connections          prometheus.Gauge
	connects             *prometheus.CounterVec
	disconnects          *prometheus.CounterVec
	subscriptions        prometheus.Gauge
	received             prometheus.Counter
	sent                 prometheus.Counter
	published            prometheus.Counter
	delivered            prometheus.Counter
	clientEvents         prometheus.Counter
	clientEventsRejected prometheus.Counter
	slowConsumers        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_connections", Help: "Open websocket connections."}),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_connects_total", Help: "Connection attempts by result: ok or the refusal's Pusher close code."}, []string{"result"}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_disconnects_total", Help: "Connections closed by the server, by Pusher close code."}, []string{"code"}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_subscriptions", Help: "Channel subscriptions held by open connections."}),
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_messages_received_total", Help: "Websocket messages received from clients."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_messages_sent_total", Help: "Websocket messages written to clients."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_publications_total", Help: "Events published to a channel through the API."}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_deliveries_total", Help: "Channel events queued to subscribers on this replica."}),
		clientEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_client_events_total", Help: "Client events relayed."}),
		clientEventsRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_client_events_rate_limited_total", Help: "Client events refused by the per-connection rate limit."}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_slow_consumer_disconnects_total", Help: "Connections closed because their send queue overflowed."}),
	}
	if reg != nil {
		reg.MustRegister(m.connections, m.connects, m.disconnects, m.subscriptions, m.received, m.sent,
			m.published, m.delivered, m.clientEvents, m.clientEventsRejected, m.slowConsumers)
	}
	return m
}
