package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
)

// fieldProblem is the one entry of a 422 answer: where, and what is wrong.
func fieldProblem(t *testing.T, w *httptest.ResponseRecorder) (loc []any, msg string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
	detail := decode(t, w)["detail"].([]any)
	require.Len(t, detail, 1, w.Body.String())
	entry := detail[0].(map[string]any)
	assert.Equal(t, "value_error", entry["type"])
	return entry["loc"].([]any), entry["msg"].(string)
}

// A username is taken in every case and spelling: another spelling of an
// account, the assistant's included, is the usual conflict, which does
// not say which field is taken.
func TestRegisterRefusesAnotherSpellingOfAUsername(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		hs.register("boss", "long enough")
		for i, name := range []string{"Boss", "BOSS", "ｂｏｓｓ", "Assistant", "ASSISTANT", "ａｓｓｉｓｔａｎｔ"} {
			w := hs.call("POST", "/auth/register", map[string]any{"username": name,
				"email": "variant" + itoa(int64(i)) + "@example.com", "password": "long enough"}, "")
			assert.Equal(t, http.StatusConflict, w.Code, name)
			assert.Equal(t, "username, email or phone number already registered", decode(t, w)["detail"], name)
		}
		// The account signs in whatever the case.
		for _, name := range []string{"boss", "BOSS", "Boss", "ｂｏｓｓ"} {
			hs.login(name, "long enough")
		}
		// A fullwidth name is stored as the ASCII it imitates.
		w := hs.call("POST", "/auth/register", map[string]any{"username": "Ｃａｒｏｌ", "email": "carol@example.com", "password": "long enough"}, "")
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		assert.Equal(t, "Carol", decode(t, w)["username"])
	})
}

// Every spelling of a username is one account to the login throttle.
func TestLoginThrottleCountsEverySpellingAsOne(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LOGIN_MAX_FAILURES": "2"})
		hs.register("boss", "long enough")
		for _, name := range []string{"boss", "BOSS"} {
			w := hs.call("POST", "/auth/login", map[string]any{"username": name, "password": "wrong guess"}, "")
			require.Equal(t, http.StatusUnauthorized, w.Code, name)
		}
		w := hs.call("POST", "/auth/login", map[string]any{"username": "ｂｏｓｓ", "password": "wrong guess"}, "")
		assert.Equal(t, http.StatusTooManyRequests, w.Code, "a fullwidth spelling is the same account")
	})
}

// Reserved names and invisible or direction-changing characters are
// refused with 422 naming the field, at registration, when a superuser
// creates an account, and in a profile update.
func TestNamesThatPoseAsTheAssistantOrStaffAreRefused(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		account := func(username string, fullName any) map[string]any {
			return map[string]any{"username": username, "email": username + "@example.com", "password": "long enough", "full_name": fullName}
		}
		for _, tc := range []struct {
			username string
			fullName any
			field    string
			problem  string
		}{
			{"support_team", nil, "username", "reserved"},
			{"ａｄｍｉｎ", nil, "username", "reserved"},
			{"the.bot", nil, "username", "reserved"},
			{"mallory", "AI Assistant", "full_name", "reserved"},
			{"mallory", "A.I. assistant", "full_name", "reserved"},
			{"mallory", "Ｓｕｐｐｏｒｔ", "full_name", "reserved"},
			{"mallory", "Administrator", "full_name", "reserved"},
			{"mallory", "Bob\u202etnatsissA IA", "full_name", "U+202E"},
			{"mallory", "Bob\u200b", "full_name", "U+200B"},
			{"mallory", "\u2066Bob", "full_name", "U+2066"},
			{"mallory", "\ufeffBob", "full_name", "U+FEFF"},
			{"mallory", "Bob\tSmith", "full_name", "U+0009"},
			{"mallory", "Bob\nSmith", "full_name", "U+000A"},
		} {
			loc, msg := fieldProblem(t, hs.call("POST", "/auth/register", account(tc.username, tc.fullName), ""))
			assert.Equal(t, []any{"body", tc.field}, loc, "%s %q", tc.username, tc.fullName)
			assert.Contains(t, msg, tc.problem, "%s %q", tc.username, tc.fullName)
		}

		admin := hs.superuser("chief")
		loc, _ := fieldProblem(t, hs.call("POST", "/auth/users", account("admin", nil), admin.AccessToken))
		assert.Equal(t, []any{"body", "username"}, loc)
		loc, _ = fieldProblem(t, hs.call("POST", "/auth/users", account("helper", "Support Team"), admin.AccessToken))
		assert.Equal(t, []any{"body", "full_name"}, loc)

		for i, name := range []string{"José Núñez", "李雷", "O'Brien-Smith", "Mary Ann"} {
			w := hs.call("POST", "/auth/register", account("person"+itoa(int64(i)), name), "")
			require.Equal(t, http.StatusCreated, w.Code, "%s: %s", name, w.Body.String())
			assert.Equal(t, name, decode(t, w)["full_name"])
		}

		tk := hs.user("profiled")
		for _, bad := range []string{"AI Assistant", "Assistant", "Support Team", "Bob\u202e", "Bo\u200bb"} {
			loc, _ := fieldProblem(t, hs.call("PUT", "/auth/me", map[string]any{"full_name": bad}, tk.AccessToken))
			assert.Equal(t, []any{"body", "full_name"}, loc, bad)
		}
		w := hs.call("PUT", "/auth/me", map[string]any{"full_name": "José Núñez", "bio": "I am\u202e free text"}, tk.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "I am\u202e free text", decode(t, w)["bio"], "the bio is kept as written")
	})
}

// The conversation list carries a badge the server sets on the assistant
// and on staff (superusers, the agent role), and none on anyone else,
// whatever their name.
func TestConversationListBadges(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		me := hs.user("reader")
		meID := id(decode(t, hs.call("GET", "/auth/me", nil, me.AccessToken)))
		chief := hs.superuser("chief")
		plain := hs.user("plain")
		w := hs.call("PUT", "/auth/me", map[string]any{"full_name": "Assistant Manager ✓"}, plain.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		for _, from := range []tokens{chief, plain} {
			w := hs.call("POST", "/messages", map[string]any{"recipient_id": meID, "content": "hello"}, from.AccessToken)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		}

		w = hs.call("GET", "/auth/conversations", nil, me.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		badges := map[string]any{}
		for _, c := range decodeList(t, w) {
			other := c["other_user"].(map[string]any)
			badge, ok := other["badge"]
			if !ok {
				badge = "(none)"
			}
			badges[other["username"].(string)] = badge
		}
		assert.Equal(t, map[string]any{"assistant": "assistant", "chief": "staff", "plain": "(none)"}, badges)
	})
}
