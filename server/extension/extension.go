// Package extension is the server's side of the Chrome extension
// (static/extension): the page where a signed-in agent connects the
// extension, which mints a scoped API token and hands it to the
// extension's content script, and the packed extension, zipped from the
// embedded sources at request time, for admins to download.
//
// Routes (Handler):
//
//	GET  /extension/connect?nonce=     the approval page, for a signed-in browser
//	POST /extension/connect            {nonce}: mints an agent-role token and hands it over (same origin only)
//	GET  /extension/connect.js         the approval page's script (the page has no inline script)
//	GET  /extension/token              the API token the request authenticates with: {"id","name","agent_id","role"}
//	GET  /extension/switchboard.zip    the packed extension; manage_workspace (admins and owners)
//
// The hand-over. The extension opens the connect page with a one-time
// nonce of its own in the URL, after registering a content script for
// this origin. Approving posts the form back; the answer carries the new
// token and the nonce in data attributes, and connect.js posts them with
// window.postMessage to this origin only, where the content script takes
// them to the extension, which accepts the token only with the nonce it
// made. The token is named after the extension and has the agent role
// whatever the member's role is: it can read, reply and work
// conversations, never administer. Signing the extension out revokes it
// (DELETE /api/v1/tokens/{id}).
//
// Authentication. The connect routes act for the signed-in browser
// session (mount the handler behind auth.Protect, which also refuses an
// unsafe cross-origin request); /extension/token for an
// "Authorization: Bearer" token only; the download for either.
package extension

import (
	"archive/zip"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-inbox/switchboard/server/access"
	"github.com/switchboard-inbox/switchboard/server/store"
	staticext "github.com/switchboard-inbox/switchboard/static/extension"
)

// Paths of the routes.
const (
	ConnectPath   = "/extension/connect"
	ScriptPath    = "/extension/connect.js"
	TokenPath     = "/extension/token"
	DownloadPath  = "/extension/switchboard.zip"
	TokenName     = "Chrome extension"
	maxFormBytes  = 4 << 10
	manifestName  = "manifest.json"
	zipRootFolder = "switchboard-extension"
)

// nonceRe is what a nonce made by the extension looks like: URL-safe, long
// enough not to be guessed, short enough to be no payload.
var nonceRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)

// Store is what the handler needs of the store.
type Store interface {
	AuthenticateToken(ctx context.Context, plaintext string) (store.Principal, error)
	CreateAPIToken(ctx context.Context, workspaceID int64, t store.NewAPIToken) (store.APIToken, string, error)
}

// Sessions resolves a signed-in browser session (server/auth's Auth).
type Sessions interface {
	Principal(r *http.Request) (p store.Principal, ok bool, err error)
}

// Options configure the handler.
type Options struct {
	// Store mints and authenticates tokens. Required.
	Store Store
	// Sessions resolves browser sessions; nil means no browser can sign
	// in, and the connect page says so.
	Sessions Sessions
	// Logger receives failures the client cannot see the details of.
	Logger *slog.Logger
	// Files is the extension's directory; the embedded
	// static/extension when nil.
	Files fs.FS
}

type handler struct {
	store    Store
	sessions Sessions
	log      *slog.Logger
	files    fs.FS
}

