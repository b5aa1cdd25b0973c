// Package extension holds Switchboard's Chrome extension (Manifest V3):
// the service worker that keeps an agent connected over the Pusher
// protocol, the popup, the options page with the connect flow, and the
// content script that relays a token from the server's connect page. The
// sources are loaded unpacked as they are (no build step) and embedded so
// the server can hand out the packed extension (server/extension).
//
// pusher.js is a byte-identical copy of the web UI's static/js/pusher.js:
// an extension may only load files inside its own directory.
// TestPusherClientIsTheWebUIs fails when the two differ.
package extension

import "embed"

// FS is the extension's directory as Chrome loads it: manifest.json, the
// scripts, pages, stylesheet and icons. Go files are not part of it.
//
//go:embed manifest.json *.js *.html *.css icons/*.png
var FS embed.FS
