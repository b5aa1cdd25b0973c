package hub

import (
	"context"
	"encoding/json"
)

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
	// Terminate, on a #server-to-user-{id} channel, closes that user's
	// connections with 4009 instead of delivering a frame.
	Terminate bool
}

// Broker carries publications between the replicas of a cluster. Publish
// must deliver to every replica, this one included, by calling the
// handler given to Start.
type Broker interface {
	Start(h BrokerEventHandler) error
	Publish(ctx context.Context, p Publication) error
}

// BrokerEventHandler receives publications (and, from a Cluster, changes
// of cluster-wide state) from a Broker. The hub is one; broker
// implementations never see hub internals.
type BrokerEventHandler interface {
	HandlePublication(p Publication)
	HandleTransition(t Transition)
}

// Cluster is a Broker that joins several replicas into one Pusher server.
// Besides carrying publications it holds the state that must be counted
// once per cluster: channel occupancy, subscription counts, presence
// members and cache-channel events. A hub whose broker is a Cluster asks
// it, not its local state, whenever the answer depends on other replicas.
//
// The hub tells the cluster about its own share of that state with Change,
// in the order the changes happened; the cluster applies them
// asynchronously, so a slow or absent backend never blocks a connection's
// hot path, and reports each cluster-wide consequence exactly once, on one
// replica, to HandleTransition. A cluster that loses its backend re-sends
// this replica's whole share when it comes back.
type Cluster interface {
	Broker
	// Listen makes publications to the channel reach this replica and
	// returns once they will (or with the error that stopped it; local
	// delivery works regardless). Unlisten releases one Listen.
	Listen(ctx context.Context, appID, channel string) error
	Unlisten(appID, channel string)
	// Change queues a change of this replica's share of cluster state.
	Change(c StateChange)
	// Members returns a presence channel's members cluster-wide.
	Members(ctx context.Context, appID, channel string) (map[string]json.RawMessage, error)
	// Channels lists occupied channels whose names start with prefix;
	// Channel describes one channel, its cached event included.
	Channels(ctx context.Context, appID, prefix string) ([]ChannelInfo, error)
	Channel(ctx context.Context, appID, name string) (ChannelInfo, error)
	// CachedFrame returns a cache channel's last event frame, if any.
	CachedFrame(ctx context.Context, appID, channel string) ([]byte, bool, error)
	// Online returns which of users are signed in on some replica.
	Online(ctx context.Context, appID string, users []string) ([]string, error)
}

// ChangeKind names a StateChange.
type ChangeKind uint8

// The changes a hub reports to its Cluster.
const (
	// Subscribed and Unsubscribed: one local subscription more or less.
	Subscribed ChangeKind = iota + 1
	Unsubscribed
	// MemberJoined: a presence user's first connection on this replica;
	// MemberLeft: its last one left. On the internal channel "#online"
	// they track signed-in users, for watchlists.
	MemberJoined
	MemberLeft
)

// StateChange is one change of this replica's share of cluster state.
type StateChange struct {
	Kind     ChangeKind
	AppID    string
	Channel  string
	UserID   string          // MemberJoined, MemberLeft
	UserInfo json.RawMessage // MemberJoined
	// SocketID is the connection that caused the change; it is not told
	// about its own member_added.
	SocketID string
}

// TransitionKind names a Transition.
type TransitionKind uint8

// The cluster-wide transitions a Cluster reports.
const (
	ChannelOccupied TransitionKind = iota + 1
	ChannelVacated
	MemberAdded
	MemberRemoved
)

// Transition is a change of cluster-wide state, reported once per cluster:
// the hub that receives it sends the webhooks and member events.
type Transition struct {
	Kind     TransitionKind
	AppID    string
	Channel  string
	UserID   string
	UserInfo json.RawMessage
	SocketID string
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
