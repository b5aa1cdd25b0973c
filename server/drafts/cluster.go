package drafts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"time"
)

// A draft runs on the replica that started it, while what cancels it (an
// agent's reply, the customer writing again, AI turned off) may be
// committed on any replica. So every cancellation made here is also sent
// to the other replicas as a signal through the hub's broker (Signals),
// and each cancels its own matching drafts. A replica ignores its own
// signals: it acted on them already. Signals are best effort, like the
// broker's delivery: a draft a lost signal should have canceled still
// ends by Options.Timeout.

// signalName is the hub signal the replicas' drafts services share.
const signalName = "drafts"

// signalTimeout bounds sending one signal.
const signalTimeout = 2 * time.Second

// Signals is the hub's signal transport between replicas (hub.Hub).
type Signals interface {
	OnSignal(ctx context.Context, name string, fn func(data []byte)) error
	Signal(ctx context.Context, name string, data []byte) error
}

// cancelSignal is a cancellation made on the replica Origin: of one
// conversation's draft when Conversation is set (a newer customer message,
// id Inbound, started a fresh draft there, when set), else of the
// contact's drafts when Contact is set, else of the whole workspace's.
// With Forget it is instead the workspace's cached knowledge index
// dropped (ForgetIndex).
type cancelSignal struct {
	Origin       string `json:"origin"`
	Workspace    int64  `json:"workspace"`
	Conversation int64  `json:"conversation,omitempty"`
	Contact      int64  `json:"contact,omitempty"`
	Inbound      int64  `json:"inbound,omitempty"`
	Forget       bool   `json:"forget,omitempty"`
}

func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// listen subscribes the service to the other replicas' cancellations.
func (s *Service) listen(ctx context.Context) {
	if s.opt.Signals == nil {
		return
	}
	if err := s.opt.Signals.OnSignal(ctx, signalName, s.onSignal); err != nil {
		s.log.Warn("drafts: not listening for other replicas' cancellations", slog.Any("err", err))
	}
}

// broadcast tells the other replicas of a cancellation made here. It must
// not be called with s.mu held: a single-replica broker delivers the
// signal back synchronously.
func (s *Service) broadcast(sig cancelSignal) {
	if s.opt.Signals == nil {
		return
	}
	sig.Origin = s.origin
	b, err := json.Marshal(sig)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), signalTimeout)
	defer cancel()
	if err := s.opt.Signals.Signal(ctx, signalName, b); err != nil {
		s.log.Warn("drafts: cancellation not sent to the other replicas", slog.Int64("workspace", sig.Workspace),
			slog.Int64("conversation", sig.Conversation), slog.Any("err", err))
	}
}

// onSignal applies another replica's cancellation to the drafts here.
func (s *Service) onSignal(data []byte) {
	var sig cancelSignal
	if err := json.Unmarshal(data, &sig); err != nil || sig.Workspace == 0 {
		s.log.Warn("drafts: undecodable cancellation signal", slog.Int("bytes", len(data)))
		return
	}
	if sig.Origin == s.origin {
		return
	}
	switch {
	case sig.Forget:
		s.forgetIndex(sig.Workspace)
	case sig.Conversation != 0:
		s.cancelConversation(convKey{sig.Workspace, sig.Conversation}, sig.Inbound)
	case sig.Contact != 0:
		s.cancelWhere(func(k convKey, c *convState) bool { return k.workspace == sig.Workspace && c.contact == sig.Contact })
	default:
		s.cancelWhere(func(k convKey, _ *convState) bool { return k.workspace == sig.Workspace })
	}
}

// cancelConversation cancels key's running or queued draft, if any. A
// non-zero inbound is a customer message another replica drafts for: an
// older message's trigger arriving here late starts nothing.
func (s *Service) cancelConversation(key convKey, inbound int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[key]
	if !ok {
		return
	}
	c.gen++
	if c.cancel != nil {
		c.cancel()
	}
	c.lastInbound = max(c.lastInbound, inbound)
}
