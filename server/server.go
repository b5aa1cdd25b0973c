// Package server is Switchboard's HTTP surface: it routes the Pusher
// websocket endpoint to the hub, the Pusher HTTP API to pusherapi, browser
// sign-in to auth (which also guards the REST API and channel
// authorization for signed-in browsers), and serves health, readiness,
// metrics, provider webhooks (server/channels), the signed links
// providers fetch agents' files from (/media/public/, server/media), the
// Chrome extension's connect page and download (/extension/,
// server/extension) and the embedded web UI. Each concern lives in a
// sub-package; this one only wires them to URLs.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard-inbox/switchboard/hub"
	"github.com/switchboard-inbox/switchboard/server/pusherapi"
	"github.com/switchboard-inbox/switchboard/static"
)

// Options are what the HTTP surface is built from.
type Options struct {
	Hub    *hub.Hub
	Apps   hub.AppStore
	Logger *slog.Logger
	// Store is checked by /readyz; nil skips the check.
	Store interface{ Ping(context.Context) error }
	// Gatherer is exported at /metrics; nil serves no metrics.
	Gatherer prometheus.Gatherer
	// MaxRequestBytes bounds a Pusher HTTP API request body.
	MaxRequestBytes int64
	// API is the inbox REST API, served under /api/v1/; nil serves none.
	API http.Handler
	// PusherAuth signs channel subscriptions for pusher-js at
	// /pusher/auth; nil serves none.
	PusherAuth http.Handler
	// PusherUserAuth signs pusher-js's pusher:signin at
	// /pusher/user-auth; nil serves none.
	PusherUserAuth http.Handler
	// Channels receives provider webhooks (server/channels/...) under
	// /channels/; nil serves none. Providers sign their own requests, so
	// sign-in does not guard it.
	Channels http.Handler
	// PublicMedia serves the signed links to agents' attachments that
	// providers fetch (server/media.PublicPath); no session or token.
	PublicMedia http.Handler
	// Auth is browser sign-in (server/auth), served under /auth/. It
	// also guards the API and the two Pusher endpoints above, so a
	// signed-in browser may use them with its session cookie. Nil serves
	// bearer tokens only.
	Auth Auth
	// Extension serves the Chrome extension's connect page and download
	// (server/extension) under /extension/; nil serves none.
	Extension http.Handler
}

// Auth is browser sign-in as the server mounts it.
type Auth interface {
	// Handler serves the /auth/ routes.
	Handler() http.Handler
	// Protect lets a signed-in browser session reach next: it loads the
	// session and refuses unsafe cross-origin requests made with it.
	Protect(next http.Handler) http.Handler
}

// New returns the server's root handler.
func New(opts Options) http.Handler {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()

	mux.Handle("GET /app/", opts.Hub)
	mux.Handle("/apps/", pusherapi.New(opts.Hub, opts.Apps, pusherapi.Options{
		Logger:       log,
		MaxBodyBytes: opts.MaxRequestBytes,
	}))

	protect := func(h http.Handler) http.Handler { return h }
	if opts.Auth != nil {
		protect = opts.Auth.Protect
		mux.Handle("/auth/", opts.Auth.Handler())
	}
	if opts.API != nil {
		mux.Handle("/api/v1/", protect(opts.API))
	}
	if opts.PusherAuth != nil {
		mux.Handle("/pusher/auth", protect(opts.PusherAuth))
	}
	if opts.PusherUserAuth != nil {
		mux.Handle("/pusher/user-auth", protect(opts.PusherUserAuth))
	}
	if opts.Channels != nil {
		mux.Handle("/channels/", opts.Channels)
	}
	if opts.PublicMedia != nil {
		mux.Handle("/media/public/", opts.PublicMedia)
	}
	if opts.Extension != nil {
		mux.Handle("/extension/", protect(opts.Extension))
	}

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := opts.Hub.Ready(ctx)
		if err == nil && opts.Store != nil {
			if err = opts.Store.Ping(ctx); err != nil {
				err = fmt.Errorf("store: %w", err)
			}
		}
		if err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if opts.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	}

	files := http.FileServerFS(static.FS)
	mux.Handle("GET /static/", withUIHeaders(http.StripPrefix("/static/", files)))
	mux.Handle("GET /{$}", withUIHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, err := fs.ReadFile(static.FS, "index.html")
		if err != nil {
			log.Error("read embedded index.html", slog.Any("err", err))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})))
	// The catch-all below would otherwise answer a known path with the
	// wrong method as 404; these twins answer 405 with Allow.
	getOnly := []string{"/app/", "/healthz", "/readyz", "/static/", "/{$}"}
	if opts.Gatherer != nil {
		getOnly = append(getOnly, "/metrics")
	}
	for _, path := range getOnly {
		mux.HandleFunc(path, methodNotAllowed)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})
	return mux
}

// withUIHeaders sets the headers every UI response carries: a strict
// Content-Security-Policy (no inline scripts or styles), no framing, no
// MIME sniffing.
func withUIHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// methodNotAllowed answers a request to a GET-only path with another method.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
