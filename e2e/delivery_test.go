package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// With Twilio unreachable for longer than DELIVERY_GIVE_UP_MINUTES (6 s
// here), the turn stops retrying and ends: its reply is recorded failed
// (gave_up), shown in the support inbox and counted. Once Twilio is back,
// the next message is answered.
func TestADeliveryGivesUpWhileTwilioIsDown(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStackWith(t, url, fakellm.Echo, nil, stackOptions{temporal: temporalServer,
			env: map[string]string{"DELIVERY_GIVE_UP_MINUTES": "0.1"}})
		s.twilio.SetDown(true)
		sid := "SM20000000000000000000000000000001"
		require.Equal(t, http.StatusOK, s.webhook(inbound(sid, userPhone, "are you there?")).Code)
		in, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, sid)
		require.NoError(t, err)

		assert.Equal(t, workflows.OutcomeUndeliverable, s.turnOutcome(in.ID).Outcome)
		assert.Greater(t, s.twilio.Creates(), 1, "retried before giving up")
		assert.Empty(t, s.twilio.Sent())
		var reply domain.Message
		require.NoError(t, s.db.NewSelect().Model(&reply).Where("parent_id = ?", in.ID).Scan(context.Background()))
		assert.Equal(t, domain.DeliveryFailed, *reply.DeliveryStatus)
		require.NotNil(t, reply.DeliveryError)
		assert.Equal(t, activities.ReasonGaveUp, *reply.DeliveryError)
		steps := s.history(workflows.TurnWorkflowID(in.ID))
		require.GreaterOrEqual(t, len(steps), 5)
		assert.Equal(t, []string{"Deliver", "version:delivery-failure-reason", "upsert:TemporalChangeVersion",
			"local:RecordDeliveryFailure", "upsert:AimsgOutcome"}, steps[len(steps)-5:], "the workflow records what the activity could not")
		s.saveHistories(workflows.TurnWorkflowID(in.ID))

		// The support inbox shows why the last message did not arrive.
		staff := s.agent("alice")
		w := s.Call("GET", "/support/conversations", nil, staff.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		inbox := apitest.DecodeList(t, w)
		require.Len(t, inbox, 1)
		last := inbox[0]["last_message"].(map[string]any)
		assert.EqualValues(t, reply.ID, last["id"])
		assert.Equal(t, "failed", last["delivery_status"])
		assert.Equal(t, activities.ReasonGaveUp, last["delivery_error"])
		assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_deliveries_failed_total", `channel="twilio"`, `reason="gave_up"`))

		s.twilio.SetDown(false)
		next := "SM20000000000000000000000000000002"
		require.Equal(t, http.StatusOK, s.webhook(inbound(next, userPhone, "still there?")).Code)
		sent := s.waitSMS(1)
		assert.Equal(t, "echo: still there?", sent[0].Body)
		m, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, next)
		require.NoError(t, err)
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(m.ID).Outcome)
	})
}

// Twilio took a reply, then could not deliver it: the status callback's
// error code becomes the reply's delivery_error.
func TestAStatusCallbackSaysWhyAReplyWasNotDelivered(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	for i, c := range []struct{ code, reason string }{
		{"63016", activities.ReasonOutsideWhatsAppWindow},
		{"30003", "twilio_30003"},
		{"<script>", "twilio_error"},
	} {
		require.Equal(t, http.StatusOK, s.webhook(inbound(fmt.Sprintf("SM%032d", 300+i), userPhone, "hello "+c.code)).Code)
		sid := s.waitSMS(i + 1)[i].SID
		// Read the reply by its SID once it is recorded (a report that
		// comes first keeps its reason: domain's TestAnEarlyReportKeepsItsReason).
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			assert.EqualValues(c, 1, s.count((*domain.Message)(nil), "provider_message_id = ?", sid))
		}, 10*time.Second, 20*time.Millisecond)
		w := s.post("/twilio_status", url_values("MessageSid", sid, "MessageStatus", "undelivered", "ErrorCode", c.code),
			twilioToken, publicURL+"/twilio_status")
		require.Equal(t, http.StatusNoContent, w.Code)
		var reply domain.Message
		require.NoError(t, s.db.NewSelect().Model(&reply).Where("provider_message_id = ?", sid).Scan(context.Background()))
		assert.Equal(t, domain.DeliveryUndelivered, *reply.DeliveryStatus)
		require.NotNil(t, reply.DeliveryError, c.code)
		assert.Equal(t, c.reason, *reply.DeliveryError)
	}
}

// With Twilio down, a reply that cannot go out does not hold the
// conversation: the user's next text is answered (its LLM call made)
// while the first reply still waits, and once Twilio is back both go out
// in the order they were written.
func TestTwilioDownHoldsNoConversationHostage(t *testing.T) {
	s := newSMSStackWith(t, "sqlite:///:memory:", fakellm.Echo, nil, stackOptions{temporal: temporalServer,
		env: map[string]string{"DELIVERY_GIVE_UP_MINUTES": "0.5"}}) // tried 15 s before the conversation goes on
	s.twilio.SetDown(true)
	first := "SM21000000000000000000000000000001"
	require.Equal(t, http.StatusOK, s.webhook(inbound(first, userPhone, "first question")).Code)
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, s.llm.Requests(), 1) }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM21000000000000000000000000000002", userPhone, "second question")).Code)
	require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Len(c, s.llm.Requests(), 2) }, 25*time.Second, 50*time.Millisecond,
		"the second text is answered while the first reply waits")
	assert.Empty(t, s.twilio.Sent(), "Twilio is still down")

	s.twilio.SetDown(false)
	sent := s.waitSMS(2)
	assert.Equal(t, "echo: first question", sent[0].Body)
	assert.Equal(t, "echo: second question", sent[1].Body, "in the order they were written")
	in, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, first)
	require.NoError(t, err)
	assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(in.ID).Outcome)
	assert.Contains(t, s.history(workflows.TurnWorkflowID(in.ID)), "version:deliver-behind")
	s.saveHistories(workflows.TurnWorkflowID(in.ID), workflows.ConversationWorkflowID(domain.AIConversationID(s.user.UserID())))
}
