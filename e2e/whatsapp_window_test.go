package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// whatsAppTemplate is the Content SID of the approved template.
const whatsAppTemplate = "HX0123456789abcdef0123456789abcdef"

// lateAnswer is what a person on the support team answers, a day later.
const lateAnswer = "Hi, this is Alice from support. I checked your order: the refund of 42 euros went out this " +
	"morning and should reach your card within five days."

// whatsAppDayOld is a stack (with env) where the user wrote by WhatsApp,
// was answered by the AI inside the window (a plain message), and wrote
// last 25 hours ago, as the database and Twilio both saw it.
func whatsAppDayOld(t *testing.T, url string, env map[string]string) *smsStack {
	t.Helper()
	s := newSMSStackWith(t, url, fakellm.Echo, nil, stackOptions{temporal: temporalServer, env: env})
	from := "whatsapp:" + userPhone
	sid := "SM30000000000000000000000000000001"
	require.Equal(t, http.StatusOK, s.webhook(inbound(sid, from, "where is my refund?")).Code)
	sent := s.waitSMS(1)
	assert.Equal(t, from, sent[0].To)
	assert.Equal(t, "echo: where is my refund?", sent[0].Body, "inside the window: the text itself")
	assert.Empty(t, sent[0].ContentSID)
	in, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, sid)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeReplied, s.turnOutcome(in.ID).Outcome)

	dayAgo := time.Now().Add(-25 * time.Hour).UTC()
	_, err = s.db.NewUpdate().Model((*domain.Message)(nil)).Set("created_at = ?", dayAgo).
		Where("sender_id = ?", s.user.UserID()).Exec(context.Background())
	require.NoError(t, err)
	s.twilio.SawInbound(from, dayAgo)
	return s
}

// answer posts a person's answer to the user's conversation.
func (s *smsStack) answer(agent apitest.Tokens, text string) int64 {
	s.t.Helper()
	w := s.Call("POST", "/support/conversations/"+domain.AIConversationID(s.user.UserID())+"/messages",
		map[string]any{"content": text}, agent.AccessToken)
	require.Equal(s.t, http.StatusCreated, w.Code, w.Body.String())
	return apitest.ID(apitest.Decode(s.t, w))
}

// A person's answer 25 hours after the user's last WhatsApp message goes
// out as the approved template, its variable the start of the answer.
func TestALateWhatsAppAnswerGoesAsTheTemplate(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := whatsAppDayOld(t, url, map[string]string{"WHATSAPP_TEMPLATE_SID": whatsAppTemplate})
		id := s.answer(s.agent("alice"), lateAnswer)

		sent := s.waitSMS(2)
		assert.Equal(t, "whatsapp:"+userPhone, sent[1].To)
		assert.Equal(t, whatsAppTemplate, sent[1].ContentSID)
		var vars map[string]string
		require.NoError(t, json.Unmarshal([]byte(sent[1].ContentVariables), &vars))
		preview := vars["1"]
		assert.LessOrEqual(t, utf8.RuneCountInString(preview), activities.TemplatePreviewLimit)
		assert.True(t, strings.HasSuffix(preview, "…"), preview)
		assert.True(t, strings.HasPrefix(lateAnswer, strings.TrimSuffix(preview, "…")+" "), "cut at a word: %q", preview)
		assert.Equal(t, 2, s.twilio.Creates(), "no free-form attempt first")
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			m, err := domain.MessageByID(context.Background(), s.db, id)
			require.NoError(c, err)
			require.NotNil(c, m.ProviderMessageID)
			assert.Equal(c, sent[1].SID, *m.ProviderMessageID)
			assert.Nil(c, m.DeliveryError)
		}, 30*time.Second, 20*time.Millisecond)
	})
}

// Without a template, the late answer is not sent: it is recorded failed
// (outside_whatsapp_window), the support inbox shows why, live and in its
// lists, and the failure is counted.
func TestALateWhatsAppAnswerWithoutATemplateIsRecordedFailed(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := whatsAppDayOld(t, url, nil)
		srv := httptest.NewServer(s.H)
		t.Cleanup(srv.Close)
		agent := s.agent("alice")
		conv := domain.AIConversationID(s.user.UserID())
		live := openStream(t, srv.URL, agent.AccessToken, "/support/events")

		id := s.answer(agent, lateAnswer)
		ev := until(t, live, func(ev event) bool { return ev.name == "delivery" && ev.data["message_id"] == float64(id) })
		last := ev[len(ev)-1]
		assert.Equal(t, conv, last.data["conversation_id"])
		assert.Equal(t, activities.ReasonOutsideWhatsAppWindow, last.data["delivery_error"])
		assert.Equal(t, 1, s.twilio.Creates(), "nothing sent after the AI's reply")

		w := s.Call("GET", "/support/conversations", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		inbox := apitest.DecodeList(t, w)
		require.Len(t, inbox, 1)
		msg := inbox[0]["last_message"].(map[string]any)
		assert.EqualValues(t, id, msg["id"])
		assert.Equal(t, "failed", msg["delivery_status"])
		assert.Equal(t, activities.ReasonOutsideWhatsAppWindow, msg["delivery_error"])
		w = s.Call("GET", "/support/conversations/"+conv+"/messages?limit=1", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, activities.ReasonOutsideWhatsAppWindow, apitest.DecodeList(t, w)[0]["delivery_error"])
		assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_deliveries_failed_total", `channel="twilio"`,
			`reason="outside_whatsapp_window"`))

		// The conversation's workflow saw the refusal and recorded it too
		// (a no-op: the activity's record stands, counted once).
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.Contains(c, s.history(workflows.ConversationWorkflowID(conv)), "local:RecordDeliveryFailure")
		}, 30*time.Second, 50*time.Millisecond)
		assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_deliveries_failed_total", `channel="twilio"`,
			`reason="outside_whatsapp_window"`))
		s.saveHistories(workflows.ConversationWorkflowID(conv))
	})
}
