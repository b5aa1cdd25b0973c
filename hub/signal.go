package hub

import (
	"context"
	"fmt"
	"strings"
)

// Signals carry the server's own messages between replicas, over the same
// broker as publications but never to a client: a signal's channel is
// "#signal-{name}" of the internal app signalApp, a name no client or
// HTTP API call can subscribe or publish to ('#' is not allowed in
// channel names). Every replica that called OnSignal for the name gets
// every signal sent under it, the sending replica included. Delivery is
// at most once: a signal sent while the broker is cut off from the other
// replicas reaches only this one.
const (
	signalApp    = "#switchboard"
	prefixSignal = "#signal-"
)

// OnSignal calls fn with the data of every signal sent under name, on any
// replica, from now on: it returns once the broker carries them here (or
// with the error that stopped it; signals of this replica arrive
// regardless). fn runs on the broker's delivery goroutine, so it must
// return quickly and never block. Handlers stay until the hub shuts down.
func (h *Hub) OnSignal(ctx context.Context, name string, fn func(data []byte)) error {
	h.sigMu.Lock()
	if h.signals == nil {
		h.signals = make(map[string][]func([]byte))
	}
	h.signals[name] = append(h.signals[name], fn)
	h.sigMu.Unlock()
	if h.cluster != nil {
		if err := h.cluster.Listen(ctx, signalApp, prefixSignal+name); err != nil {
			return fmt.Errorf("hub: listen for signal %s: %w", name, err)
		}
	}
	return nil
}

// Signal sends data under name to every replica's OnSignal handlers,
// this replica's included.
func (h *Hub) Signal(ctx context.Context, name string, data []byte) error {
	p := Publication{AppID: signalApp, Channel: prefixSignal + name, Frame: data}
	if err := h.broker.Publish(ctx, p); err != nil {
		return fmt.Errorf("hub: signal %s: %w", name, err)
	}
	return nil
}

// handleSignal delivers a signal publication to its handlers and reports
// whether p was one.
func (h *Hub) handleSignal(p Publication) bool {
	name, ok := strings.CutPrefix(p.Channel, prefixSignal)
	if !ok || p.AppID != signalApp {
		return false
	}
	h.sigMu.Lock()
	fns := h.signals[name]
	h.sigMu.Unlock()
	for _, fn := range fns {
		fn(p.Frame)
	}
	return true
}
