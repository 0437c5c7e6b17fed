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

// docsSite is the interactive API documentation at /docs.
var docsSite = staticSite{root: "/docs", files: []fs.FS{mustSub(docsFiles, "docs"), swaggerui.FS}}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
