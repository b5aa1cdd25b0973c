package extension

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/switchboard-inbox/switchboard/server/store"
)

// page is what the connect page shows.
type page struct {
	Title string
	// Message explains the state the page is in.
	Message string
	// SignIn offers a link to sign in first.
	SignIn bool
	// Approve shows the approval form for Agent in Workspace, carrying
	// Nonce.
	Approve   bool
	Agent     string
	Workspace string
	Nonce     string
	// Handoff carries the new token to the extension.
	Handoff *handoff
}

// handoff is the token given to the extension, and the nonce it asked
// with.
type handoff struct {
	Nonce   string
	Token   string
	TokenID int64
}

// connectPage serves GET /extension/connect?nonce=: for a signed-in
// browser the approval form, otherwise a link to sign in.
func (h *handler) connectPage(w http.ResponseWriter, r *http.Request) {
	nonce := r.URL.Query().Get("nonce")
	if !nonceRe.MatchString(nonce) {
		writePage(w, http.StatusBadRequest, page{Title: "Open this page from the extension",
			Message: "This page connects the Switchboard Chrome extension, and the extension opens it itself: in the extension's options, enter this server's address and choose Connect."})
		return
	}
	p, ok, err := h.session(r)
	if err != nil {
		h.internalPage(w, r, "resolve session", err)
		return
	}
	if !ok {
		writePage(w, http.StatusUnauthorized, page{Title: "Sign in first",
			Message: "Sign in to Switchboard in this browser, then come back to this tab and reload it to connect the extension.", SignIn: true})
		return
	}
	writePage(w, http.StatusOK, page{Title: "Connect the Chrome extension", Approve: true, Nonce: nonce,
		Agent: agentName(p), Workspace: p.Workspace.Name})
}

// connect serves POST /extension/connect: mints the extension's token for
// the signed-in agent and hands it over.
func (h *handler) connect(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, page{Title: "Something went wrong", Message: "The form could not be read; start again from the extension."})
		return
	}
	nonce := r.PostForm.Get("nonce")
	if !nonceRe.MatchString(nonce) {
		writePage(w, http.StatusBadRequest, page{Title: "Open this page from the extension",
			Message: "The request did not come from the extension's connect button; start again from the extension's options."})
		return
	}
	p, ok, err := h.session(r)
	if err != nil {
		h.internalPage(w, r, "resolve session", err)
		return
	}
	if !ok {
		writePage(w, http.StatusUnauthorized, page{Title: "Sign in first",
			Message: "Your session has ended. Sign in to Switchboard, then start again from the extension.", SignIn: true})
		return
	}
	t, plaintext, err := h.store.CreateAPIToken(r.Context(), p.Workspace.ID, store.NewAPIToken{
		AgentID: p.Agent.ID, Name: TokenName, Role: store.RoleAgent, By: store.ActorOf(p),
	})
	if errors.Is(err, store.ErrForbidden) || errors.Is(err, store.ErrNotFound) {
		writePage(w, http.StatusForbidden, page{Title: "Not allowed", Message: "You cannot connect the extension to this workspace."})
		return
	}
	if err != nil {
		h.internalPage(w, r, "create token", err)
		return
	}
	h.log.Info("extension connected", slog.Int64("workspace", p.Workspace.ID), slog.Int64("agent", p.Agent.ID), slog.Int64("token_id", t.ID))
	writePage(w, http.StatusOK, page{Title: "Connecting the extension…", Agent: agentName(p), Workspace: p.Workspace.Name,
		Message: "Handing the connection to the extension…",
		Handoff: &handoff{Nonce: nonce, Token: plaintext, TokenID: t.ID}})
}

// script serves the connect page's script.
func (h *handler) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(connectScript)
}

func agentName(p store.Principal) string {
	if p.Agent.Name != "" {
		return p.Agent.Name + " (" + p.Agent.Email + ")"
	}
	return p.Agent.Email
}

func (h *handler) internalPage(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.log.Error("extension: "+what, slog.String("path", r.URL.Path), slog.Any("err", err))
	writePage(w, http.StatusInternalServerError, page{Title: "Something went wrong", Message: "The server could not connect the extension; try again."})
}

// writePage renders the connect page under a strict Content-Security-Policy
// (its one script is connect.js), never cached: it may carry a token.
func writePage(w http.ResponseWriter, status int, p page) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	// The template cannot fail on a page value; a failed write has no
	// reader left.
	_ = pageTemplate.Execute(w, p)
}
