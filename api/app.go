package api

import (
	"io/fs"

	"github.com/aimsg/aimsg/web"
)

// appPolicy is the web app's Content-Security-Policy. The app is module
// scripts and one style sheet of this server, builds its elements with
// the DOM (no inline script, style or event handler anywhere), calls this
// server only, and shows pictures and voice notes from blob: URLs (they
// are fetched with the bearer token, which an <img> would not send).
// Nothing inline runs: no 'unsafe-inline', no hash, no eval.
const appPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' blob:; media-src 'self' blob:; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; " + frameAncestorsNone

// appSite is the web app at /app, under appPolicy.
var appSite = staticSite{root: "/app", files: []fs.FS{web.Files}, headers: map[string]string{
	"Content-Security-Policy": appPolicy,
	"Cache-Control":           "no-cache",
}}
