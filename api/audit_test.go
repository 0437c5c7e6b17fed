package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// Every administrative and support action leaves one entry in the audit
// log, which superusers alone may read and filter.
func TestEveryAdministrativeActionIsAudited(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root, alice := hs.superuser("root"), hs.user("alice")
		rootID, aliceID := userID(root), userID(alice)
		do := func(method, path string, body any, want int) map[string]any {
			t.Helper()
			w := hs.call(method, path, body, root.AccessToken)
			require.Equal(t, want, w.Code, "%s %s: %s", method, path, w.Body.String())
			if w.Code >= 300 || w.Body.String()[0] != '{' {
				return nil
			}
			return decode(t, w)
		}
		bob := do("POST", "/auth/users", map[string]any{"username": "bob", "email": "bob@example.com", "password": "bob-password"}, 201)
		bobID := itoa(id(bob))
		do("PUT", "/auth/users/"+bobID+"/disable", nil, 200)
		do("PUT", "/auth/users/"+bobID+"/enable", nil, 200)
		do("PUT", "/auth/users/"+bobID+"/superuser", nil, 200)
		role := do("POST", "/auth/roles", map[string]any{"name": "billing"}, 201)
		do("PUT", "/auth/users/"+bobID+"/roles", map[string]any{"role_ids": []int64{id(role)}}, 200)
		do("DELETE", "/auth/roles/"+itoa(id(role)), nil, 200)
		report := itoa(id(hs.report(alice, "heater")))
		do("POST", "/reports/"+report+"/comment", map[string]any{"comment": "on it", "status": "in_progress"}, 200)
		do("PUT", "/reports/"+report+"/resolve", nil, 200)
		conv := "/support/conversations/" + domain.AIConversationID(aliceID)
		do("POST", conv+"/takeover", map[string]any{"reason": "angry customer"}, 202)
		do("POST", conv+"/resume", nil, 202)
		do("DELETE", "/auth/users/"+bobID, nil, 200)
		// Refused actions leave nothing.
		do("PUT", "/auth/users/999999/disable", nil, 404)
		do("PUT", "/auth/users/"+itoa(rootID)+"/superuser", map[string]any{"is_superuser": false}, 409)

		w := hs.call("GET", "/auth/audit?limit=100", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "12", w.Header().Get("X-Total-Count"))
		type entry struct{ action, targetType, targetID string }
		var got []entry
		for _, e := range decodeList(t, w) {
			got = append([]entry{{e["action"].(string), e["target_type"].(string), e["target_id"].(string)}}, got...)
			assert.Equal(t, float64(rootID), e["actor_id"])
			assert.Equal(t, "192.0.2.1", e["ip"])
		}
		assert.Equal(t, []entry{
			{"user.create", "user", bobID}, {"user.disable", "user", bobID}, {"user.enable", "user", bobID},
			{"user.superuser", "user", bobID}, {"role.create", "role", itoa(id(role))}, {"role.assign", "user", bobID},
			{"role.delete", "role", itoa(id(role))}, {"report.comment", "report", report}, {"report.resolve", "report", report},
			{"conversation.takeover", "conversation", domain.AIConversationID(aliceID)},
			{"conversation.resume", "conversation", domain.AIConversationID(aliceID)}, {"user.delete", "user", bobID},
		}, got)

		filtered := func(query string) []map[string]any {
			w := hs.call("GET", "/auth/audit?"+query, nil, root.AccessToken)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			return decodeList(t, w)
		}
		disabled := filtered("action=user.disable")
		require.Len(t, disabled, 1)
		assert.Equal(t, map[string]any{"is_active": false}, disabled[0]["changes"])
		comment := filtered("action=report.comment")
		assert.Equal(t, map[string]any{"status": "in_progress"}, comment[0]["changes"])
		takeover := filtered("action=conversation.takeover")
		assert.Equal(t, "angry customer", takeover[0]["changes"].(map[string]any)["reason"])
		assert.Len(t, filtered("actor_id="+itoa(rootID)), 12)
		assert.Empty(t, filtered("actor_id="+itoa(aliceID)))
		assert.Len(t, filtered("since="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)), 12)
		assert.Empty(t, filtered("since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)))
		assert.Len(t, filtered("limit=5&offset=10"), 2)

		for _, bad := range []string{"action=user.fly", "since=yesterday", "actor_id=x", "limit=0"} {
			assert.Equal(t, http.StatusUnprocessableEntity, hs.call("GET", "/auth/audit?"+bad, nil, root.AccessToken).Code, bad)
		}
		assert.Equal(t, http.StatusForbidden, hs.call("GET", "/auth/audit", nil, alice.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/audit", nil, "").Code)
	})
}
