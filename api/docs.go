package api

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	swaggerui "github.com/swaggo/files/v2"
)

// docsFiles are the page that starts Swagger UI on /openapi.json; the
// Swagger UI files themselves come embedded in swaggo/files.
//
//go:embed docs
var docsFiles embed.FS

var docsPage = mustSub(docsFiles, "docs")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// docs serves the interactive documentation page.
func (s *Server) docs(c *gin.Context) {
	page, err := fs.ReadFile(docsPage, "index.html")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}

// docsAsset serves a file of the documentation page: ours first, then
// Swagger UI's.
func (s *Server) docsAsset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("asset"), "/")
	if name == "" || name == "index.html" {
		c.Redirect(http.StatusMovedPermanently, "../docs")
		return
	}
	for _, fsys := range []fs.FS{docsPage, swaggerui.FS} {
		if _, err := fs.Stat(fsys, name); err == nil {
			c.FileFromFS(name, http.FS(fsys))
			return
		}
	}
	abort(c, http.StatusNotFound, "Not Found")
}
