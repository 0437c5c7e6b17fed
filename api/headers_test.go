package api_test

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/web"
)

// Every answer, JSON, HTML, files, errors and redirects alike, tells the
// browser not to sniff its type, not to send a referrer on and not to
// show it in a frame.
func TestHeadersOnEveryAnswer(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", http.StatusOK},
		{"GET", "/health", http.StatusOK},
		{"GET", "/db-test", http.StatusOK},
		{"GET", "/openapi.json", http.StatusOK},
		{"GET", "/metrics", http.StatusNotFound},
		{"GET", "/docs", http.StatusOK},
		{"GET", "/docs/swagger-ui.css", http.StatusOK},
		{"GET", "/docs/", http.StatusMovedPermanently},
		{"GET", "/app", http.StatusOK},
		{"GET", "/app/app.js", http.StatusOK},
		{"GET", "/app/nothing-here.js", http.StatusNotFound},
		{"GET", "/no/such/route", http.StatusNotFound},
		{"DELETE", "/health", http.StatusMethodNotAllowed},
		{"GET", "/auth/me", http.StatusUnauthorized},
		{"POST", "/auth/register", http.StatusUnprocessableEntity},
	} {
		w := hs.call(r.method, r.path, map[string]any{}, "")
		require.Equal(t, r.status, w.Code, "%s %s: %s", r.method, r.path, w.Body.String())
		what := r.method + " " + r.path
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), what)
		assert.Equal(t, "no-referrer", w.Header().Get("Referrer-Policy"), what)
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"), what)
		assert.Contains(t, w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'", what)
		if strings.Contains(w.Header().Get("Content-Type"), "application/json") {
			assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", w.Header().Get("Content-Security-Policy"),
				"%s: a JSON answer opened as a page loads and runs nothing", what)
		}
	}
}

// The HTML pages cannot be framed (clickjacking), and a page's own policy
// keeps all it said: one policy, with one frame-ancestors directive.
func TestHeaderPagesCannotBeFramed(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	for _, page := range []string{"/docs", "/app"} {
		w := hs.call("GET", page, nil, "")
		require.Equal(t, http.StatusOK, w.Code, page)
		require.Contains(t, w.Header().Get("Content-Type"), "text/html", page)
		policies := w.Header().Values("Content-Security-Policy")
		require.Len(t, policies, 1, page)
		assert.Equal(t, 1, strings.Count(policies[0], "frame-ancestors"), policies[0])
		assert.Contains(t, policies[0], "frame-ancestors 'none'", page)
		assert.Equal(t, "DENY", w.Header().Get("X-Frame-Options"), page)
	}
	w := hs.call("GET", "/app", nil, "")
	directives := map[string]string{}
	for _, d := range strings.Split(w.Header().Get("Content-Security-Policy"), ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	assert.Equal(t, map[string]string{
		"default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
		"img-src": "'self' blob:", "media-src": "'self' blob:", "font-src": "'self'", "object-src": "'none'",
		"base-uri": "'none'", "form-action": "'self'", "frame-ancestors": "'none'",
	}, directives, "the app loads and calls this server only; pictures and voice notes come as blob: URLs; nothing inline")
}

// The app's policy allows no inline script or style: its page must have
// none, or the browser would refuse it.
func TestHeaderAppPageHasNothingInline(t *testing.T) {
	page, err := fs.ReadFile(web.Files, "index.html")
	require.NoError(t, err)
	html := string(page)
	for _, tag := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAllString(html, -1) {
		assert.Contains(t, tag, " src=", "an inline script: %s", tag)
	}
	assert.NotRegexp(t, `(?i)<style\b`, html, "an inline style sheet")
	assert.NotRegexp(t, `(?i)\sstyle\s*=`, html, "an inline style attribute")
	assert.NotRegexp(t, `(?i)\son[a-z]+\s*=`, html, "an inline event handler")
	assert.NotContains(t, html, "javascript:", "a javascript: URL")
}