// New returns the handler of the routes above; mount it at "/extension/"
// behind auth.Protect.
func New(opts Options) http.Handler {
	h := &handler{store: opts.Store, sessions: opts.Sessions, log: opts.Logger, files: opts.Files}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.files == nil {
		h.files = staticext.FS
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ConnectPath, h.connectPage)
	mux.HandleFunc("POST "+ConnectPath, h.connect)
	mux.HandleFunc(ConnectPath, methodNotAllowed("GET, HEAD, POST"))
	mux.HandleFunc("GET "+ScriptPath, h.script)
	mux.HandleFunc(ScriptPath, methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET "+TokenPath, h.token)
	mux.HandleFunc(TokenPath, methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET "+DownloadPath, h.download)
	mux.HandleFunc(DownloadPath, methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("/extension/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return mux
}

// session returns the signed-in browser's principal; ok is false when the
// request has none.
func (h *handler) session(r *http.Request) (store.Principal, bool, error) {
	if h.sessions == nil || r.Header.Get("Authorization") != "" {
		return store.Principal{}, false, nil
	}
	return h.sessions.Principal(r)
}

// bearer returns the principal of the request's bearer token; ok is false
// when it sends none, and err is store.ErrUnauthenticated for a bad one.
func (h *handler) bearer(r *http.Request) (store.Principal, bool, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return store.Principal{}, false, nil
	}
	scheme, token, _ := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return store.Principal{}, false, store.ErrUnauthenticated
	}
	p, err := h.store.AuthenticateToken(r.Context(), token)
	if err != nil {
		return store.Principal{}, false, err
	}
	return p, true, nil
}

// token serves GET /extension/token: which API token the request is made
// with, so that an extension connected with a pasted token can revoke it
// when signing out.
func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	p, ok, err := h.bearer(r)
	if errors.Is(err, store.ErrUnauthenticated) || (err == nil && !ok) {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "an Authorization: Bearer token is required")
		return
	}
	if err != nil {
		h.internal(w, r, "authenticate token", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": p.TokenID, "agent_id": p.Agent.ID, "role": p.Role, "workspace_id": p.Workspace.ID})
}

// download serves GET /extension/switchboard.zip to an admin or owner,
// signed in or with a token.
func (h *handler) download(w http.ResponseWriter, r *http.Request) {
	p, ok, err := h.bearer(r)
	if err == nil && !ok {
		p, ok, err = h.session(r)
	}
	switch {
	case errors.Is(err, store.ErrUnauthenticated) || (err == nil && !ok):
		writeError(w, http.StatusUnauthorized, "unauthenticated", "sign in as an admin, or send an Authorization: Bearer token")
		return
	case err != nil:
		h.internal(w, r, "authenticate", err)
		return
	case !access.Can(p.Role, access.ManageWorkspace):
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("downloading the extension needs %s, which the %s role lacks", access.ManageWorkspace, p.Role))
		return
	}
	version, err := manifestVersion(h.files)
	if err != nil {
		h.internal(w, r, "read the extension manifest", err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="switchboard-extension-%s.zip"`, version))
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	if err := writeZip(w, h.files); err != nil {
		// The status is sent; a broken zip is all the client can get.
		h.log.Error("extension: write zip", slog.Any("err", err))
	}
}

// manifestVersion reads the extension's version from its manifest.
func manifestVersion(files fs.FS) (string, error) {
	b, err := fs.ReadFile(files, manifestName)
	if err != nil {
		return "", err
	}
	var m struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("extension: %s: %w", manifestName, err)
	}
	if !regexp.MustCompile(`^[0-9][0-9.]*$`).MatchString(m.Version) {
		return "", fmt.Errorf("extension: %s: version %q is not a Chrome version", manifestName, m.Version)
	}
	return m.Version, nil
}

// writeZip writes every file of files under one folder, as Chrome's "Load
// unpacked" wants it after unzipping. Files are sorted (fs.WalkDir's
// order) and stamped with one fixed time, so the same sources always
// zip to the same bytes.
func writeZip(w io.Writer, files fs.FS) error {
	zw := zip.NewWriter(w)
	stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := files.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		out, err := zw.CreateHeader(&zip.FileHeader{Name: zipRootFolder + "/" + name, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			return err
		}
		_, err = io.Copy(out, f)
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}

func (h *handler) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.log.Error("extension: "+what, slog.String("path", r.URL.Path), slog.Any("err", err))
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here")
	}
}

// writeError answers in the API's error shape.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent; a failed write has no reader left.
	_ = json.NewEncoder(w).Encode(v)
}

// pageTemplate and connectScript are the connect page and its script.
var (
	//go:embed connect.html
	pageSource string
	//go:embed connect.js
	connectScript []byte
	pageTemplate  = template.Must(template.New("connect").Parse(pageSource))
)
