package api_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestRegisterLoginAndMe(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		created := hs.register("alice", "correct horse")
		assert.Equal(t, "alice", created["username"])
		assert.Equal(t, "alice@example.com", created["email"])
		assert.Equal(t, false, created["is_superuser"])
		assert.Equal(t, true, created["is_active"])
		assert.NotContains(t, created, "hashed_password")

		w := hs.call("POST", "/auth/login", map[string]any{"username": "alice", "password": "correct horse"}, "")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		body := decode(t, w)
		keys := make([]string, 0, len(body))
		for k := range body {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		assert.Equal(t, []string{"access_token", "refresh_token", "token_type", "user"}, keys)
		assert.Equal(t, "bearer", body["token_type"])
		user := body["user"].(map[string]any)
		for _, k := range []string{"id", "username", "email", "full_name", "bio", "phone_number",
			"is_active", "is_superuser", "created_at", "updated_at"} {
			assert.Contains(t, user, k)
		}

		w = hs.call("GET", "/auth/me", nil, body["access_token"].(string))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "alice", decode(t, w)["username"])
	})
}

func TestLoginAcceptsTheOAuth2PasswordForm(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, dbURL string) {
		hs := newHarness(t, dbURL, nil)
		hs.register("formuser", "form-password")
		form := url.Values{"grant_type": {"password"}, "username": {"formuser"}, "password": {"form-password"}}
		w := hs.call("POST", "/auth/login", form.Encode(), "", header("Content-Type", "application/x-www-form-urlencoded"))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "bearer", decode(t, w)["token_type"])
	})
}

func TestRegisterValidation(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		for name, tc := range map[string]struct {
			body       any
			loc, typ   string
			wantStatus int
		}{
			"missing username": {map[string]any{"email": "a@example.com", "password": "long enough"}, "username", "missing", 422},
			"bad email":        {map[string]any{"username": "bob", "email": "nope", "password": "long enough"}, "email", "value_error", 422},
			"short password":   {map[string]any{"username": "bob", "email": "b@example.com", "password": "short"}, "password", "value_error", 422},
			"73-byte password": {map[string]any{"username": "bob", "email": "b@example.com", "password": strings.Repeat("p", 73)}, "password", "value_error", 422},
			"username chars":   {map[string]any{"username": "bob smith", "email": "b@example.com", "password": "long enough"}, "username", "value_error", 422},
			"short username":   {map[string]any{"username": "bo", "email": "b@example.com", "password": "long enough"}, "username", "string_too_short", 422},
			"bad phone":        {map[string]any{"username": "bob", "email": "b@example.com", "password": "long enough", "phone_number": "12345"}, "phone_number", "value_error", 422},
			"wrong type":       {`{"username": 5, "email": "b@example.com", "password": "long enough"}`, "username", "type_error", 422},
		} {
			t.Run(name, func(t *testing.T) {
				w := hs.call("POST", "/auth/register", tc.body, "")
				require.Equal(t, tc.wantStatus, w.Code, w.Body.String())
				detail := decode(t, w)["detail"].([]any)
				require.NotEmpty(t, detail)
				first := detail[0].(map[string]any)
				assert.Equal(t, []any{"body", tc.loc}, first["loc"])
				assert.Equal(t, tc.typ, first["type"])
				assert.NotEmpty(t, first["msg"])
			})
		}
		t.Run("malformed JSON", func(t *testing.T) {
			w := hs.call("POST", "/auth/register", `{"username": `, "")
			require.Equal(t, http.StatusUnprocessableEntity, w.Code)
			assert.Equal(t, "json_invalid", decode(t, w)["detail"].([]any)[0].(map[string]any)["type"])
		})
		t.Run("duplicate", func(t *testing.T) {
			hs.register("carol", "long enough")
			w := hs.call("POST", "/auth/register", map[string]any{"username": "carol", "email": "other@example.com", "password": "long enough"}, "")
			assert.Equal(t, http.StatusConflict, w.Code)
			assert.Equal(t, "username, email or phone number already registered", decode(t, w)["detail"])
		})
		t.Run("superuser flag is ignored", func(t *testing.T) {
			w := hs.call("POST", "/auth/register", map[string]any{"username": "mallory", "email": "m@example.com",
				"password": "long enough", "is_superuser": true}, "")
			require.Equal(t, http.StatusCreated, w.Code)
			assert.Equal(t, false, decode(t, w)["is_superuser"])
		})
		t.Run("assistant name is taken", func(t *testing.T) {
			w := hs.call("POST", "/auth/register", map[string]any{"username": "assistant", "email": "x@example.com", "password": "long enough"}, "")
			assert.Equal(t, http.StatusConflict, w.Code)
		})
	})
}

