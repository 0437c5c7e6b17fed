package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/activities"
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
			"completion_tokens": 16.0, "total_tokens": 2.0 * perCall, "daily_limit": 56.0, "remaining": 0.0, "cost_usd": 0.0},
			apitest.Decode(t, w))
		var calls []domain.LLMCall
		require.NoError(t, s.db.NewSelect().Model(&calls).Scan(context.Background()))
		require.Len(t, calls, 2)
		for _, c := range calls {
			assert.Equal(t, domain.LLMCall{ID: c.ID, CreatedAt: c.CreatedAt, UserID: u.UserID(),
				ConversationID: domain.AIConversationID(u.UserID()), TurnID: c.TurnID, Purpose: domain.PurposeReply,
				Agent: activities.DefaultAgent, Provider: "openai", Model: c.Model, PromptTokens: 20, CompletionTokens: 8, TotalTokens: perCall,
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

// INBOUND_MAX_PER_MINUTE counts a user's messages to the assistant across
// channels: past it the web gets 429 and nothing is stored; SMS messages
// are kept unanswered, with one notice a minute; a minute later the next
// message is answered with the kept ones in its history.
func TestInboundMessagesAreLimitedPerUserAcrossChannels(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStackWith(t, url, fakellm.Echo, nil, stackOptions{temporal: temporalServer,
			env: map[string]string{"INBOUND_MAX_PER_MINUTE": "3"}})
		u := s.user
		for _, text := range []string{"web one", "web two"} {
			s.replyTo(u, apitest.ID(s.ask(u, text)), 30*time.Second)
		}
		require.Contains(t, s.webhook(inbound("SM00000000000000000000000000000011", userPhone, "sms three")).Body.String(),
			"<Response></Response>")
		s.waitSMS(1)

		conv := "/auth/conversations/" + domain.AIConversationID(u.UserID()) + "/messages"
		w := s.Call("POST", conv, map[string]any{"content": "web four"}, u.AccessToken)
		require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
		secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
		require.NoError(t, err)
		assert.True(t, secs >= 1 && secs <= 60, "Retry-After %d", secs)
		assert.Equal(t, "Too many messages to the assistant; wait a moment", apitest.Decode(t, w)["detail"])
		assert.Zero(t, s.count((*domain.Message)(nil), "content = ?", "web four"), "nothing stored")

		first := s.webhook(inbound("SM00000000000000000000000000000015", userPhone, "sms five")).Body.String()
		assert.Contains(t, first, "<Message>You are writing faster than I can answer.")
		second := s.webhook(inbound("SM00000000000000000000000000000016", userPhone, "sms six")).Body.String()
		assert.Contains(t, second, "<Response></Response>", "one notice a minute")
		assert.EqualValues(t, 2, s.count((*domain.Message)(nil), "content IN (?) AND turn_status IS NULL",
			bun.List([]string{"sms five", "sms six"})), "kept, without a turn")
		time.Sleep(time.Second)
		assert.Len(t, s.llm.Requests(), 3, "nothing asked of the LLM past the limit")
		assert.Len(t, s.twilio.Sent(), 1)

		// A minute later.
		_, err = s.db.NewUpdate().Model((*domain.ThrottleHit)(nil)).
			Set("created_at = ?", domain.Now().Add(-61*time.Second)).Where("1 = 1").Exec(context.Background())
		require.NoError(t, err)
		s.replyTo(u, apitest.ID(s.ask(u, "web seven")), 30*time.Second)
		reqs := s.llm.Requests()
		require.Len(t, reqs, 4)
		var history []string
		for _, m := range reqs[3].Messages {
			history = append(history, m.Text())
		}
		assert.Subset(t, history, []string{"sms five", "sms six", "web seven"}, "the kept messages are in the history")
	})
}

// Over the limit on Telegram: kept, not answered, the notice in the
// webhook's answer.
func TestTelegramMessagesPastTheLimitAreKept(t *testing.T) {
	s := newTelegramStackWith(t, "sqlite:///:memory:", nil, map[string]string{"INBOUND_MAX_PER_MINUTE": "1"})
	u := s.User("hasty")
	s.link(u, telegramChat)
	require.Equal(t, http.StatusNoContent, s.update(2, telegramChat, "first", botSecret).Code)
	s.waitSent(1)
	w := s.update(3, telegramChat, "second", botSecret)
	require.Equal(t, http.StatusOK, w.Code)
	body := apitest.Decode(t, w)
	assert.Equal(t, "sendMessage", body["method"])
	assert.Contains(t, body["text"], "You are writing faster than I can answer.")
	assert.Equal(t, http.StatusNoContent, s.update(4, telegramChat, "third", botSecret).Code, "one notice a minute")
	n, err := s.db.NewSelect().Model((*domain.Message)(nil)).
		Where("channel = 'telegram' AND turn_status IS NULL AND content IN ('second', 'third')").Count(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	time.Sleep(time.Second)
	assert.Len(t, s.llm.Requests(), 1)
}

// LITELLM_FALLBACK_*: a primary that stays down, or refuses, is followed
// by the fallback before the apology; the reply records the fallback's
// model, and every request is in the usage table.
func TestTheFallbackLLMAnswersWhenThePrimaryFails(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		backup := fakellm.Start(fakellm.Echo)
		t.Cleanup(backup.Close)
		status := func(code int) fakellm.Script {
			return func(int, fakellm.Request) fakellm.Response { return fakellm.Response{Status: code} }
		}
		s := newStack(t, url, status(http.StatusInternalServerError), map[string]string{
			"LITELLM_FALLBACK_BASEURL": backup.BaseURL(), "LITELLM_FALLBACK_MODEL": "backup-model"})
		u := s.User("resilient")

		// Down: one request per attempt (TURN_LLM_ATTEMPTS is 3 here), then the fallback.
		reply := s.replyTo(u, apitest.ID(s.ask(u, "are you there?")), 30*time.Second)
		assert.Equal(t, "echo: are you there?", reply["content"])
		assert.Equal(t, "backup-model", reply["model"])
		assert.Len(t, s.llm.Requests(), 3)
		require.Len(t, backup.Requests(), 1)
		assert.Equal(t, "backup-model", backup.Requests()[0].Model)

		// Refusing (a bad key): no retry, the fallback at once.
		s.llm.SetScript(status(http.StatusUnauthorized))
		reply = s.replyTo(u, apitest.ID(s.ask(u, "and now?")), 30*time.Second)
		assert.Equal(t, "echo: and now?", reply["content"])
		assert.Len(t, s.llm.Requests(), 4)
		assert.Len(t, backup.Requests(), 2)

		// Both down: the apology, after the fallback's own attempts.
		backup.SetScript(status(http.StatusBadGateway))
		s.llm.SetScript(status(http.StatusServiceUnavailable))
		q := s.ask(u, "anyone?")
		reply = s.replyTo(u, apitest.ID(q), 30*time.Second)
		assert.Equal(t, workflows.ApologyUnavailable, reply["content"])
		assert.Nil(t, reply["model"])
		assert.Equal(t, workflows.OutcomeLLMUnavailable, s.turnOutcome(apitest.ID(q)).Outcome)
		assert.Len(t, s.llm.Requests(), 7)
		assert.Len(t, backup.Requests(), 5)

		// Every request is kept, by model and outcome.
		var rows []struct {
			Model   string
			Outcome domain.LLMOutcome
			N       int
		}
		require.NoError(t, s.db.NewSelect().Model((*domain.LLMCall)(nil)).Column("model", "outcome").ColumnExpr("count(*) AS n").
			Group("model", "outcome").Order("model", "outcome").Scan(context.Background(), &rows))
		assert.Equal(t, []struct {
			Model   string
			Outcome domain.LLMOutcome
			N       int
		}{
			{"backup-model", domain.LLMFailed, 3}, {"backup-model", domain.LLMOK, 2},
			{"openai/gpt-4o-mini", domain.LLMFailed, 6}, {"openai/gpt-4o-mini", domain.LLMRejected, 1},
		}, rows)
	})
}

