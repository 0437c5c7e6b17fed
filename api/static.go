package api

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// staticSite is a page at a path of its own (/docs, /app) with its files
// below it (/docs/x.js): the page's relative links resolve under the path.
type staticSite struct {
	// root is the path of the page, index.html of the first file system.
	root string
	// files are searched in order for a file.
	files []fs.FS
	// headers are set on every answer (security policy, caching).
	headers map[string]string
}

// page serves the site's index.html.
func (st staticSite) page(c *gin.Context) {
	st.setHeaders(c)
	page, err := fs.ReadFile(st.files[0], "index.html")
	if err != nil {
		abort(c, http.StatusNotFound, "Not Found")
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", page)
}

// file serves one file of the site; the directory itself goes to the page.
func (st staticSite) file(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	if name == "" || name == "index.html" {
		c.Redirect(http.StatusMovedPermanently, st.root)
		return
	}
	for _, fsys := range st.files {
		if info, err := fs.Stat(fsys, name); err == nil && !info.IsDir() {
			st.setHeaders(c)
			c.FileFromFS(name, http.FS(fsys))
			return
		}
	}
	abort(c, http.StatusNotFound, "Not Found")
}

// setHeaders adds the site's headers to those of every answer
// (securityHeaders); its own policy replaces the default one, with
// frame-ancestors 'none' kept in it.
func (st staticSite) setHeaders(c *gin.Context) {
	for k, v := range st.headers {
		if http.CanonicalHeaderKey(k) == "Content-Security-Policy" {
			v = denyFraming(v)
		}
		c.Header(k, v)
	}
}

// denyFraming is a Content-Security-Policy with its frame-ancestors
// directive, if any, made 'none', or one added: every other directive
// stays as it is, so the policy only gets stricter.
func denyFraming(policy string) string {
	var out []string
	found := false
	for _, d := range strings.Split(policy, ";") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if strings.EqualFold(strings.Fields(d)[0], "frame-ancestors") {
			if found {
				continue // browsers heed the first only; one is enough
			}
			found, d = true, frameAncestorsNone
		}
		out = append(out, d)
	}
	if !found {
		out = append(out, frameAncestorsNone)
	}
	return strings.Join(out, "; ")
}
