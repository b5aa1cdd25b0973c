package connector

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// InboxFinder finds a webhook's inbox by id alone.
type InboxFinder interface {
	WebhookInbox(ctx context.Context, inboxID int64) (store.Inbox, error)
}

// LoadInbox loads the inbox a webhook request's {inbox_id} names and opens
// its configuration with open, or answers the request itself and returns
// ok false: 404 for an unknown id or an inbox of another kind, 503 when
// the credentials cannot be opened (no SWITCHBOARD_SECRET_KEY, none
// configured, or sealed under another key), 500 when the store fails.
// name is how the errors call the inbox ("WhatsApp", "SMS", …).
func LoadInbox[C any](w http.ResponseWriter, r *http.Request, st InboxFinder, kind store.InboxKind, name string, log *slog.Logger,
	open func(store.Inbox) (C, error)) (in store.Inbox, cfg C, ok bool) {
	notFound := "no such " + name + " inbox"
	id, err := strconv.ParseInt(r.PathValue("inbox_id"), 10, 64)
	if err != nil || id <= 0 {
		WriteError(w, http.StatusNotFound, "not_found", notFound)
		return in, cfg, false
	}
	in, err = st.WebhookInbox(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && in.Kind != kind) {
		WriteError(w, http.StatusNotFound, "not_found", notFound)
		return store.Inbox{}, cfg, false
	}
	if err != nil {
		log.Error("webhook: load inbox", slog.String("kind", string(kind)), slog.Int64("inbox", id), slog.Any("err", err))
		WriteError(w, http.StatusInternalServerError, "internal", "internal error")
		return store.Inbox{}, cfg, false
	}
	if cfg, err = open(in); err != nil {
		msg := name + " inbox credentials cannot be read"
		switch {
		case errors.Is(err, ErrUnavailable):
			msg = name + " connector unavailable: SWITCHBOARD_SECRET_KEY is not set"
		case errors.Is(err, ErrNotConfigured):
			msg = name + " inbox has no credentials configured"
		default:
			log.Error("webhook: open credentials", slog.String("kind", string(kind)), slog.Int64("workspace", in.WorkspaceID),
				slog.Int64("inbox", in.ID), slog.Any("err", err))
		}
		WriteError(w, http.StatusServiceUnavailable, "unavailable", msg)
		return store.Inbox{}, cfg, false
	}
	return in, cfg, true
}
