package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestFailedLoginsAreThrottledPerAccountAndPerClient(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LOGIN_MAX_FAILURES": "3"})
		hs.register("target", "the-right-password")
		hs.register("bystander", "bystander-password")
		attacker, owner := from("198.51.100.7:4000"), from("192.0.2.50:4000")
		login := func(user, pw string, who func(*http.Request), extra ...func(*http.Request)) int {
			w := hs.call("POST", "/auth/login", map[string]any{"username": user, "password": pw}, "", append(extra, who)...)
			if w.Code == http.StatusTooManyRequests {
				secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
				require.NoError(t, err)
				assert.True(t, secs > 0 && secs <= 15*60, "Retry-After %d", secs)
			}
			return w.Code
		}
		for range 3 {
			require.Equal(t, http.StatusUnauthorized, login("target", "guess", attacker))
		}
		// The account now waits, even with the right password and from elsewhere...
		assert.Equal(t, http.StatusTooManyRequests, login("target", "the-right-password", owner))
		// ...and the attacker's address waits for every account.
		assert.Equal(t, http.StatusTooManyRequests, login("bystander", "bystander-password", attacker))
		// A forged X-Forwarded-For from an untrusted client changes nothing.
		assert.Equal(t, http.StatusTooManyRequests,
			login("bystander", "bystander-password", attacker, header("X-Forwarded-For", "10.9.8.7")))
		// Others are not affected.
		assert.Equal(t, http.StatusOK, login("bystander", "bystander-password", owner))

		// No permanent lockout: once the failures leave the window, the owner is back.
		_, err := hs.db.NewUpdate().Model((*domain.LoginFailure)(nil)).
			Set("created_at = ?", domain.Now().Add(-16*time.Minute)).Where("1 = 1").Exec(context.Background())
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, login("target", "the-right-password", owner))
	})
}

func TestClientAddressComesFromTrustedProxiesOnly(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		hs.register("roamer", "roamer-password")
		// Untrusted client claiming another address: its own address is recorded.
		direct := hs.login("roamer", "roamer-password", from("203.0.113.20:1111"), header("X-Forwarded-For", "1.2.3.4"))
		// The trusted proxy (loopback by default) passes the real client on.
		proxied := hs.login("roamer", "roamer-password", from("127.0.0.1:2222"), header("X-Forwarded-For", "198.51.100.44"))

		w := hs.call("GET", "/auth/sessions", nil, proxied.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		list := decodeList(t, w)
		require.Len(t, list, 2)
		assert.Equal(t, "198.51.100.44", list[0]["ip_address"])
		assert.Equal(t, "203.0.113.20", list[1]["ip_address"])
		_ = direct
	})
}

func TestDisabledUserIsShutOutAtOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		admin := hs.superuser("root")
		user := hs.user("worker")
		uid := int64(user.User["id"].(float64))

		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/users/"+itoa(uid)+"/disable", nil, admin.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, user.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized,
			hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": user.RefreshToken}, "").Code)
		w := hs.call("POST", "/auth/login", map[string]any{"username": "worker", "password": "worker-password"}, "")
		assert.Equal(t, http.StatusForbidden, w.Code)
		assert.Equal(t, "Account disabled", decode(t, w)["detail"])

		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/users/"+itoa(uid)+"/enable", nil, admin.AccessToken).Code)
		hs.login("worker", "worker-password")
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, user.AccessToken).Code,
			"enabling does not revive the sessions disabling ended")
	})
}

func TestHugeLoginBodyIsRefusedBeforeHashing(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	huge := `{"username":"x","password":"` + strings.Repeat("p", 2<<20) + `"}`
	start := time.Now()
	w := hs.call("POST", "/auth/login", huge, "")
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Equal(t, "Request body too large", decode(t, w)["detail"])
	assert.Less(t, time.Since(start), time.Second)
	n, err := hs.db.NewSelect().Model((*domain.LoginFailure)(nil)).Count(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing was processed")
}
