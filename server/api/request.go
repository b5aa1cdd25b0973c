package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// decodeBody decodes the JSON request body into v, strictly: the body must
// be application/json, at most maxBody bytes, one JSON value with no
// fields v does not know.
func (h *handler) decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", message: "the body must be application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err, h.maxBody)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("trailing data")
		}
		return bodyError(err, h.maxBody)
	}
	return nil
}

// bodyError classifies a JSON decoding failure.
func bodyError(err error, limit int64) error {
	var (
		tooBig  *http.MaxBytesError
		typeErr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return &requestError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			message: fmt.Sprintf("the body is larger than %d bytes", limit)}
	case errors.As(err, &typeErr):
		return invalid(typeErr.Field, fmt.Sprintf("must be %s", typeErr.Type))
	// encoding/json has no typed error for an unknown field, only this
	// documented message form (tested by TestBadRequests).
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &requestError{status: http.StatusBadRequest, code: "unknown_field", message: "unknown field", field: field}
	case errors.Is(err, io.EOF):
		return &requestError{status: http.StatusBadRequest, code: "malformed_json", message: "the body is empty"}
	}
	return &requestError{status: http.StatusBadRequest, code: "malformed_json", message: "the body is not valid JSON"}
}

// pathID parses the {name} path value as a positive id. Anything else
// cannot name a row, so it is not found, like an unknown id.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound()
	}
	return id, nil
}

// queryInt parses an optional integer query parameter within [lo, hi];
// def when absent.
func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return n, nil
}

// patchBody is a PATCH request body that becomes a store update U.
type patchBody[U any] interface {
	update() (U, error)
}

// servePatch serves PATCH on a row of the principal's workspace named by
// the path's {id}: it decodes body, turns it into an update, applies it
// and answers 200 with the row. mapErr, when set, refines the store's
// error (naming the field of a conflict) before it is answered.
func servePatch[U, R any](h *handler, w http.ResponseWriter, r *http.Request, body patchBody[U],
	apply func(ctx context.Context, workspaceID, id int64, u U) (R, error), mapErr func(error) error) {
	id, err := pathID(r, "id")
	if err == nil {
		err = h.decodeBody(w, r, body)
	}
	var u U
	if err == nil {
		u, err = body.update()
	}
	var row R
	if err == nil {
		row, err = apply(r.Context(), principal(r).Workspace.ID, id, u)
		if err != nil && mapErr != nil {
			err = mapErr(err)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, row)
}
