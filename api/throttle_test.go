package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// loginAs signs in from an address; a 429 must say when to come back,
// within at most limit. It returns the status, the body and Retry-After.
func loginAs(t *testing.T, hs *harness, user, pw, addr string, limit time.Duration, extra ...func(*http.Request)) (int, string, int) {
	t.Helper()
	w := hs.call("POST", "/auth/login", map[string]any{"username": user, "password": pw}, "", append(extra, from(addr+":4000"))...)
	secs := 0
	if w.Code == http.StatusTooManyRequests {
		var err error
		secs, err = strconv.Atoi(w.Header().Get("Retry-After"))
		require.NoError(t, err)
		assert.True(t, secs > 0 && secs <= int(limit.Seconds()), "Retry-After %d", secs)
		assert.Equal(t, domain.TooManyLogins, decode(t, w)["detail"])
	}
	return w.Code, w.Body.String(), secs
}

// ageThrottle moves every counted failure and registration back by d.
func ageThrottle(t *testing.T, hs *harness, d time.Duration) {
	t.Helper()
	_, err := hs.db.NewUpdate().Model((*domain.ThrottleHit)(nil)).
		Set("created_at = ?", domain.Now().Add(-d)).Where("1 = 1").Exec(context.Background())
	require.NoError(t, err)
}

// Wrong passwords for one account from one address lock that account on
// that address only: its neighbours there, and its owner elsewhere, sign in.
func TestFailedLoginsLockTheAccountOnTheAddressThatFailed(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil) // the defaults: 10 per account and address in 15 minutes
		hs.register("alice", "alice-password")
		hs.register("bob", "bob-password")
		const x, y = "198.51.100.7", "192.0.2.50"
		window := 15 * time.Minute
		var codes []int
		for range 12 {
			code, _, _ := loginAs(t, hs, "alice", "guess", x, window)
			codes = append(codes, code)
		}
		assert.Equal(t, slices.Repeat([]int{http.StatusUnauthorized}, 10), codes[:10])
		assert.Equal(t, []int{http.StatusTooManyRequests, http.StatusTooManyRequests}, codes[10:], "the 11th and 12th wait")

		code, _, _ := loginAs(t, hs, "bob", "bob-password", x, window)
		assert.Equal(t, http.StatusOK, code, "a neighbour on the same address signs in")
		code, _, _ = loginAs(t, hs, "alice", "alice-password", y, window)
		assert.Equal(t, http.StatusOK, code, "the owner signs in from her own address")
		code, _, _ = loginAs(t, hs, "alice", "alice-password", x, window)
		assert.Equal(t, http.StatusTooManyRequests, code, "the address that failed waits, even with the right password")
		// A forged X-Forwarded-For from an untrusted client changes nothing.
		code, _, _ = loginAs(t, hs, "alice", "alice-password", x, window, header("X-Forwarded-For", "10.9.8.7"))
		assert.Equal(t, http.StatusTooManyRequests, code)

		// No permanent lockout: once the failures leave the window, x is back.
		ageThrottle(t, hs, 16*time.Minute)
		code, _, _ = loginAs(t, hs, "alice", "alice-password", x, window)
		assert.Equal(t, http.StatusOK, code)
	})
}

// Spraying: a few wrong passwords for each of many accounts from one
// address. The address waits once it has failed 100 times, for every
// account; other addresses do not.
func TestPasswordSprayingFromOneAddressIsThrottled(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		for i := range 31 {
			hs.register(fmt.Sprintf("member%02d", i), "member-password")
		}
		const sprayer = "203.0.113.66"
		window := 15 * time.Minute
		counts := map[int]int{}
		firstRefused := -1
		for i := range 150 {
			code, _, _ := loginAs(t, hs, fmt.Sprintf("member%02d", i%30), "Summer2026!", sprayer, window)
			counts[code]++
			if code == http.StatusTooManyRequests && firstRefused < 0 {
				firstRefused = i
			}
		}
		assert.Equal(t, map[int]int{http.StatusUnauthorized: 100, http.StatusTooManyRequests: 50}, counts)
		assert.Equal(t, 100, firstRefused, "the 101st attempt is the first to wait")

		code, _, _ := loginAs(t, hs, "member30", "member-password", sprayer, window)
		assert.Equal(t, http.StatusTooManyRequests, code, "the address waits for an account it never tried")
		code, _, _ = loginAs(t, hs, "member00", "member-password", "192.0.2.99", window)
		assert.Equal(t, http.StatusOK, code, "the accounts sign in from elsewhere")
	})
}

// Guessing one account from many addresses: each address that already
// failed for it waits, longer with every further failure; an address that
// never failed for it (the owner's) is not held back. Known and unknown
// accounts are throttled alike.
func TestGuessingOneAccountFromManyAddressesMeetsGrowingDelays(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LOGIN_ACCOUNT_DELAY_AFTER": "15"})
		hs.register("target", "target-password")
		type outcome struct {
			code int
			body string
		}
		maxDelay := 300 * time.Second
		guess := func(account string, net int) (outcomes []outcome, firstWait, grownWait int) {
			addr := func(i int) string { return fmt.Sprintf("10.%d.0.%d", net, i+1) }
			for i := range 60 {
				code, body, wait := loginAs(t, hs, account, "guess", addr(i%20), maxDelay)
				outcomes = append(outcomes, outcome{code, body})
				if i == 20 {
					firstWait = wait
				}
			}
			// One more failure from a fresh address: the delay doubles.
			code, _, _ := loginAs(t, hs, account, "guess", addr(20), maxDelay)
			require.Equal(t, http.StatusUnauthorized, code, "a fresh address is not held back")
			_, _, grownWait = loginAs(t, hs, account, "guess", addr(0), maxDelay)
			return outcomes, firstWait, grownWait
		}
		known, knownFirst, knownGrown := guess("target", 1)
		for i, o := range known {
			want := http.StatusUnauthorized
			if i >= 20 {
				want = http.StatusTooManyRequests // the second round: every address has failed for it
			}
			require.Equal(t, want, o.code, "attempt %d: %s", i, o.body)
		}
		// 20 failures, 5 past the threshold: 1 s doubled 5 times; then 6 times.
		assert.InDelta(t, 32, knownFirst, 2)
		assert.InDelta(t, 64, knownGrown, 2)

		code, _, _ := loginAs(t, hs, "target", "target-password", "192.0.2.10", maxDelay)
		assert.Equal(t, http.StatusOK, code, "the owner, from an address that never failed, signs in")

		unknown, unknownFirst, unknownGrown := guess("nobody-by-this-name", 2)
		assert.Equal(t, known, unknown, "the throttle answers alike for an account that does not exist")
		assert.InDelta(t, knownFirst, unknownFirst, 2)
		assert.InDelta(t, knownGrown, unknownGrown, 2)
	})
}

