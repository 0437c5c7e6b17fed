package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
)

func TestWebhookSubscriptions(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true"})
		root, plain := hs.superuser("root"), hs.user("plain")

		body := map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"message.received", "report.created", "message.received"}}
		w := hs.call("POST", "/auth/webhooks", body, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		created := decode(t, w)
		secret, _ := created["secret"].(string)
		assert.True(t, strings.HasPrefix(secret, "whsec_") && len(secret) > 40, secret)
		assert.Equal(t, []any{"message.received", "report.created"}, created["events"], "each event once")
		assert.Equal(t, true, created["is_active"])
		sid := "/auth/webhooks/" + itoa(id(created))

		for _, path := range []string{"/auth/webhooks", sid} {
			w = hs.call("GET", path, nil, root.AccessToken)
			require.Equal(t, http.StatusOK, w.Code)
			assert.NotContains(t, w.Body.String(), secret, "the secret is shown once")
			assert.NotContains(t, w.Body.String(), "secret")
		}
		w = hs.call("GET", sid+"/deliveries", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "0", w.Header().Get("X-Total-Count"))

		for _, bad := range []map[string]any{
			{"url": "ftp://example.com/x", "events": []string{"report.created"}},
			{"url": "http://user:pw@example.com/x", "events": []string{"report.created"}},
			{"url": "https://example.com/x", "events": []string{"report.deleted"}},
			{"url": "https://example.com/x", "events": []string{}},
			{"url": "https://example.com/x"},
		} {
			w = hs.call("POST", "/auth/webhooks", bad, root.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "%v: %s", bad, w.Body.String())
		}

		for _, r := range []struct{ method, path string }{
			{"GET", "/auth/webhooks"}, {"POST", "/auth/webhooks"}, {"GET", sid}, {"DELETE", sid}, {"GET", sid + "/deliveries"},
		} {
			assert.Equal(t, http.StatusForbidden, hs.call(r.method, r.path, body, plain.AccessToken).Code, r.path)
		}

		require.Equal(t, http.StatusOK, hs.call("DELETE", sid, nil, root.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("GET", sid, nil, root.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", sid, nil, root.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("GET", sid+"/deliveries", nil, root.AccessToken).Code)

		for _, action := range []string{"webhook.create", "webhook.delete"} {
			w = hs.call("GET", "/auth/audit?action="+action, nil, root.AccessToken)
			require.Equal(t, http.StatusOK, w.Code)
			assert.Len(t, decodeList(t, w), 1, action)
		}
	})
}

// Without WEBHOOK_ALLOW_PRIVATE a subscription must be https to a public
// address.
func TestWebhooksToPrivateAddressesAreRefused(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	root := hs.superuser("root")
	for _, u := range []string{"https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://[::1]/hook",
		"https://169.254.169.254/latest", "https://localhost/hook", "http://203.0.113.7/hook"} {
		w := hs.call("POST", "/auth/webhooks", map[string]any{"url": u, "events": []string{"report.created"}}, root.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, u)
	}
}
