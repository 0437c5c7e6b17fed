package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
)

func TestUpdateProfile(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		tk := hs.user("profiled")
		hs.user("other")
		w := hs.call("PUT", "/auth/me", map[string]any{"full_name": "Pro Filed", "bio": "hello", "email": "New@Example.com"}, tk.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		body := decode(t, w)
		assert.Equal(t, "Pro Filed", body["full_name"])
		assert.Equal(t, "hello", body["bio"])
		assert.Equal(t, "new@example.com", body["email"])

		w = hs.call("PUT", "/auth/me", map[string]any{"email": "other@example.com"}, tk.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code)
		w = hs.call("PUT", "/auth/me", map[string]any{"email": "broken"}, tk.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)

		// Logging in by email works in any case.
		hs.login("NEW@example.com", "profiled-password")
	})
}

func TestPhoneIsNormalisedAndUnique(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		a, b := hs.user("phoneA"), hs.user("phoneB")
		w := hs.call("PUT", "/auth/me/phone", map[string]any{"phone_number": "+1 (415) 555-2671"}, a.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "+14155552671", decode(t, w)["phone_number"])

		w = hs.call("PUT", "/auth/me/phone", map[string]any{"phone_number": "0014155552671"}, b.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, "the same number written another way")
		assert.Equal(t, "phone number already registered", decode(t, w)["detail"])

		for _, bad := range []string{"4155552671", "+1 555", "call me"} {
			w = hs.call("PUT", "/auth/me/phone", map[string]any{"phone_number": bad}, b.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, bad)
		}

		w = hs.call("PUT", "/auth/me/phone", map[string]any{"phone_number": nil}, a.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Nil(t, decode(t, w)["phone_number"])
		w = hs.call("PUT", "/auth/me/phone", map[string]any{"phone_number": "+44 20 7946 0958"}, b.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "+442079460958", decode(t, w)["phone_number"])
	})
}

func TestPasswordChange(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		here := hs.user("changer")
		there := hs.login("changer", "changer-password")

		w := hs.call("PUT", "/auth/me/password", map[string]any{"current_password": "wrong-one", "new_password": "brand-new-pw"}, here.AccessToken)
		assert.Equal(t, http.StatusBadRequest, w.Code)
		w = hs.call("PUT", "/auth/me/password", map[string]any{"current_password": "changer-password", "new_password": "short"}, here.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)

		w = hs.call("PUT", "/auth/me/password", map[string]any{"current_password": "changer-password", "new_password": "brand-new-pw"}, here.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, here.AccessToken).Code, "this session stays")
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, there.AccessToken).Code, "the others end")
		assert.Equal(t, http.StatusUnauthorized,
			hs.call("POST", "/auth/login", map[string]any{"username": "changer", "password": "changer-password"}, "").Code)
		hs.login("changer", "brand-new-pw")
	})
}
