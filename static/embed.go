// Package static holds the agent web inbox: plain HTML, CSS and ES modules
// (no build step) embedded into the binary and served under /static/, with
// index.html at /. The scripts are external modules and the styles one
// stylesheet, so the strict Content-Security-Policy holds.
package static

import "embed"

// FS is the web root: index.html, style.css, app.js and the modules in js/.
//
//go:embed index.html style.css favicon.svg app.js js/*.js
var FS embed.FS