// Concurrent guesses from one address cannot pass the limit together: each
// attempt counts before its password is checked.
func TestConcurrentGuessesStopAtTheLimit(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LOGIN_MAX_FAILURES": "5"})
		hs.register("racer", "racer-password")
		var wg sync.WaitGroup
		codes := make([]int, 20)
		for i := range codes {
			wg.Go(func() {
				codes[i], _, _ = loginAs(t, hs, "racer", "guess", "198.51.100.20", 15*time.Minute)
			})
		}
		wg.Wait()
		slices.Sort(codes)
		assert.Equal(t, append(slices.Repeat([]int{http.StatusUnauthorized}, 5),
			slices.Repeat([]int{http.StatusTooManyRequests}, 15)...), codes)
	})
}

// Registrations from one address: 10 an hour by default; the 11th waits
// and stores nothing.
func TestRegistrationsPerAddressAreLimited(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"REGISTRATIONS_PER_ADDRESS": ""}) // the default
		register := func(name, addr string) *httptest.ResponseRecorder {
			return hs.call("POST", "/auth/register", map[string]any{"username": name, "email": name + "@example.com",
				"password": "a-good-password"}, "", from(addr+":5000"))
		}
		for i := range 10 {
			require.Equal(t, http.StatusCreated, register(fmt.Sprintf("signup%d", i), "198.51.100.30").Code)
		}
		users := func() int64 {
			n, err := hs.db.NewSelect().Model((*domain.User)(nil)).Count(context.Background())
			require.NoError(t, err)
			return n
		}
		before := users()
		w := register("signup10", "198.51.100.30")
		require.Equal(t, http.StatusTooManyRequests, w.Code)
		secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
		require.NoError(t, err)
		assert.True(t, secs > 3500 && secs <= 3600, "Retry-After %d", secs)
		assert.Contains(t, decode(t, w)["detail"], "Too many registrations")
		assert.Equal(t, before, users(), "nothing stored")

		assert.Equal(t, http.StatusCreated, register("signup10", "198.51.100.31").Code, "another address registers")
		ageThrottle(t, hs, 61*time.Minute)
		assert.Equal(t, http.StatusCreated, register("signup11", "198.51.100.30").Code, "an hour later, again")
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
	n, err := hs.db.NewSelect().Model((*domain.ThrottleHit)(nil)).Count(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "nothing was processed")
}

// A stolen access token cannot guess its owner's password: the
// confirmations of a password change and of erasing the account count
// with the logins of the account and address, wait as they do, and each
// wrong password is audited.
func TestPasswordConfirmationsAreThrottledLikeLogins(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LOGIN_MAX_FAILURES": "3"})
		root := hs.superuser("root")
		hs.register("alice", "alice-password")
		const thief, home = "198.51.100.9", "192.0.2.60"
		stolen := hs.login("alice", "alice-password", from(thief+":4000"))
		change := func(current, addr string) *httptest.ResponseRecorder {
			return hs.call("PUT", "/auth/me/password", map[string]any{"current_password": current,
				"new_password": "brand-new-password-1"}, stolen.AccessToken, from(addr+":4000"))
		}
		erase := func(pw, addr string) *httptest.ResponseRecorder {
			return hs.call("DELETE", "/auth/me", map[string]any{"password": pw}, stolen.AccessToken, from(addr+":4000"))
		}

		assert.Equal(t, http.StatusBadRequest, change("guess-1", thief).Code)
		assert.Equal(t, http.StatusBadRequest, erase("guess-2", thief).Code)
		assert.Equal(t, http.StatusBadRequest, change("guess-3", thief).Code)
		for _, w := range []*httptest.ResponseRecorder{change("alice-password", thief), erase("alice-password", thief)} {
			require.Equal(t, http.StatusTooManyRequests, w.Code, "the fourth try waits, even with the right password")
			assert.NotEmpty(t, w.Header().Get("Retry-After"))
			assert.Equal(t, "Too many wrong passwords; try again later", decode(t, w)["detail"])
		}
		code, _, _ := loginAs(t, hs, "alice", "alice-password", thief, 15*time.Minute)
		assert.Equal(t, http.StatusTooManyRequests, code, "the login form of that address waits too")

		// Each wrong password is in the audit log, as alice's own act.
		w := hs.call("GET", "/auth/audit?action=user.password_refused", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "3", w.Header().Get("X-Total-Count"))
		for _, e := range decodeList(t, w) {
			assert.Equal(t, e["target_id"], fmt.Sprint(e["actor_id"]))
			assert.Equal(t, thief, e["ip"])
		}

		// The owner, from her own address, is not held back.
		assert.Equal(t, http.StatusOK, change("alice-password", home).Code)
	})
}
