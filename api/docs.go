package api

import (
	"embed"
	"io/fs"

	swaggerui "github.com/swaggo/files/v2"
)

// docsFiles are the page that starts Swagger UI on /openapi.json; the
// Swagger UI files themselves come embedded in swaggo/files.
//
//go:embed docs
var docsFiles embed.FS

// docsSite is the interactive API documentation at /docs. Swagger UI sets
// inline styles, so its policy only keeps it out of frames, away from
// plugins and from a <base> that would move its relative links.
var docsSite = staticSite{root: "/docs", files: []fs.FS{mustSub(docsFiles, "docs"), swaggerui.FS}, headers: map[string]string{
	"Content-Security-Policy": "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