// bcrypt reads 72 bytes. A 72-byte password is the longest accepted, and a
// login with a 73rd byte added must fail rather than match a truncation.
func TestByte73CountsAtLogin(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		pw := strings.Repeat("a", 71) + "b"
		hs.register("longpw", pw)
		hs.login("longpw", pw)
		for _, wrong := range []string{pw + "c", pw[:71] + "c", pw[:71]} {
			w := hs.call("POST", "/auth/login", map[string]any{"username": "longpw", "password": wrong}, "")
			assert.Equal(t, http.StatusUnauthorized, w.Code, "len %d", len(wrong))
		}
	})
}

func TestNoUserEnumeration(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		// At a deployment's cost, even under the race detector: the times
		// compared must be bcrypt's, not the rest of a login's.
		hs := newHarness(t, url, map[string]string{"LOGIN_MAX_FAILURES": "1000", "BCRYPT_COST": "10"})
		hs.register("known", "right password")
		attempt := func(username, password string) (int, string, string, time.Duration) {
			start := time.Now()
			w := hs.call("POST", "/auth/login", map[string]any{"username": username, "password": password}, "")
			return w.Code, w.Body.String(), w.Header().Get("WWW-Authenticate"), time.Since(start)
		}
		// The three kinds of attempt take turns, so a busy moment of the
		// machine (other packages' tests run alongside) slows all alike.
		medians := func(kinds ...[2]string) []time.Duration {
			ds := make([][]time.Duration, len(kinds))
			for range 7 {
				for i, k := range kinds {
					_, _, _, d := attempt(k[0], k[1])
					ds[i] = append(ds[i], d)
				}
			}
			out := make([]time.Duration, len(kinds))
			for i := range ds {
				sort.Slice(ds[i], func(a, b int) bool { return ds[i][a] < ds[i][b] })
				out[i] = ds[i][len(ds[i])/2]
			}
			return out
		}
		c1, b1, h1, _ := attempt("known", "wrong password")
		c2, b2, h2, _ := attempt("unknown", "wrong password")
		assert.Equal(t, http.StatusUnauthorized, c1)
		assert.Equal(t, c1, c2)
		assert.Equal(t, b1, b2)
		assert.Equal(t, h1, h2)

		// Every path runs one bcrypt comparison, so none is markedly faster.
		m := medians([2]string{"known", "wrong password"}, [2]string{"unknown", "wrong password"},
			[2]string{"known", strings.Repeat("x", 100)})
		known, unknown, overlong := m[0], m[1], m[2]
		for name, d := range map[string]time.Duration{"unknown user": unknown, "overlong password": overlong} {
			ratio := float64(d) / float64(known)
			assert.True(t, ratio > 0.5 && ratio < 2, "%s took %v, wrong password %v", name, d, known)
		}
	})
}

// forge signs claims with the server's key and the given method.
func forge(t *testing.T, hs *harness, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	var key any = []byte(hs.cfg.SecretKey)
	if method == jwt.SigningMethodNone {
		key = jwt.UnsafeAllowNoneSignatureType
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

func TestHostileTokensAreRefused(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		tk := hs.user("victim")
		good, _, err := jwt.NewParser().ParseUnverified(tk.AccessToken, jwt.MapClaims{})
		require.NoError(t, err)
		base := good.Claims.(jwt.MapClaims)
		with := func(changes map[string]any) jwt.MapClaims {
			c := jwt.MapClaims{}
			for k, v := range base {
				c[k] = v
			}
			for k, v := range changes {
				if v == nil {
					delete(c, k)
				} else {
					c[k] = v
				}
			}
			return c
		}
		require.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, forge(t, hs, jwt.SigningMethodHS256, with(nil))).Code,
			"the forging itself is right: unchanged claims pass")

		for name, token := range map[string]string{
			"alg none":            forge(t, hs, jwt.SigningMethodNone, with(nil)),
			"HS512 with same key": forge(t, hs, jwt.SigningMethodHS512, with(nil)),
			"missing exp":         forge(t, hs, jwt.SigningMethodHS256, with(map[string]any{"exp": nil})),
			"missing iat":         forge(t, hs, jwt.SigningMethodHS256, with(map[string]any{"iat": nil})),
			"expired":             forge(t, hs, jwt.SigningMethodHS256, with(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})),
			"wrong aud":           forge(t, hs, jwt.SigningMethodHS256, with(map[string]any{"aud": "someone-else"})),
			"wrong iss":           forge(t, hs, jwt.SigningMethodHS256, with(map[string]any{"iss": "evil"})),
			"other user":          forge(t, hs, jwt.SigningMethodHS256, with(map[string]any{"sub": "1"})),
			"refresh as access":   tk.RefreshToken,
			"other key":           mustSign(t, with(nil), "another-secret-key-0123456789abcdef0123"),
			"garbage":             "not.a.jwt",
		} {
			t.Run(name, func(t *testing.T) {
				w := hs.call("GET", "/auth/me", nil, token)
				assert.Equal(t, http.StatusUnauthorized, w.Code)
				assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
				assert.Equal(t, "Could not validate credentials", decode(t, w)["detail"])
			})
		}
		t.Run("access as refresh", func(t *testing.T) {
			w := hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": tk.AccessToken}, "")
			assert.Equal(t, http.StatusUnauthorized, w.Code)
		})
		t.Run("no token", func(t *testing.T) {
			w := hs.call("GET", "/auth/me", nil, "")
			assert.Equal(t, http.StatusUnauthorized, w.Code)
			assert.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, "Not authenticated", decode(t, w)["detail"])
		})
	})
}

