package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// OpenAPIPath is where the API's OpenAPI 3.1 document is served, under
// Prefix. It is the one path of the API that needs no token: clients
// fetch it to generate their code before they hold one, and it describes
// the API, not any workspace's data.
const OpenAPIPath = "/openapi.json"

// openAPIDoc is the OpenAPI document of every route in routes, written by
// hand beside the handlers it describes. TestOpenAPIMatchesRoutes holds
// its paths, methods and permissions to the routes table.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPIETag names this build's document, so a client that fetched it
// before revalidates with If-None-Match instead of downloading it again.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

// serveOpenAPI serves GET and HEAD of OpenAPIPath, without
// authentication.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed("GET, HEAD")(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// The document changes only with the binary: cache it, but ask again
	// each time so a new version is seen at once.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", openAPIETag)
	// ServeContent answers HEAD without a body and If-None-Match with 304.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(openAPIDoc))
}
