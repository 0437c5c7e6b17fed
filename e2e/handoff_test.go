package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

const ack = "A person will answer you here."

// agent registers a user and gives them the built-in agent role.
func (s *stack) agent(username string) apitest.Tokens {
	s.t.Helper()
	tk := s.User(username)
	testenv.MakeAgent(s.t, s.db, tk.UserID())
	return tk
}

// superuser creates a superuser the way createsuperuser does and logs in.
func (s *stack) superuser(username string) apitest.Tokens {
	s.t.Helper()
	hash, err := auth.HashPassword(username+"-password", 10)
	require.NoError(s.t, err)
	_, _, err = domain.EnsureSuperuser(context.Background(), s.db, domain.SuperuserInput{
		Username: username, Email: username + "@example.com", HashedPassword: hash})
	require.NoError(s.t, err)
	return s.Login(username, username+"-password")
}

// mode waits until the user's view of their conversation with the
// assistant shows mode.
func (s *stack) waitMode(user apitest.Tokens, mode string) {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		w := s.Call("GET", "/auth/conversations", nil, user.AccessToken)
		require.Equal(c, http.StatusOK, w.Code)
		assert.Equal(c, mode, apitest.DecodeList(s.t, w)[0]["mode"])
	}, 30*time.Second, 20*time.Millisecond)
}

// waitTurnStatus waits until a stored message's turn status is want.
func (s *stack) waitTurnStatus(messageID int64, want domain.TurnStatus) {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		m, err := domain.MessageByID(context.Background(), s.db, messageID)
		require.NoError(c, err)
		require.NotNil(c, m.TurnStatus)
		assert.Equal(c, want, *m.TurnStatus)
	}, 30*time.Second, 20*time.Millisecond)
}

// An SMS user texts HUMAN: they are told a person will answer, their next
// three texts cause no LLM call, an agent answers twice (one SMS each),
// resumes, and the AI answers the next text with the human exchange in
// its request.
func TestAnSMSUserIsHandedToAPersonAndBack(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStack(t, url, fakellm.Echo, nil)
		agent := s.agent("alice")
		conv := domain.AIConversationID(s.user.UserID())

		require.Equal(t, http.StatusOK, s.webhook(inbound("SM10000000000000000000000000000001", userPhone, "HUMAN")).Code)
		sent := s.waitSMS(1)
		assert.Equal(t, ack, sent[0].Body)
		s.waitMode(s.user, "human")

		var held []int64
		for i, text := range []string{"my card was charged twice", "order 1234", "please hurry"} {
			sid := "SM1000000000000000000000000000001" + itoa(int64(i+2))
			require.Equal(t, http.StatusOK, s.webhook(inbound(sid, userPhone, text)).Code)
			m, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, sid)
			require.NoError(t, err)
			held = append(held, m.ID)
			// Twilio retries a webhook it thinks failed: one message each.
			require.Equal(t, http.StatusOK, s.webhook(inbound(sid, userPhone, text)).Code)
		}
		for _, id := range held {
			s.waitTurnStatus(id, domain.TurnHuman)
		}
		assert.Empty(t, s.llm.Requests(), "no LLM call while a person has the conversation")
		assert.EqualValues(t, 4, s.count((*domain.Message)(nil), "conversation_id = ? AND sender_id = ?", conv, s.user.UserID()),
			"each text stored once")
		assert.Len(t, s.twilio.Sent(), 1, "one acknowledgement per handoff")

		// The inbox shows the conversation, handed off, with four unread.
		w := s.Call("GET", "/support/conversations?mode=human", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		inbox := apitest.DecodeList(t, w)
		require.Len(t, inbox, 1)
		assert.Equal(t, conv, inbox[0]["conversation_id"])
		assert.Equal(t, "the user asked for a person", inbox[0]["reason"])
		assert.EqualValues(t, 4, inbox[0]["unread_count"])
		assert.Equal(t, "texter", inbox[0]["user"].(map[string]any)["username"])
		require.Equal(t, http.StatusOK, s.Call("GET", "/support/conversations/"+conv+"/messages", nil, agent.AccessToken).Code)
		w = s.Call("GET", "/support/conversations?mode=human", nil, agent.AccessToken)
		assert.EqualValues(t, 0, apitest.DecodeList(t, w)[0]["unread_count"], "read by the team")

		for _, text := range []string{"Hi, this is Alice. I see the double charge.", "Refunded: 3 to 5 days."} {
			w := s.Call("POST", "/support/conversations/"+conv+"/messages", map[string]any{"content": text}, agent.AccessToken)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			m := apitest.Decode(t, w)
			assert.EqualValues(t, agent.UserID(), m["agent_id"])
			assert.Equal(t, "twilio", m["channel"], "back where the user last wrote from")
		}
		sent = s.waitSMS(3)
		assert.Equal(t, "Hi, this is Alice. I see the double charge.", sent[1].Body)
		assert.Equal(t, "Refunded: 3 to 5 days.", sent[2].Body)
		assert.Equal(t, userPhone, sent[2].To)

		w = s.Call("POST", "/support/conversations/"+conv+"/resume", nil, agent.AccessToken)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		s.waitMode(s.user, "ai")

		require.Equal(t, http.StatusOK, s.webhook(inbound("SM10000000000000000000000000000009", userPhone, "thanks!")).Code)
		sent = s.waitSMS(4)
		assert.Equal(t, "echo: thanks!", sent[3].Body)
		time.Sleep(200 * time.Millisecond)
		assert.Len(t, s.twilio.Sent(), 4, "each SMS sent once")
		reqs := s.llm.Requests()
		require.Len(t, reqs, 1)
		var transcript []string
		for _, m := range reqs[0].Messages[1:] {
			transcript = append(transcript, m.Role+": "+m.Text())
		}
		assert.Equal(t, []string{
			"user: HUMAN",
			"assistant: " + ack,
			"user: my card was charged twice",
			"user: order 1234",
			"user: please hurry",
			"assistant: " + activities.HumanLabel + "Hi, this is Alice. I see the double charge.",
			"assistant: " + activities.HumanLabel + "Refunded: 3 to 5 days.",
			"user: thanks!",
		}, transcript, "the human exchange, labelled, in the AI's history")
	})
}

