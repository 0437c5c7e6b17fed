package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
)

// getMetrics reads /metrics from the API's port with the given
// Authorization header (none when empty).
func getMetrics(h http.Handler, authorization string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", api.MetricsPath, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// By default the metrics are not the public port's: it answers /metrics
// as it answers any path it does not serve, whoever asks.
func TestMetricsAreNotOnThePublicPortByDefault(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	admin := hs.superuser("metrics-admin")
	for what, authorization := range map[string]string{
		"nobody":      "",
		"a superuser": "Bearer " + admin.AccessToken,
		"a guess":     "Bearer 0123456789abcdef0123456789abcdef",
	} {
		w := getMetrics(hs.h, authorization)
		assert.Equal(t, http.StatusNotFound, w.Code, what)
		assert.JSONEq(t, `{"detail": "Not Found"}`, w.Body.String(), what)
		assert.NotContains(t, w.Body.String(), "aimsg_", what)
	}
}

// With METRICS_TOKEN, the public port serves /metrics to its bearer, and
// to no one else: not to a guess, nor to a superuser's access token.
func TestMetricsForTheBearerOfMetricsToken(t *testing.T) {
	const token = "metrics-token-0123456789abcdef"
	hs := newHarness(t, "sqlite:///:memory:", map[string]string{"METRICS_TOKEN": token})
	admin := hs.superuser("metrics-admin")
	for what, authorization := range map[string]string{
		"nobody":               "",
		"a superuser":          "Bearer " + admin.AccessToken,
		"a wrong token":        "Bearer metrics-token-0123456789abcdeX",
		"a prefix of it":       "Bearer " + token[:len(token)-1],
		"it and more":          "Bearer " + token + "0",
		"it, as basic auth":    "Basic " + token,
		"it, without a scheme": token,
	} {
		w := getMetrics(hs.h, authorization)
		assert.Equal(t, http.StatusUnauthorized, w.Code, what)
		assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"), what)
		assert.NotContains(t, w.Body.String(), "aimsg_", what)
	}

	for _, authorization := range []string{"Bearer " + token, "bearer " + token} {
		w := getMetrics(hs.h, authorization)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Contains(t, w.Header().Get("Content-Type"), "text/plain")
		assert.Contains(t, w.Body.String(), "aimsg_http_requests_total", "the process's own series")
		assert.Contains(t, w.Body.String(), "go_goroutines", "the runtime's")
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"), "the usual headers")
	}

	// The operator's endpoint, not the API's: the document leaves it out.
	doc, err := api.OpenAPI()
	require.NoError(t, err)
	assert.Nil(t, doc.Paths.Find(api.MetricsPath), "/metrics is not part of the API")
}
