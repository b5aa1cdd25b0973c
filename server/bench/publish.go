package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-inbox/switchboard/server/pusherapi"
)

// eventName is the name of every event the bench publishes.
const eventName = "bench"

// maxErrorBody bounds how much of an error response is kept as an example.
const maxErrorBody = 200

// signQuery returns the query of a signed Pusher HTTP API request.
func signQuery(method, path, key, secret string, body []byte, now time.Time) url.Values {
	return pusherapi.SignedQuery(method, path, key, secret, body, now)
}

// triggerBody is the body of POST /apps/{id}/events.
type triggerBody struct {
	Name     string   `json:"name"`
	Channels []string `json:"channels"`
	Data     string   `json:"data"`
}

// publisher sends the bench's events through the HTTP API and remembers
// which ones the server accepted, per channel.
type publisher struct {
	cfg        *Config
	runID      uint32
	client     *http.Client
	eventsURL  string
	eventsPath string
	errs       *errorLog
	// onAccepted is told about every publish the server accepted.
	onAccepted func(channel int)

	attempted atomic.Int64
	accepted  atomic.Int64
	failed    atomic.Int64

	mu sync.Mutex
	// ok holds, per channel, the sequence numbers the server accepted.
	ok []seqSet
}

// newPublisher returns a publisher with its own HTTP transport, sized to
// the publish concurrency so connections are reused, not churned.
func newPublisher(cfg *Config, runID uint32, eventsURL, eventsPath string, errs *errorLog, onAccepted func(int)) *publisher {
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.RequestTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.PublishConcurrency,
		MaxIdleConnsPerHost: cfg.PublishConcurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.RequestTimeout,
		ForceAttemptHTTP2:   true,
	}
	return &publisher{
		cfg:        cfg,
		runID:      runID,
		client:     &http.Client{Transport: transport},
		eventsURL:  eventsURL,
		eventsPath: eventsPath,
		errs:       errs,
		onAccepted: onAccepted,
		ok:         make([]seqSet, cfg.Channels),
	}
}

// run publishes at the configured rate until the planned number is sent or
// launchCtx ends, then waits for requests in flight. Requests run under
// ctx, so the end of the phase does not cut them off but Ctrl-C does.
func (p *publisher) run(ctx, launchCtx context.Context) error {
	total := p.cfg.plannedPublishes()
	sem := make(chan struct{}, p.cfg.PublishConcurrency)
	var inflight sync.WaitGroup
	_, err := pace(launchCtx, p.cfg.Rate, total, sem, func(i int) {
		inflight.Go(func() {
			defer func() { <-sem }()
			p.publish(ctx, i)
		})
	})
	inflight.Wait()
	p.client.CloseIdleConnections()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// publish sends event i: to channel i mod M with sequence i div M, so every
// channel's sequences are dense from zero.
func (p *publisher) publish(ctx context.Context, i int) {
	channel, seq := i%p.cfg.Channels, i/p.cfg.Channels
	p.attempted.Add(1)
	h := payloadHeader{run: p.runID, channel: channel, seq: seq, ts: time.Now().UnixNano()}
	data := appendPayload(make([]byte, 0, max(p.cfg.Payload, 64)), h, p.cfg.Payload)
	body, err := json.Marshal(triggerBody{Name: eventName, Channels: []string{p.cfg.channelName(channel)}, Data: string(data)})
	if err != nil {
		p.fail("publish: encode", err)
		return
	}
	status, respBody, err := p.post(ctx, body)
	switch {
	case err != nil && ctx.Err() != nil:
		p.fail("publish: interrupted", err)
	case errors.Is(err, context.DeadlineExceeded):
		p.fail("publish: timeout", err)
	case err != nil:
		p.fail("publish: request failed", err)
	case status < 200 || status > 299:
		p.fail("publish: HTTP "+strconv.Itoa(status), fmt.Errorf("%s", respBody))
	default:
		p.accepted.Add(1)
		p.mu.Lock()
		p.ok[channel].add(seq)
		p.mu.Unlock()
		p.onAccepted(channel)
	}
}

// fail counts one failed publish.
func (p *publisher) fail(kind string, err error) {
	p.failed.Add(1)
	p.errs.add(kind, err)
}

// post sends one signed trigger request and returns the status and, for
// errors, the start of the response body.
func (p *publisher) post(ctx context.Context, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.RequestTimeout)
	defer cancel()
	q := signQuery(http.MethodPost, p.eventsPath, p.cfg.AppKey, p.cfg.AppSecret, body, time.Now())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.eventsURL+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("bench: build publish request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("bench: publish: %w", err)
	}
	defer resp.Body.Close()
	var snippet string
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		snippet = strings.TrimSpace(string(b))
	}
	// Drain the rest so the connection is reused; a failure here only
	// costs that reuse.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, snippet, nil
}

// acceptedSeqs returns the accepted sequence numbers of channel. Call after
// run has returned.
func (p *publisher) acceptedSeqs(channel int) seqSet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok[channel]
}

// pace calls launch(i) for i in [0, total) at rate per second, acquiring a
// slot in sem before each call; launch's work releases it. rate 0 launches
// as fast as sem allows. A pacer that falls behind catches up at once
// rather than drifting, so the average rate holds. It returns how many it
// launched and ctx's error if ctx ended first.
func pace(ctx context.Context, rate float64, total int, sem chan struct{}, launch func(int)) (int, error) {
	var tick <-chan time.Time
	if rate > 0 {
		interval := max(time.Duration(float64(time.Second)/rate), time.Millisecond)
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	i := 0
	for i < total {
		due := total
		if rate > 0 {
			due = min(total, int(time.Since(start).Seconds()*rate)+1)
		}
		for ; i < due; i++ {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return i, ctx.Err()
			}
			launch(i)
		}
		if i >= total {
			break
		}
		select {
		case <-tick:
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	return i, nil
}
