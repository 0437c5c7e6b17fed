package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/apitest"
)

const app, stranger = "https://app.example.com", "https://evil.example.net"

// preflight asks, as a browser does, whether origin may send a request.
func preflight(hs *harness, path, origin string) *http.Response {
	w := hs.call("OPTIONS", path, nil, "", header("Origin", origin), header("Access-Control-Request-Method", "GET"),
		header("Access-Control-Request-Headers", "authorization,last-event-id"))
	return w.Result()
}

func TestCORSLetsTheListedOriginsIn(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", map[string]string{"AI_MESSAGE_CORS_ORIGINS": app + ", https://admin.example.com",
		"AI_MESSAGE_PUBLIC_URL": "https://api.example.com"})
	u := hs.user("browser")

	p := preflight(hs, "/auth/me", app)
	require.Equal(t, http.StatusNoContent, p.StatusCode)
	assert.Equal(t, app, p.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "GET,POST,PUT,DELETE", p.Header.Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "Authorization,Content-Type,Last-Event-Id,X-Request-Id", p.Header.Get("Access-Control-Allow-Headers"))
	assert.Empty(t, p.Header.Get("Access-Control-Allow-Credentials"), "bearer tokens, no cookies")
	assert.Equal(t, "3600", p.Header.Get("Access-Control-Max-Age"))

	w := hs.call("GET", "/auth/me", nil, u.AccessToken, header("Origin", app))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, app, w.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, w.Header().Get("Access-Control-Expose-Headers"), "X-Total-Count")
	w = hs.call("GET", "/auth/me", nil, u.AccessToken, header("Origin", "https://api.example.com"))
	assert.Equal(t, http.StatusOK, w.Code, "the API's own public origin")

	// Another origin is refused, preflight or not, and nothing runs (a
	// refusal by the browser's rules, which the OpenAPI document leaves out).
	assert.Equal(t, http.StatusForbidden, preflight(hs, "/auth/me", stranger).StatusCode)
	raw := &apitest.Client{T: t, H: hs.h}
	w = raw.Call("POST", "/messages", map[string]any{"recipient_id": 1, "content": "x"}, u.AccessToken, header("Origin", stranger))
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "Origin not allowed", decode(t, w)["detail"])
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"))

	// The same origin (the web app the API serves) and clients without an Origin are untouched.
	assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, u.AccessToken, header("Origin", "http://example.com")).Code)
	assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, u.AccessToken).Code)

	// The webhooks answer for themselves: their signatures, not an origin.
	for _, path := range []string{"/twilio_webhook", "/telegram_webhook"} {
		w := hs.call("POST", path, "{}", "", header("Origin", stranger))
		assert.NotEqual(t, "Origin not allowed", decode(t, w)["detail"], path)
		assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), path)
	}
}

func TestWithoutCORSOriginsNoOtherOriginIsLetIn(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	u := hs.user("plain")
	p := preflight(hs, "/auth/me", app)
	assert.Empty(t, p.Header.Get("Access-Control-Allow-Origin"))
	assert.NotEqual(t, http.StatusNoContent, p.StatusCode)
	w := hs.call("GET", "/auth/me", nil, u.AccessToken, header("Origin", app))
	assert.Empty(t, w.Header().Get("Access-Control-Allow-Origin"), "the browser keeps the answer from the page")
}
