package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// Whether the AI is any good, end to end on both databases: a texter's
// request the AI answers ends, once they are quiet, resolved by the AI,
// with the survey asked by SMS and answered by a bare "4" the AI never
// sees; a web user's request a person takes over, answers and gives back
// ends resolved by a person, with the survey answered in the app; the
// user rates the AI's answer (only they can; a second rating replaces
// the first; taken back; rated again); and the analytics add up exactly
// that: counts, rates, reply times, thumbs, the survey, tokens and their
// cost at the configured prices.
func TestOutcomesFeedbackAndAnalytics(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStackWith(t, url, fakellm.Echo, nil, stackOptions{temporal: temporalServer, env: map[string]string{
			"CSAT_ENABLED": "true", "CSAT_AFTER_MINUTES": "0.05", "LITELLM_MODEL": "e2e-model",
			"LLM_PRICES": "e2e-model=2/10"}})
		root := s.superuser("root")
		ann, bob := s.User("ann"), s.User("bob")

		// The texter: answered, quiet, asked, answers 4.
		w := s.webhook(inbound("SM00000000000000000000000000000101", userPhone, "where is my parcel?"))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		sent := s.waitSMS(2)
		assert.Equal(t, "echo: where is my parcel?", sent[0].Body)
		assert.Equal(t, domain.SurveyQuestion, sent[1].Body, "asked once the texter was quiet")
		calls := len(s.llm.Requests())
		w = s.webhook(inbound("SM00000000000000000000000000000102", userPhone, "4"))
		require.Equal(t, http.StatusOK, w.Code)
		assert.Contains(t, w.Body.String(), domain.SurveyThanks)
		texterConv := domain.AIConversationID(s.user.UserID())
		eps := waitEpisodes(t, s.stack, texterConv, 1)
		assert.Equal(t, domain.OutcomeResolvedByAI, eps[0].Outcome)
		assert.Equal(t, domain.ChannelTwilio, eps[0].Channel)
		require.NotNil(t, eps[0].CSATScore)
		assert.Equal(t, 4, *eps[0].CSATScore)

		// Ann: answered by the AI, taken over, answered by a person, given back.
		q := s.ask(ann, "my invoice is wrong")
		answer := s.replyTo(ann, apitest.ID(q), 30*time.Second)
		annConv := domain.AIConversationID(ann.UserID())
		w = s.Call("POST", "/support/conversations/"+annConv+"/takeover", map[string]any{"reason": "billing"}, root.AccessToken)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		s.waitMode(ann, "human")
		w = s.Call("POST", "/support/conversations/"+annConv+"/messages", map[string]any{"content": "Fixed: a new invoice is on its way."}, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

		answerPath := "/messages/" + strconv.FormatInt(apitest.ID(answer), 10) + "/feedback"
		rate := func(tk apitest.Tokens, body map[string]any) *httptest.ResponseRecorder {
			return s.Call("POST", answerPath, body, tk.AccessToken)
		}
		assert.Equal(t, http.StatusNotFound, rate(bob, map[string]any{"rating": "up"}).Code, "only the person it answered")
		assert.Equal(t, http.StatusUnprocessableEntity, s.Call("POST", "/messages/"+strconv.FormatInt(apitest.ID(q), 10)+"/feedback",
			map[string]any{"rating": "up"}, ann.AccessToken).Code, "not an answer")
		assert.Equal(t, http.StatusOK, rate(ann, map[string]any{"rating": "up"}).Code)
		r := rate(ann, map[string]any{"rating": "down", "comment": "still wrong"})
		require.Equal(t, http.StatusOK, r.Code)
		assert.Equal(t, "down", apitest.Decode(t, r)["rating"], "replaced")
		assert.Equal(t, http.StatusOK, s.Call("DELETE", answerPath, nil, ann.AccessToken).Code)
		assert.Nil(t, messageIn(t, s.stack, ann, apitest.ID(answer))["feedback"], "taken back")
		require.Equal(t, http.StatusOK, rate(ann, map[string]any{"rating": "up"}).Code)
		assert.Equal(t, "up", messageIn(t, s.stack, ann, apitest.ID(answer))["feedback"].(map[string]any)["rating"])

		w = s.Call("POST", "/support/conversations/"+annConv+"/resume", nil, root.AccessToken)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		eps = waitEpisodes(t, s.stack, annConv, 1)
		assert.Equal(t, domain.OutcomeResolvedByPerson, eps[0].Outcome)
		require.NotNil(t, eps[0].CSATMessageID)
		surveyID := *eps[0].CSATMessageID
		var survey map[string]any
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			survey = messageIn(t, s.stack, ann, surveyID)
			assert.Equal(c, map[string]any{"score": nil}, survey["survey"], "the app shows the 1-5 prompt")
		}, 30*time.Second, 20*time.Millisecond)
		assert.Equal(t, domain.SurveyQuestion, survey["content"])
		csat := func(tk apitest.Tokens, score int) *httptest.ResponseRecorder {
			return s.Call("POST", "/messages/"+strconv.FormatInt(surveyID, 10)+"/csat", map[string]any{"score": score}, tk.AccessToken)
		}
		assert.Equal(t, http.StatusNotFound, csat(bob, 5).Code)
		assert.Equal(t, http.StatusUnprocessableEntity, csat(ann, 7).Code)
		assert.Equal(t, http.StatusOK, csat(ann, 5).Code)
		assert.Equal(t, http.StatusConflict, csat(ann, 1).Code, "answered once")
		assert.Equal(t, calls+1, len(s.llm.Requests()), "one LLM call for ann; none for the scores")

		// The analytics say exactly that.
		w = s.Call("GET", "/analytics/summary", nil, ann.AccessToken)
		assert.Equal(t, http.StatusForbidden, w.Code, "for support staff")
		w = s.Call("GET", "/analytics/summary", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		sum := apitest.Decode(t, w)
		llmCalls := float64(len(s.llm.Requests()))
		assert.Equal(t, 2.0, sum["conversations"])
		assert.Equal(t, map[string]any{"resolved_by_ai": 1.0, "resolved_by_person": 1.0, "handed_off": 0.0, "abandoned": 0.0}, sum["outcomes"])
		assert.Equal(t, 0.5, sum["ai_resolution_rate"])
		assert.Equal(t, 0.5, sum["handoff_rate"])
		assert.Equal(t, 2.0, sum["turns"])
		assert.Equal(t, 2.0, sum["first_reply"].(map[string]any)["count"])
		assert.Equal(t, 1.0, sum["person_first_reply"].(map[string]any)["count"])
		assert.NotNil(t, sum["person_first_reply"].(map[string]any)["median_ms"])
		assert.Equal(t, map[string]any{"up": 1.0, "down": 0.0}, sum["feedback"])
		assert.Equal(t, map[string]any{"asked": 2.0, "answered": 2.0, "answer_rate": 1.0, "average": 4.5}, sum["csat"])
		// The fake LLM reports 20 prompt and 8 completion tokens a call.
		assert.Equal(t, map[string]any{"prompt": 20 * llmCalls, "completion": 8 * llmCalls, "total": 28 * llmCalls}, sum["tokens"])
		assert.InDelta(t, llmCalls*(20*2+8*10)/1e6, sum["cost_usd"], 1e-9)

		w = s.Call("GET", "/analytics/summary?channel=twilio", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, 1.0, apitest.Decode(t, w)["conversations"])
		w = s.Call("GET", "/analytics/summary?from=2026-13-01", nil, root.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
		w = s.Call("GET", "/analytics/daily?from="+domain.Now().AddDate(0, 0, -2).Format(time.DateOnly), nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		days := apitest.DecodeList(t, w)
		require.Len(t, days, 3)
		assert.Equal(t, 0.0, days[0]["conversations"])
		assert.Equal(t, 2.0, days[2]["conversations"])
		assert.Equal(t, sum["csat"], days[2]["csat"])

		s.saveHistories(workflows.ConversationWorkflowID(texterConv))

		// Each outcome counted once, by agent and channel.
		assert.Equal(t, 1.0, scrape(t, s.H, "aimsg_conversation_outcomes_total", `outcome="resolved_by_ai"`, `agent=""`, `channel="twilio"`))
		assert.Equal(t, 1.0, scrape(t, s.H, "aimsg_conversation_outcomes_total", `outcome="resolved_by_person"`, `channel="web"`))
		assert.Equal(t, 1.0, scrape(t, s.H, "aimsg_feedback_total", `rating="down"`))
		assert.Equal(t, 2.0, scrape(t, s.H, "aimsg_feedback_total", `rating="up"`))
	})
}

// waitEpisodes waits until a conversation's n episodes are recorded.
func waitEpisodes(t *testing.T, s *stack, conversationID string, n int) []domain.Episode {
	t.Helper()
	var eps []domain.Episode
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		eps, err = domain.EpisodesOf(context.Background(), s.db, conversationID)
		require.NoError(c, err)
		assert.Len(c, eps, n)
	}, 30*time.Second, 20*time.Millisecond)
	return eps
}

// messageIn is a message as tk reads it in their conversation with the
// assistant.
func messageIn(t *testing.T, s *stack, tk apitest.Tokens, id int64) map[string]any {
	t.Helper()
	w := s.Call("GET", "/auth/conversations/"+domain.AIConversationID(tk.UserID())+"/messages?limit=100", nil, tk.AccessToken)
	require.Equal(t, http.StatusOK, w.Code)
	for _, m := range apitest.DecodeList(t, w) {
		if apitest.ID(m) == id {
			return m
		}
	}
	return nil
}
