// Package pusherapi serves the Pusher Channels HTTP API — the signed REST
// interface app servers use to trigger events and query channel state — as
// an http.Handler over the hub. It owns request signing, validation and the
// exact reply shapes Pusher's server libraries parse; the hub owns the
// sockets and channels those requests act on.
package pusherapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/hub"
)

// DefaultMaxBodyBytes bounds a request body when Options.MaxBodyBytes is
// zero. Ten events of 10 KB each, JSON-escaped, fit with room to spare.
const DefaultMaxBodyBytes = 1 << 20

// Hub is what the HTTP API needs of the realtime hub; *hub.Hub implements it.
type Hub interface {
	// Publish delivers ev to its channels' subscribers, except the
	// connection named by ev.SocketID.
	Publish(ctx context.Context, app *hub.App, ev hub.Event) error
	// Channels lists the app's occupied channels whose names start with
	// prefix.
	Channels(ctx context.Context, app *hub.App, prefix string) ([]hub.ChannelInfo, error)
	// Channel reports one channel's state, occupied or not.
	Channel(ctx context.Context, app *hub.App, name string) (hub.ChannelInfo, error)
	// PresenceUsers lists the user ids on a presence channel.
	PresenceUsers(ctx context.Context, app *hub.App, channel string) ([]string, error)
	// TerminateUserConnections closes every connection signed in as userID.
	TerminateUserConnections(ctx context.Context, app *hub.App, userID string) error
}

// Options tunes the handler; the zero value is usable.
type Options struct {
	// Logger receives debug lines for rejected requests and errors for
	// failures; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds a request body (413 beyond); zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now is the clock auth_timestamp is checked against; nil means
	// time.Now. Tests inject a fixed clock.
	Now func() time.Time
}

// handler serves the API. Its fields never change after New, so it is safe
// for concurrent use.
type handler struct {
	hub     Hub
	apps    hub.AppStore
	log     *slog.Logger
	maxBody int64
	now     func() time.Time
	mux     *http.ServeMux
}

// New returns the Pusher HTTP API handler. Mount it so that it sees the full
// request path (/apps/...): the signature covers the path.
func New(h Hub, apps hub.AppStore, opts Options) http.Handler {
	s := &handler{hub: h, apps: apps, log: opts.Logger, maxBody: opts.MaxBodyBytes, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux = http.NewServeMux()
	s.route(http.MethodPost, "/apps/{app_id}/events", s.triggerEvent)
	s.route(http.MethodPost, "/apps/{app_id}/batch_events", s.triggerBatch)
	s.route(http.MethodGet, "/apps/{app_id}/channels", s.listChannels)
	s.route(http.MethodGet, "/apps/{app_id}/channels/{channel_name}", s.channelInfo)
	s.route(http.MethodGet, "/apps/{app_id}/channels/{channel_name}/users", s.channelUsers)
	s.route(http.MethodPost, "/apps/{app_id}/users/{user_id}/terminate_connections", s.terminateConnections)
	// ServeMux's own 404 and 405 replies are text/plain; the API promises
	// JSON for every error, so both are answered here instead.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, "", errorf(http.StatusNotFound, "not found: %s", r.URL.Path))
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// call is one authenticated API request, handed to an endpoint.
type call struct {
	app   *hub.App
	body  []byte
	query map[string]string // lower-cased keys, decoded values
	r     *http.Request
}

// endpoint answers one call with a value to encode as the JSON reply, or an
// error: an *apiError for a refusal, anything else for a failure (500).
type endpoint func(ctx context.Context, c *call) (any, error)

// route registers ep for method and path, plus a method-less twin of the
// same path that answers 405: ServeMux prefers the pattern with a method, so
// the twin only sees the wrong methods.
func (s *handler) route(method, path string, ep endpoint) {
	s.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, ep)
	})
	allow := method
	if method == http.MethodGet {
		allow += ", " + http.MethodHead
	}
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.fail(w, r.PathValue("app_id"), errorf(http.StatusMethodNotAllowed, "method %s not allowed, use %s", r.Method, method))
	})
}

// serve runs the steps every endpoint shares, in the order that reveals the
// least to an unauthenticated caller: find the app (404), read the bounded
// body (413), check the signature (401), and only then say the app is
// disabled (403).
func (s *handler) serve(w http.ResponseWriter, r *http.Request, ep endpoint) {
	ctx := r.Context()
	appID := r.PathValue("app_id")
	app, err := s.apps.AppByID(ctx, appID)
	if err != nil {
		if errors.Is(err, hub.ErrAppNotFound) {
			s.fail(w, appID, errorf(http.StatusNotFound, "unknown app %q", clip(appID)))
			return
		}
		s.fail(w, appID, fmt.Errorf("pusherapi: look up app: %w", err))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			s.fail(w, appID, errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit))
			return
		}
		s.fail(w, appID, errorf(http.StatusBadRequest, "read body: %v", err))
		return
	}
	if err := Verify(r, body, app, s.now()); err != nil {
		s.fail(w, appID, &apiError{status: http.StatusUnauthorized, msg: err.Error()})
		return
	}
	if !app.Enabled {
		s.fail(w, appID, errorf(http.StatusForbidden, "app %s is disabled", appID))
		return
	}
	// Verify parsed the same query successfully, so this cannot fail.
	query, _ := parseQuery(r.URL.RawQuery)
	reply, err := ep(ctx, &call{app: app, body: body, query: query, r: r})
	if err != nil {
		s.fail(w, appID, err)
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// apiError is a refusal with the HTTP status that says why.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// errorf builds an apiError with a formatted message.
func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// fail answers err as {"error": "..."}. Refusals are the caller's fault and
// logged at debug; anything else is ours, logged as an error, and its detail
// kept out of the reply.
func (s *handler) fail(w http.ResponseWriter, appID string, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Error("pusher api request failed", slog.String("app", appID), slog.Any("error", err))
		writeJSON(w, http.StatusInternalServerError, errorReply{Error: "internal server error"})
		return
	}
	s.log.Debug("pusher api request rejected",
		slog.String("app", appID), slog.Int("status", ae.status), slog.String("reason", ae.msg))
	writeJSON(w, ae.status, errorReply{Error: ae.msg})
}

// errorReply is the body of every error response.
type errorReply struct {
	Error string `json:"error"`
}

// writeJSON encodes v as the reply. The values are our own reply structs, so
// encoding cannot fail.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// A failed write means the client has gone; there is no one to tell.
	_, _ = w.Write(append(b, '\n'))
}

// parseInfo splits an info parameter ("user_count,subscription_count") into
// a set, refusing attributes outside allowed.
func parseInfo(info string, allowed ...string) (map[string]bool, error) {
	set := make(map[string]bool)
	for attr := range strings.SplitSeq(info, ",") {
		attr = strings.TrimSpace(attr)
		if attr == "" {
			continue
		}
		if !slices.Contains(allowed, attr) {
			return nil, errorf(http.StatusBadRequest, "unknown info attribute %q (allowed: %s)", attr, strings.Join(allowed, ", "))
		}
		set[attr] = true
	}
	return set, nil
}

// The info attributes Pusher defines.
const (
	infoUserCount         = "user_count"
	infoSubscriptionCount = "subscription_count"
	infoCache             = "cache"
)
