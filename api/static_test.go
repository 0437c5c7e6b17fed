package api

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A page's own policy gets frame-ancestors 'none' and loses nothing else.
func TestHeaderPolicyDeniesFraming(t *testing.T) {
	for policy, want := range map[string]string{
		"":                   "frame-ancestors 'none'",
		"default-src 'self'": "default-src 'self'; frame-ancestors 'none'",
		"default-src 'self'; frame-ancestors https://a.example; img-src data:": "default-src 'self'; frame-ancestors 'none'; img-src data:",
		"FRAME-ANCESTORS *;":                                  "frame-ancestors 'none'",
		"frame-ancestors\t'self'; frame-ancestors *":          "frame-ancestors 'none'",
		" script-src 'self' ;; frame-ancestors 'none' ":       "script-src 'self'; frame-ancestors 'none'",
		appSite.headers["Content-Security-Policy"]:            appSite.headers["Content-Security-Policy"],
		docsSite.headers["Content-Security-Policy"]:           docsSite.headers["Content-Security-Policy"],
		"default-src 'none'; sandbox; frame-ancestors 'self'": "default-src 'none'; sandbox; frame-ancestors 'none'",
	} {
		assert.Equal(t, want, denyFraming(policy), policy)
	}
}
