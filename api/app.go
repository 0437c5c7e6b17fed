package api

import (
	"io/fs"

	"github.com/aimsg/aimsg/web"
)

// appSite is the web app at /app. Its policy lets it load and call this
// server only, and never run inline script.
var appSite = staticSite{root: "/app", files: []fs.FS{web.Files}, headers: map[string]string{
	"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
	"Cache-Control":           "no-cache",
}}