func mustSign(t *testing.T, claims jwt.MapClaims, key string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	require.NoError(t, err)
	return s
}

func TestHugeAuthorizationHeaderIsRefusedFast(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	srv := serveOnLoopback(hs)
	req, err := http.NewRequest("GET", srv+"/auth/me", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 1<<20))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	assert.Less(t, time.Since(start), 2*time.Second)

	// Below the server's header limit, the handler refuses it unread.
	w := hs.call("GET", "/auth/me", nil, strings.Repeat("A", 8000))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		first := hs.user("rotator")

		w := hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": first.RefreshToken}, "")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		second := decode(t, w)
		assert.NotEqual(t, first.RefreshToken, second["refresh_token"])
		assert.Equal(t, "bearer", second["token_type"])
		newAccess := second["access_token"].(string)
		require.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, newAccess).Code)

		var stored []domain.RefreshToken
		require.NoError(t, hs.db.NewSelect().Model(&stored).Scan(context.Background()))
		for _, rt := range stored {
			assert.NotEqual(t, first.RefreshToken, rt.Token, "refresh tokens are stored hashed")
			assert.Len(t, rt.Token, 64)
		}

		// The first token again: theft. The session ends, with every token of it.
		w = hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": first.RefreshToken}, "")
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, newAccess).Code)
		w = hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": second["refresh_token"]}, "")
		assert.Equal(t, http.StatusUnauthorized, w.Code)
	})
}

func TestConcurrentRefreshesOfOneTokenExactlyOneWins(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		tk := hs.user("racer")
		const n = 8
		codes := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				codes[i] = hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": tk.RefreshToken}, "").Code
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, c := range codes {
			if c == http.StatusOK {
				ok++
			} else {
				assert.Equal(t, http.StatusUnauthorized, c)
			}
		}
		assert.Equal(t, 1, ok, "codes: %v", codes)
	})
}

func TestLogoutEndsTheSessionAtOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		a := hs.user("leaver")
		b := hs.login("leaver", "leaver-password")

		require.Equal(t, http.StatusOK, hs.call("POST", "/auth/logout", nil, a.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, a.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized,
			hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": a.RefreshToken}, "").Code)
		assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, b.AccessToken).Code, "the other session lives")

		c := hs.login("leaver", "leaver-password")
		w := hs.call("POST", "/auth/logout-all", nil, c.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.EqualValues(t, 2, decode(t, w)["sessions_ended"])
		for _, tk := range []tokens{b, c} {
			assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, tk.AccessToken).Code)
		}
	})
}

func TestSessionsListAndDelete(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		phone := hs.user("owner")
		laptop := hs.login("owner", "owner-password", header("User-Agent", "Laptop/1.0"), from("203.0.113.9:5555"))
		other := hs.user("stranger")

		w := hs.call("GET", "/auth/sessions", nil, laptop.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		list := decodeList(t, w)
		require.Len(t, list, 2)
		assert.Equal(t, "Laptop/1.0", list[0]["device_info"])
		assert.Equal(t, "203.0.113.9", list[0]["ip_address"])
		assert.Equal(t, true, list[0]["is_current"])
		assert.Equal(t, false, list[1]["is_current"])
		assert.NotContains(t, list[0], "session_token")
		phoneSession := int64(list[1]["id"].(float64))

		w = hs.call("DELETE", "/auth/sessions/"+itoa(phoneSession), nil, other.AccessToken)
		assert.Equal(t, http.StatusNotFound, w.Code, "another user's session does not exist for you")
		assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, phone.AccessToken).Code)

		require.Equal(t, http.StatusOK, hs.call("DELETE", "/auth/sessions/"+itoa(phoneSession), nil, laptop.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, phone.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", "/auth/sessions/"+itoa(phoneSession), nil, laptop.AccessToken).Code)
		assert.Equal(t, http.StatusUnprocessableEntity, hs.call("DELETE", "/auth/sessions/abc", nil, laptop.AccessToken).Code)
	})
}
