package auth

import (
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

// errorBody is the JSON shape of every error answer, as in the REST API:
// {"error":{"code","message","field"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, message, field string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message, Field: field}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is already sent; a failed write means the client went
	// away, and there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// internal logs err and answers a bare 500.
func (a *Auth) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.log.ErrorContext(r.Context(), "auth: "+what+" failed", slog.String("path", r.URL.Path), slog.Any("err", err))
	writeError(w, http.StatusInternalServerError, "internal", "internal server error", "")
}

// refuse answers a sign-in that did not happen: a page saying why to a
// browser, the JSON error to anything else.
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	if wantsJSON(r) {
		writeError(w, status, code, message, "")
		return
	}
	writePage(w, status, page{Title: "You are not signed in", Message: message, Retry: a.google != nil})
}

// wantsJSON reports whether the client asked for JSON rather than a page:
// it sent JSON, or accepts JSON and not HTML.
func wantsJSON(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return true
	}
	accept := r.Header.Get("Accept")
	return !strings.Contains(accept, "text/html") && (strings.Contains(accept, "application/json") || accept == "")
}

// page is what the HTML pages show.
type page struct {
	Title   string
	Message string
	// Retry offers Google sign-in again.
	Retry bool
	// DevForm shows the development sign-in form.
	DevForm bool
}

// pageHTML is every page sign-in shows: no script and no inline style, so
// the UI's strict Content-Security-Policy holds.
var pageHTML = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{.Title}} · Switchboard</title>
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main>
  <h1>{{.Title}}</h1>
  {{if .Message}}<p>{{.Message}}</p>{{end}}
  {{if .DevForm}}
  <form method="post" action="/auth/dev">
    <p><label>Email <input type="email" name="email" required autocomplete="email"></label></p>
    <p><label>Name <input type="text" name="name" autocomplete="name"></label></p>
    <p><button type="submit">Sign in</button></p>
  </form>
  {{end}}
  {{if .Retry}}<p><a href="/auth/google">Sign in with Google</a></p>{{end}}
  <p><a href="/">Back to Switchboard</a></p>
</main>
</body>
</html>
`))

func writePage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	// As in writeJSON: the status is sent, and a failed write has no
	// reader left. The template cannot fail on a page value.
	_ = pageHTML.Execute(w, p)
}