// An agent takes over while the LLM is still writing: the turn is
// cancelled, no AI reply is saved or delivered, and the user is told a
// person will answer.
func TestATakeoverStopsTheAIReplyInFlight(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, func(_ int, req fakellm.Request) fakellm.Response {
			return fakellm.Response{Content: "the AI's late answer", Delay: 3 * time.Second}
		}, nil)
		user := s.User("webber")
		agent := s.agent("bob")
		conv := domain.AIConversationID(user.UserID())
		asked := s.ask(user, "is anyone there?")
		require.Eventually(t, func() bool { return len(s.llm.Requests()) == 1 }, 30*time.Second, 10*time.Millisecond)

		w := s.Call("POST", "/support/conversations/"+conv+"/takeover", map[string]any{"reason": "VIP customer"}, agent.AccessToken)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())

		ctx := context.Background()
		require.Eventually(t, func() bool {
			d, err := s.tc.DescribeWorkflow(ctx, workflows.TurnWorkflowID(int64(asked["id"].(float64))), "")
			return err == nil && d.Status == enums.WORKFLOW_EXECUTION_STATUS_CANCELED
		}, 30*time.Second, 20*time.Millisecond, "the turn is cancelled")
		s.waitTurnStatus(int64(asked["id"].(float64)), domain.TurnHuman)
		time.Sleep(3500 * time.Millisecond) // past the LLM's answer
		w = s.Call("GET", "/auth/conversations/"+conv+"/messages", nil, user.AccessToken)
		var texts []string
		for _, m := range apitest.DecodeList(t, w) {
			texts = append(texts, m["content"].(string))
		}
		assert.Equal(t, []string{ack, "is anyone there?"}, texts, "the acknowledgement, and no AI reply")

		w = s.Call("GET", "/support/conversations?mode=human", nil, agent.AccessToken)
		inbox := apitest.DecodeList(t, w)
		require.Len(t, inbox, 1)
		assert.Equal(t, "VIP customer", inbox[0]["reason"])
		assert.EqualValues(t, agent.UserID(), inbox[0]["agent_id"])
		v, err := s.tc.QueryWorkflow(ctx, workflows.ConversationWorkflowID(conv), "", workflows.ModeQuery)
		require.NoError(t, err)
		var mode workflows.ConversationMode
		require.NoError(t, v.Get(&mode))
		assert.Equal(t, domain.ModeHuman, mode.Mode, "the workflow says so too")
	})
}

// Nobody answers a handed-off conversation: the durable timer gives it
// back to the AI, which answers the next message.
func TestTheAITakesBackAConversationNobodyAnswers(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) { theAITakesBack(t, url) })
}

func theAITakesBack(t *testing.T, url string) {
	s := newStack(t, url, func(_ int, req fakellm.Request) fakellm.Response {
		if strings.Contains(req.Last().Text(), "person") {
			return fakellm.Response{ToolCalls: []fakellm.ToolCall{
				fakellm.Call("c1", activities.HandoffTool, `{"reason":"wants a person"}`)}}
		}
		return fakellm.Echo(0, req)
	}, map[string]string{"HANDOFF_IDLE_MINUTES": "0.05"}) // 3 s
	user := s.User("waiter")
	asked := s.ask(user, "I want a person")
	reply := s.replyTo(user, int64(asked["id"].(float64)), 30*time.Second)
	assert.Equal(t, ack, reply["content"], "the handoff tool's acknowledgement")
	assert.Equal(t, workflows.OutcomeHandedOff, s.turnOutcome(int64(asked["id"].(float64))).Outcome)
	s.waitMode(user, "human")
	s.waitMode(user, "ai")

	next := s.ask(user, "hello again")
	reply = s.replyTo(user, int64(next["id"].(float64)), 30*time.Second)
	assert.Equal(t, "echo: hello again", reply["content"])
}