// seedConversation stores n messages of u's conversation with the
// assistant, the user's and the assistant's in turn, answered already.
func (s *stack) seedConversation(u apitest.Tokens, n int, text func(i int) string) {
	s.t.Helper()
	ctx := context.Background()
	assistant, err := domain.Assistant(ctx, s.db)
	require.NoError(s.t, err)
	conv := domain.AIConversationID(u.UserID())
	msgs := make([]domain.Message, n)
	for i := range msgs {
		msgs[i] = domain.Message{SenderID: u.UserID(), RecipientID: assistant.ID, Content: text(i),
			ConversationID: &conv, Channel: domain.ChannelWeb}
		if i%2 == 1 {
			msgs[i].SenderID, msgs[i].RecipientID = assistant.ID, u.UserID()
		}
	}
	_, err = s.db.NewInsert().Model(&msgs).Exec(ctx)
	require.NoError(s.t, err)
}

// memoryScript answers summary requests with a summary naming how many
// older lines it read, and echoes everything else.
func memoryScript(n int, req fakellm.Request) fakellm.Response {
	if strings.HasPrefix(req.Messages[0].Text(), "You keep the memory") {
		return fakellm.Response{Content: fmt.Sprintf("SUMMARY of %d lines", strings.Count(req.Last().Text(), "\n"))}
	}
	return fakellm.Echo(n, req)
}

