package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

type principalKey struct{}

// principalFrom returns the authenticated principal of the request.
func principalFrom(ctx context.Context) (store.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(store.Principal)
	return p, ok
}

// principal returns the request's principal. Every route sits behind
// authenticate, so it is always there.
func principal(r *http.Request) store.Principal {
	p, _ := principalFrom(r.Context())
	return p
}

// Sessions resolves a request's signed-in browser session to the
// principal it acts as; ok is false when it has none. server/auth
// implements it, and must have loaded the session (its Protect wraps the
// API).
type Sessions interface {
	Principal(r *http.Request) (p store.Principal, ok bool, err error)
}

// authenticate resolves the bearer token of every request into a
// store.Principal in the request context, or answers 401. Unknown, revoked
// and malformed tokens get the same answer. A request with no
// Authorization header at all is resolved by its browser session instead,
// when Options.Sessions is set; a token, when sent, always decides.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.sessions != nil && r.Header.Get("Authorization") == "" {
			p, ok, err := h.sessions.Principal(r)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if !ok {
				unauthenticated(w, "sign in, or send an Authorization: Bearer token")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			unauthenticated(w, "an Authorization: Bearer token is required")
			return
		}
		p, err := h.store.AuthenticateToken(r.Context(), token)
		if errors.Is(err, store.ErrUnauthenticated) {
			unauthenticated(w, "invalid or revoked token")
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// authorize answers 403 unless the principal's role grants need (see
// server/access). It runs after authenticate, once per route, so no handler
// checks permissions itself.
func (h *handler) authorize(need access.Action, next http.HandlerFunc) http.Handler {
	if !need.Valid() {
		// A route without a permission is a programming error: refuse to
		// build the API rather than serve it unguarded.
		panic(fmt.Sprintf("api: route needs unknown permission %q", need))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := principal(r); !access.Can(p.Role, need) {
			h.fail(w, r, forbidden(need, p.Role))
			return
		}
		next(w, r)
	})
}
