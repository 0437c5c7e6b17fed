package api_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/internal/testenv"
)

// Hostile values for path ids: not numbers, out of range, traversal,
// injection, encodings.
var hostileIDs = []string{"0", "-1", "abc", "1e3", "99999999999999999999", "..%2f..%2fetc%2fpasswd",
	"%00", "%27%20OR%201%3D1--", "%3Cscript%3E", "ai:1%20OR%201=1", "dm:1:1", "dm:-1:2", "ai:", "%E2%80%AE"}

// hostileStrings go into every field of a request body.
var hostileStrings = []string{
	"' OR '1'='1' --", "'; DROP TABLE users; --", `<script>alert(1)</script>`, `<img src=x onerror=alert(1)>`,
	"../../../../etc/passwd", "a\u0000b", "\u202eevil\u202c", "\ufeff", "𝕏😀\u0301\u200d", strings.Repeat("é", 300),
	"{{7*7}}", "${jndi:ldap://x}", "%s%s%s%n",
}

// bodyFields are the field names of every request body the API reads.
var bodyFields = []string{"username", "email", "password", "full_name", "bio", "phone_number", "is_superuser",
	"refresh_token", "current_password", "new_password", "recipient_id", "content", "parent_id", "conversation_id",
	"title", "comment", "status", "name", "description", "role_ids", "update_id", "message"}

// hostileBodies are malformed JSON, wrong types, edge values and a body
// past the limit.
func hostileBodies(limit int64) []string {
	bodies := []string{"{", "[]", "null", `"text"`, "123", `{"a":`, "\xff\xfe", `{"content":"\ud800"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "{" + strings.Repeat(`"k":1,`, 5000) + `"k":1}`,
		`{"recipient_id":1e400}`, `{"recipient_id":-9223372036854775809}`, `{"role_ids":[1,"x",null]}`,
		`{"role_ids":` + "[" + strings.Repeat("1,", 1000) + "1]}",
		`{"content":` + `"` + strings.Repeat("a", int(limit)) + `"}`}
	wrongTypes := map[string]any{}
	for _, f := range bodyFields {
		wrongTypes[f] = []any{map[string]any{"x": 1}}
	}
	bodies = append(bodies, mustJSON(wrongTypes))
	for _, s := range hostileStrings {
		fields := map[string]any{}
		for _, f := range bodyFields {
			fields[f] = s
		}
		bodies = append(bodies, mustJSON(fields))
	}
	return bodies
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// tablesTouched are the tables a request could wrongly write to.
var tablesTouched = []string{"users", "sessions", "messages", "reports", "roles", "user_roles", "telegram_links", "telegram_link_codes"}

func rowCounts(t testing.TB, db *bun.DB) map[string]int64 {
	counts := map[string]int64{}
	for _, table := range tablesTouched {
		n, err := db.NewSelect().Table(table).Count(context.Background())
		require.NoError(t, err, table)
		counts[table] = n
	}
	return counts
}

var ginParams = regexp.MustCompile(`[:*][A-Za-z_]+`)

// TestHostileInputGetsAClearRefusal sends malformed, mistyped, oversized
// and malicious input to every route, as nobody, a user and a superuser:
// the answer is never a 5xx, every refusal is JSON with a detail, and a
// refused request leaves every table as it was.
func TestHostileInputGetsAClearRefusal(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LOGIN_MAX_FAILURES": "1000",
			"TELEGRAM_BOT_TOKEN": "123456:hostile-test", "TELEGRAM_BOT_USERNAME": "aimsg_test_bot",
			"TELEGRAM_WEBHOOK_SECRET": "hostile-test-secret"})
		engine := hs.h.(*api.Handler).Handler.(*gin.Engine)
		user, admin := hs.user("mallory"), hs.superuser("root")
		bodies := hostileBodies(hs.cfg.MaxBodyBytes)
		sent, refused := 0, 0

		check := func(method, path, body, token string) {
			t.Helper()
			before := rowCounts(t, hs.db)
			w := hs.call(method, path, body, token)
			sent++
			where := method + " " + path + " body " + clip(body)
			require.Less(t, w.Code, 500, "%s: %s", where, w.Body.String())
			if w.Code < 400 {
				return
			}
			refused++
			var answer map[string]any
			if assert.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer), "%s: not JSON: %s", where, w.Body.String()) {
				assert.NotEmpty(t, answer["detail"], where)
			}
			assert.Equal(t, before, rowCounts(t, hs.db), "%s left data behind", where)
		}

		for _, r := range engine.Routes() {
			if r.Path == "/auth/logout" || r.Path == "/auth/logout-all" || strings.HasSuffix(r.Path, "/events") {
				continue // they end the test's sessions or stream forever; covered elsewhere
			}
			withID := func(id string) string { return ginParams.ReplaceAllString(r.Path, id) }
			for _, token := range []string{"", user.AccessToken, admin.AccessToken} {
				for _, id := range hostileIDs {
					if strings.Contains(r.Path, ":") || strings.Contains(r.Path, "*") {
						check(r.Method, withID(id), "{}", token)
					}
				}
				if r.Method == "GET" || r.Method == "DELETE" {
					check(r.Method, withID("1")+"?limit=-1&offset=x&status=%27&search=%00&conversation_id=..%2f", "", token)
					continue
				}
				for _, body := range bodies {
					check(r.Method, withID("1"), body, token)
				}
			}
		}
		t.Logf("%d hostile requests, %d refused", sent, refused)
	})
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
