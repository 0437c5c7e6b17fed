package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
)

// People are found by the start of a username or of a word of their
// name, or by their exact email, and shown only as a conversation shows
// them: no email, no phone; not oneself, not the disabled, not the
// assistant; short queries are refused and searches are limited.
func TestPeopleSearchFindsSomeoneToWriteTo(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, dbURL string) {
		hs := newHarness(t, dbURL, nil)
		root := hs.superuser("root")
		me := hs.user("seeker")
		maria, _, _ := hs.user("maria_lopez"), hs.user("mariam"), hs.user("bob")
		gone := hs.user("mariadb")
		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/me", map[string]any{"full_name": "Ana María Sánchez"}, hs.user("ana").AccessToken).Code)
		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/me", map[string]any{"phone_number": "+14155550123"}, maria.AccessToken).Code)
		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/users/"+itoa(userID(gone))+"/disable", nil, root.AccessToken).Code)

		search := func(q string) *httptest.ResponseRecorder {
			return hs.call("GET", "/users/search?q="+url.QueryEscape(q), nil, me.AccessToken)
		}
		names := func(q string) []string {
			w := search(q)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var out []string
			for _, p := range decodeList(t, w) {
				assert.ElementsMatch(t, []string{"id", "username", "full_name"}, keys(p), "nothing but what a conversation shows")
				out = append(out, p["username"].(string))
			}
			return out
		}
		assert.Equal(t, []string{"maria_lopez", "mariam"}, names("Maria"), "prefix of usernames, in any case; not the disabled")
		hs.user("zed")
		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/me", map[string]any{"full_name": "Zed Shaw"}, hs.user("aaron").AccessToken).Code)
		assert.Equal(t, []string{"zed", "aaron"}, names("ZED"), "the exact username first, then names")
		assert.Equal(t, []string{"ana"}, names("sánch"), "a word of a full name")
		assert.Equal(t, []string{"bob"}, names("bob@example.com"), "an exact email")
		assert.Empty(t, names("ob@example.com"), "only an exact email")
		assert.Empty(t, names("seek"), "not oneself")
		assert.Empty(t, names("assis"), "not the assistant")
		assert.Empty(t, names("%a"), "wildcards are literal")
		for _, bad := range []string{"", "m", string(make([]byte, 101))} {
			assert.Equal(t, http.StatusUnprocessableEntity, search(bad).Code, "%q", bad)
		}
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/users/search?q=maria", nil, "").Code)

		for range 30 {
			search("zz")
		}
		w := search("zz")
		assert.Equal(t, http.StatusTooManyRequests, w.Code, "30 searches a minute")
		assert.NotEmpty(t, w.Header().Get("Retry-After"))
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
