package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// A user with LLM_USER_DAILY_TOKENS for two calls: two answers from the
// LLM, then the budget message with no request; the usage endpoint and
// the stored calls say what the fake LLM reported; the next UTC day the
// LLM answers again.
func TestTheDailyTokenBudgetStopsLLMCalls(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		const perCall = 28 // 20 prompt and 8 completion tokens, as the fake reports
		s := newStack(t, url, fakellm.Echo, map[string]string{"LLM_USER_DAILY_TOKENS": "56",
			"LLM_BUDGET_MESSAGE": "Enough for today."})
		u := s.User("thrifty")
		for _, text := range []string{"first", "second"} {
			q := s.ask(u, text)
			assert.Equal(t, "echo: "+text, s.replyTo(u, apitest.ID(q), 30*time.Second)["content"])
		}
		q := s.ask(u, "third")
		assert.Equal(t, "Enough for today.", s.replyTo(u, apitest.ID(q), 30*time.Second)["content"])
		assert.Equal(t, workflows.OutcomeBudgetExceeded, s.turnOutcome(apitest.ID(q)).Outcome)
		assert.Len(t, s.llm.Requests(), 2, "no LLM request once the budget is spent")

		w := s.Call("GET", "/auth/me/usage", nil, u.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, map[string]any{"date": domain.Now().Format(time.DateOnly), "prompt_tokens": 40.0,
			"completion_tokens": 16.0, "total_tokens": 2.0 * perCall, "daily_limit": 56.0, "remaining": 0.0},
			apitest.Decode(t, w))
		var calls []domain.LLMCall
		require.NoError(t, s.db.NewSelect().Model(&calls).Scan(context.Background()))
		require.Len(t, calls, 2)
		for _, c := range calls {
			assert.Equal(t, domain.LLMCall{ID: c.ID, CreatedAt: c.CreatedAt, UserID: u.UserID(),
				ConversationID: domain.AIConversationID(u.UserID()), TurnID: c.TurnID, Purpose: domain.PurposeReply,
				Provider: "openai", Model: c.Model, PromptTokens: 20, CompletionTokens: 8, TotalTokens: perCall,
				LatencyMS: c.LatencyMS, Outcome: domain.LLMOK}, c)
			assert.NotEmpty(t, c.TurnID)
		}

		// A day later the spent tokens are yesterday's.
		_, err := s.db.NewUpdate().Model((*domain.LLMCall)(nil)).
			Set("created_at = ?", domain.Now().AddDate(0, 0, -1)).Where("1 = 1").Exec(context.Background())
		require.NoError(t, err)
		q = s.ask(u, "fourth")
		assert.Equal(t, "echo: fourth", s.replyTo(u, apitest.ID(q), 30*time.Second)["content"])
	})
}
