package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/workflows"
)

// userTexts are the user's messages a request carries, in order.
func userTexts(req fakellm.Request) []string {
	var out []string
	for _, m := range req.Messages {
		if m.Role == "user" {
			out = append(out, m.Text())
		}
	}
	return out
}

// echoAll answers with every user message of the request.
func echoAll(_ int, req fakellm.Request) fakellm.Response {
	return fakellm.Response{Content: "echo: " + strings.Join(userTexts(req), " | ")}
}

// Three texts 300 ms apart are one request split by its sender: one turn
// answers them together, with one LLM request and one SMS.
func TestABurstOfTextsGetsOneReply(t *testing.T) {
	s := newSMSStackWith(t, "sqlite:///:memory:", echoAll, nil, stackOptions{temporal: temporalServer,
		env: map[string]string{"TURN_DEBOUNCE_MS": "1500"}})
	texts := []string{"hi, my order", "number is 4411", "it never came"}
	for i, text := range texts {
		if i > 0 {
			time.Sleep(300 * time.Millisecond)
		}
		require.Equal(t, http.StatusOK, s.webhook(inbound(fmt.Sprintf("SM%032d", 100+i), userPhone, text)).Code)
	}
	sent := s.waitSMS(1)
	assert.Equal(t, "echo: "+strings.Join(texts, " | "), sent[0].Body)
	time.Sleep(time.Second) // room for a wrong second turn
	assert.Len(t, s.twilio.Sent(), 1)
	require.Len(t, s.llm.Requests(), 1)
	assert.Equal(t, texts, userTexts(s.llm.Requests()[0]))
	s.saveHistories(workflows.ConversationWorkflowID(domain.AIConversationID(s.user.UserID())))
}

// A call for a person that comes while a turn is stuck on a silent LLM
// hands the conversation off at once: the stuck turn is stopped.
func TestACallForAPersonDoesNotWaitForAStuckTurn(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", func(_ int, req fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "too late", Delay: time.Minute}
	}, nil)
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000200", userPhone, "my parcel is late")).Code)
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.NotEmpty(c, s.llm.Requests()) }, 10*time.Second, 20*time.Millisecond)
	asked := time.Now()
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000201", userPhone, "I need a human please")).Code)
	sent := s.waitSMS(1)
	assert.Equal(t, s.cfg.HandoffMessage, sent[0].Body, "told a person will answer")
	assert.Less(t, time.Since(asked), 20*time.Second, "not after the stuck LLM call")
	s.waitMode(s.user, "human")
	first, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, "SM00000000000000000000000000000200")
	require.NoError(t, err)
	desc, err := s.tc.DescribeWorkflow(context.Background(), workflows.TurnWorkflowID(first.ID), "")
	require.NoError(t, err)
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_CANCELED, desc.RawResponse.GetWorkflowExecutionInfo().GetStatus())
	assert.Len(t, s.twilio.Sent(), 1, "no late reply from the stopped turn")
	s.saveHistories(workflows.ConversationWorkflowID(domain.AIConversationID(s.user.UserID())))
}

// A message that comes while a turn is retrying a failing LLM stops that
// turn: one turn answers both, and no apology is saved.
func TestANewMessageInterruptsATurnRetryingTheLLM(t *testing.T) {
	s := newStack(t, "sqlite:///:memory:", func(_ int, req fakellm.Request) fakellm.Response {
		if len(userTexts(req)) == 1 {
			return fakellm.Response{Status: http.StatusServiceUnavailable}
		}
		return echoAll(0, req)
	}, map[string]string{"TURN_LLM_ATTEMPTS": "30", "TURN_LLM_RETRY_MS": "200"})
	user := s.User("patient")
	first := s.ask(user, "where is my refund")
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.GreaterOrEqual(c, len(s.llm.Requests()), 2) },
		20*time.Second, 20*time.Millisecond, "the first turn is retrying")
	second := s.ask(user, "order 4411, sorry")
	reply := s.replyTo(user, apitest.ID(second), 30*time.Second)
	assert.Equal(t, "echo: where is my refund | order 4411, sorry", reply["content"])
	assert.Equal(t, workflows.OutcomeInterrupted, s.turnOutcome(apitest.ID(first)).Outcome)
	assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(second)).Outcome)
	w := s.Call("GET", "/auth/conversations/"+domain.AIConversationID(user.UserID())+"/messages", nil, user.AccessToken)
	msgs := apitest.DecodeList(t, w)
	require.Len(t, msgs, 3, "two questions and one answer, no apology")
	for _, m := range msgs {
		assert.NotEqual(t, "failed", m["turn_status"], "%v", m)
	}
	assert.NotContains(t, s.history(workflows.TurnWorkflowID(apitest.ID(first))), "local:SaveReply")
	s.saveHistories(workflows.TurnWorkflowID(apitest.ID(first)))
}
