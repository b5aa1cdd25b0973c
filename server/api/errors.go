package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
)

// errorBody is the JSON shape of every error response:
// {"error":{"code":...,"message":...,"field":...}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError writes a JSON error response.
func writeError(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message, Field: field}})
}

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is already sent; a failed write means the client went
	// away, and there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// fail translates err into an HTTP error response: the one place where
// store errors become statuses. Errors the client cannot act on are logged
// and answered with a generic 500 that reveals nothing.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verr *store.ValidationError
		rerr *requestError
		perr *store.PolicyError
	)
	switch {
	case errors.As(err, &rerr):
		writeError(w, rerr.status, rerr.code, rerr.message, rerr.field)
	case errors.As(err, &perr):
		writeError(w, http.StatusUnprocessableEntity, perr.Code, perr.Message, "")
	case errors.As(err, &verr):
		writeError(w, http.StatusBadRequest, "invalid", verr.Message, verr.Field)
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid", "invalid input", "")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found", "")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "conflicts with existing data", "")
	case errors.Is(err, store.ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", "no member may grant, change or remove a role stronger than its own", "")
	case errors.Is(err, store.ErrEventsGone):
		writeError(w, http.StatusGone, "events_gone", "events after this sequence number are no longer retained; refetch state", "")
	case errors.Is(err, store.ErrUnauthenticated):
		unauthenticated(w, "invalid or revoked token")
	default:
		attrs := []any{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err)}
		if p, ok := principalFrom(r.Context()); ok {
			attrs = append(attrs, slog.Int64("workspace", p.Workspace.ID))
		}
		h.log.ErrorContext(r.Context(), "api: request failed", attrs...)
		writeError(w, http.StatusInternalServerError, "internal", "internal server error", "")
	}
}

// requestError is a client error found by the API itself, before the store
// is asked: an unparseable body or query, a body too large.
type requestError struct {
	status  int
	code    string
	message string
	field   string
}

func (e *requestError) Error() string { return "api: " + e.code + ": " + e.message }

// invalid returns a 400 "invalid" error naming field.
func invalid(field, message string) error {
	return &requestError{status: http.StatusBadRequest, code: "invalid", message: message, field: field}
}

// forbidden is the answer to a principal whose role lacks the permission
// need.
func forbidden(need access.Action, role store.Role) error {
	return &requestError{status: http.StatusForbidden, code: "forbidden",
		message: fmt.Sprintf("this needs the %s permission, which the %s role does not have", need, role)}
}

// conflict is a 409 naming the field whose value is taken.
func conflict(field, message string) error {
	return &requestError{status: http.StatusConflict, code: "conflict", message: message, field: field}
}

// notFound is the answer for an id that cannot exist, such as "abc".
func notFound() error {
	return &requestError{status: http.StatusNotFound, code: "not_found", message: "not found"}
}

func unauthenticated(w http.ResponseWriter, message string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	writeError(w, http.StatusUnauthorized, "unauthenticated", message, "")
}
