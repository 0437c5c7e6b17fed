// Package web is the browser app served at /app: plain HTML, CSS and
// JavaScript modules with no build step, a client of the public REST API.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Files are the app's files, index.html at the top.
var Files, _ = fs.Sub(static, "static")
