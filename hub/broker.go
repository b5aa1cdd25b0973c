package hub

import "context"

// Publication is one event on its way to a channel's subscribers on every
// replica. Frame is the encoded message, built once by the publisher.
type Publication struct {
	AppID   string
	Channel string
	// Event and Data are kept for cache channels, whose last event the
	// HTTP API reports.
	Event string
	Data  string
	// SocketID is excluded from delivery when set.
	SocketID  string
	Frame     []byte
	Cacheable bool
}

// Broker carries publications between the replicas of a cluster. Publish
// must deliver to every replica, this one included, by calling the
// handler given to Start.
type Broker interface {
	Start(h BrokerEventHandler) error
	Publish(ctx context.Context, p Publication) error
}

// BrokerEventHandler receives publications from a Broker. The hub is one;
// broker implementations never see hub internals.
type BrokerEventHandler interface {
	HandlePublication(p Publication)
}

// MemoryBroker is the in-process Broker of a single replica.
type MemoryBroker struct {
	h BrokerEventHandler
}

// NewMemoryBroker returns an in-process broker.
func NewMemoryBroker() *MemoryBroker { return &MemoryBroker{} }

// Start implements Broker.
func (b *MemoryBroker) Start(h BrokerEventHandler) error {
	b.h = h
	return nil
}

// Publish implements Broker by delivering synchronously.
func (b *MemoryBroker) Publish(_ context.Context, p Publication) error {
	b.h.HandlePublication(p)
	return nil
}