// A conversation of 80 messages: the turn first summarises the 30 before
// the window (the request holds them), then asks with the summary and the
// last 50; both calls count as the user's. A failing summary request
// never stands in the way of the reply.
func TestALongConversationIsRememberedBySummary(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, memoryScript, nil)
		u := s.User("talkative")
		ctx := context.Background()
		s.seedConversation(u, 79, func(i int) string { return fmt.Sprintf("old message %d", i) })

		s.replyTo(u, apitest.ID(s.ask(u, "message 80")), 30*time.Second)
		reqs := s.llm.Requests()
		require.Len(t, reqs, 2)
		summaryReq, replyReq := reqs[0], reqs[1]
		transcript := summaryReq.Last().Text()
		for i := range 30 {
			assert.Contains(t, transcript, fmt.Sprintf("old message %d\n", i), "the summary request holds the older messages")
		}
		assert.NotContains(t, transcript, "old message 30\n", "and not the window")
		require.Len(t, replyReq.Messages, 2+50, "the prompt, the summary, the last 50")
		assert.Equal(t, "system", replyReq.Messages[1].Role)
		assert.Equal(t, "Summary of the conversation before the messages below:\nSUMMARY of 30 lines", replyReq.Messages[1].Text())
		assert.Equal(t, "old message 30", replyReq.Messages[2].Text())
		assert.Equal(t, "message 80", replyReq.Last().Text())

		var purposes []domain.LLMPurpose
		require.NoError(t, s.db.NewSelect().Model((*domain.LLMCall)(nil)).Column("purpose").Order("id").Scan(ctx, &purposes))
		assert.Equal(t, []domain.LLMPurpose{domain.PurposeSummary, domain.PurposeReply}, purposes)
		w := s.Call("GET", "/auth/me/usage", nil, u.AccessToken)
		assert.Equal(t, 56.0, apitest.Decode(t, w)["total_tokens"], "the summary's tokens are the user's too")

		// The next turn reuses the summary: the window moved by 2, fewer than CHAT_SUMMARY_EVERY.
		s.replyTo(u, apitest.ID(s.ask(u, "message 82")), 30*time.Second)
		reqs = s.llm.Requests()
		require.Len(t, reqs, 3)
		assert.Equal(t, replyReq.Messages[1].Text(), reqs[2].Messages[1].Text())

		// The summary request failing: the reply comes all the same.
		_, err := s.db.NewDelete().Model((*domain.Memory)(nil)).Where("1 = 1").Exec(ctx)
		require.NoError(t, err)
		s.llm.SetScript(func(n int, req fakellm.Request) fakellm.Response {
			if strings.HasPrefix(req.Messages[0].Text(), "You keep the memory") {
				return fakellm.Response{Status: http.StatusInternalServerError}
			}
			return fakellm.Echo(n, req)
		})
		reply := s.replyTo(u, apitest.ID(s.ask(u, "message 84")), 30*time.Second)
		assert.Equal(t, "echo: message 84", reply["content"])
	})
}
