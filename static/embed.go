// Package static holds the agent web inbox (plain HTML, CSS and ES modules,
// no build step) embedded into the binary. Until the inbox lands it serves
// a page that says what is running and how to connect a Pusher client.
package static

import "embed"

// FS is the web root: index.html and its assets.
//
//go:embed index.html style.css
var FS embed.FS
