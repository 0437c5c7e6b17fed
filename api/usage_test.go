package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestUsageShowsTodaysTokensAgainstTheLimit(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"LLM_USER_DAILY_TOKENS": "1000", "LLM_PRICES": "m=2/10"})
		root, user, other := hs.superuser("root"), hs.user("spender"), hs.user("bystander")
		uid := userID(user)
		now := domain.Now()
		for _, c := range []domain.LLMCall{
			{CreatedAt: now, PromptTokens: 300, CompletionTokens: 50},
			{CreatedAt: now, PromptTokens: 600, CompletionTokens: 150}, // 1,100 today: past the limit
			{CreatedAt: now.AddDate(0, 0, -2), PromptTokens: 10, CompletionTokens: 5},
			{CreatedAt: now.AddDate(0, 0, -40), PromptTokens: 7, CompletionTokens: 7},
		} {
			c.UserID, c.ConversationID, c.TurnID, c.Purpose = uid, domain.AIConversationID(uid), "turn", domain.PurposeReply
			c.Provider, c.Model, c.Outcome = "openai", "m", domain.LLMOK
			require.NoError(t, domain.RecordLLMCall(context.Background(), hs.db, &c))
		}
		today := now.Format(time.DateOnly)

		w := hs.call("GET", "/auth/me/usage", nil, user.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, map[string]any{"date": today, "prompt_tokens": 900.0, "completion_tokens": 200.0,
			"total_tokens": 1100.0, "daily_limit": 1000.0, "remaining": 0.0, "cost_usd": 0.0038}, decode(t, w),
			"900 prompt tokens at $2 and 200 completion tokens at $10 a million")

		w = hs.call("GET", "/auth/me/usage", nil, other.AccessToken)
		assert.Equal(t, map[string]any{"date": today, "prompt_tokens": 0.0, "completion_tokens": 0.0,
			"total_tokens": 0.0, "daily_limit": 1000.0, "remaining": 1000.0, "cost_usd": 0.0}, decode(t, w), "one's own usage only")

		w = hs.call("GET", "/auth/users/"+itoa(uid)+"/usage?days=3", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		days := decode(t, w)["days"].([]any)
		require.Len(t, days, 3)
		assert.Equal(t, map[string]any{"date": now.AddDate(0, 0, -2).Format(time.DateOnly), "prompt_tokens": 10.0,
			"completion_tokens": 5.0, "total_tokens": 15.0, "calls": 1.0, "cost_usd": 0.00007}, days[0])
		assert.Equal(t, 0.0, days[1].(map[string]any)["total_tokens"])
		assert.Equal(t, 1100.0, days[2].(map[string]any)["total_tokens"])

		for path, want := range map[string]int{
			"/auth/users/" + itoa(uid) + "/usage?days=0":   http.StatusUnprocessableEntity,
			"/auth/users/" + itoa(uid) + "/usage?days=367": http.StatusUnprocessableEntity,
			"/auth/users/" + itoa(uid) + "/usage?days=x":   http.StatusUnprocessableEntity,
			"/auth/users/999999/usage":                     http.StatusNotFound,
		} {
			assert.Equal(t, want, hs.call("GET", path, nil, root.AccessToken).Code, path)
		}
		assert.Equal(t, http.StatusForbidden, hs.call("GET", "/auth/users/"+itoa(uid)+"/usage", nil, other.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me/usage", nil, "").Code)
	})
}

func TestUsageWithoutALimitSaysSo(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	w := hs.call("GET", "/auth/me/usage", nil, hs.user("free").AccessToken)
	require.Equal(t, http.StatusOK, w.Code)
	body := decode(t, w)
	assert.Nil(t, body["daily_limit"])
	assert.Nil(t, body["remaining"])
	assert.Contains(t, body, "daily_limit", "null, not missing")
}

// Messages to the assistant are limited per user and minute; messages
// between people are not, and one user's burst leaves others alone.
func TestMessagesToTheAssistantAreLimitedPerMinute(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"INBOUND_MAX_PER_MINUTE": "2"})
		alice, bob := hs.user("alice"), hs.user("bob")
		aid := assistantID(hs)
		post := func(tk tokens, to int64) int {
			return hs.call("POST", "/messages", map[string]any{"recipient_id": to, "content": "hi"}, tk.AccessToken).Code
		}
		assert.Equal(t, []int{201, 201, 429}, []int{post(alice, aid), post(alice, aid), post(alice, aid)})
		conv := "/auth/conversations/" + domain.AIConversationID(userID(alice)) + "/messages"
		assert.Equal(t, http.StatusTooManyRequests, hs.call("POST", conv, map[string]any{"content": "hi"}, alice.AccessToken).Code,
			"the conversation route counts the same")
		n, err := hs.db.NewSelect().Model((*domain.Message)(nil)).Where("sender_id = ?", userID(alice)).Count(context.Background())
		require.NoError(t, err)
		assert.EqualValues(t, 2, n, "the refused ones are not stored")
		for range 5 {
			assert.Equal(t, http.StatusCreated, post(alice, userID(bob)), "people write to people freely")
		}
		assert.Equal(t, http.StatusCreated, post(bob, aid), "bob has his own minute")
	})
}
