package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
)

// A session checked once is trusted for AUTH_CACHE_MS: a change made
// elsewhere (another API instance, the CLI) shows after that; a change made
// through this instance acts at once.
func TestSessionCacheTrustsBrieflyAndForgetsOnChange(t *testing.T) {
	ctx := context.Background()
	hs := newHarness(t, "sqlite:///:memory:", map[string]string{"AUTH_CACHE_MS": "60000"})
	admin, ann := hs.superuser("root"), hs.user("ann")
	require.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, ann.AccessToken).Code)

	// Disabled behind this instance's back: the cached check still holds.
	_, err := domain.SetActive(ctx, hs.db, ann.UserID(), false)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, ann.AccessToken).Code)

	// Disabled through this instance: refused at once.
	require.NoError(t, enableThenDisable(hs, admin, ann.UserID()))
	assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, ann.AccessToken).Code)

	// A profile change shows in the next answer.
	bob := hs.user("bob")
	require.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, bob.AccessToken).Code)
	require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/me", map[string]any{"full_name": "Bob B"}, bob.AccessToken).Code)
	assert.Equal(t, "Bob B", decode(t, hs.call("GET", "/auth/me", nil, bob.AccessToken))["full_name"])
}

func enableThenDisable(hs *harness, admin tokens, id int64) error {
	for _, action := range []string{"enable", "disable"} {
		if w := hs.call("PUT", "/auth/users/"+itoa(id)+"/"+action, nil, admin.AccessToken); w.Code != http.StatusOK {
			return assert.AnError
		}
	}
	return nil
}

func TestSessionCacheExpires(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", map[string]string{"AUTH_CACHE_MS": "100"})
	ann := hs.user("ann")
	require.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, ann.AccessToken).Code)
	n, err := domain.EndSessions(context.Background(), hs.db, ann.UserID(), 0)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	assert.Eventually(t, func() bool {
		return hs.call("GET", "/auth/me", nil, ann.AccessToken).Code == http.StatusUnauthorized
	}, 5*time.Second, 20*time.Millisecond, "a logout elsewhere shows once the cached check expires")
}
