package auth

import (
	"encoding/json"
	"net/http"
	"strings"
)

// devForm serves GET /auth/dev: the development sign-in's form.
func (a *Auth) devForm(w http.ResponseWriter, r *http.Request) {
	if !a.devLogin {
		writeError(w, http.StatusNotFound, "not_found", "the development sign-in is off (SWITCHBOARD_DEV_LOGIN)", "")
		return
	}
	writePage(w, http.StatusOK, page{
		Title:   "Development sign-in",
		Message: "Sign in as anyone, with no password. This server allows it because SWITCHBOARD_DEV_LOGIN is on and it listens on loopback only.",
		DevForm: true,
	})
}

// devSignIn serves POST /auth/dev with {email, name} as a form or JSON:
// it signs the browser in as that person, creating them and a workspace
// as a first Google sign-in would. It answers a form with 303 to the
// inbox and JSON with the session (as GET /auth/session). The domain of
// the email stands for Google's hosted domain.
//
// Besides the loopback listen address New insists on, it refuses a
// request that came through a proxy (which could be reaching loopback on
// behalf of anyone) or from another machine.
func (a *Auth) devSignIn(w http.ResponseWriter, r *http.Request) {
	if !a.devLogin {
		writeError(w, http.StatusNotFound, "not_found", "the development sign-in is off (SWITCHBOARD_DEV_LOGIN)", "")
		return
	}
	if proxied(r) || !isLoopback(r.RemoteAddr) {
		writeError(w, http.StatusForbidden, "forbidden", "the development sign-in only serves browsers on this machine, not through a proxy", "")
		return
	}
	var in struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, "malformed_json", `the body must be {"email", "name"}`, "")
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "invalid", "the body must be a form with email and name", "")
			return
		}
		in.Email, in.Name = r.PostForm.Get("email"), r.PostForm.Get("name")
	}
	in.Email = strings.TrimSpace(in.Email)
	_, domain, _ := strings.Cut(in.Email, "@")
	a.signIn(w, r, identity{Method: "dev", Email: in.Email, Name: in.Name, HostedDomain: domain})
}

// proxied reports whether a proxy forwarded the request.
func proxied(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}
