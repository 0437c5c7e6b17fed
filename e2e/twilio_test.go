package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

const (
	twilioSID    = "AC0123456789abcdef0123456789abcdef"
	twilioToken  = "0123456789abcdef0123456789abcdef"
	twilioNumber = "+15005550006"
	publicURL    = "https://aimsg.example.com"
	userPhone    = "+14155552671"
)

// smsStack is a stack with Twilio configured against the fake, and a user
// whose phone number is userPhone.
type smsStack struct {
	*stack
	twilio *faketwilio.Server
	user   apitest.Tokens
}

func newSMSStack(t testing.TB, baseURL string, llm fakellm.Script, tw faketwilio.Script) *smsStack {
	t.Helper()
	return newSMSStackWith(t, baseURL, llm, tw, stackOptions{temporal: temporalServer})
}

func newSMSStackWith(t testing.TB, baseURL string, llm fakellm.Script, tw faketwilio.Script, o stackOptions) *smsStack {
	t.Helper()
	fake := faketwilio.Start(twilioSID, tw)
	t.Cleanup(fake.Close)
	env := map[string]string{
		"TWILIO_ACCOUNT_SID": twilioSID, "TWILIO_AUTH_TOKEN": twilioToken, "TWILIO_PHONE_NUMBER": twilioNumber,
		"TWILIO_API_BASE_URL": fake.URL, "AI_MESSAGE_PUBLIC_URL": publicURL,
	}
	for k, v := range o.env {
		env[k] = v
	}
	o.env = env
	s := newStackWith(t, baseURL, llm, o)
	u := s.User("texter")
	w := s.Call("PUT", "/auth/me/phone", map[string]any{"phone_number": userPhone}, u.AccessToken)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	return &smsStack{stack: s, twilio: fake, user: u}
}

// inbound is a Twilio webhook form for an SMS from a number.
func inbound(sid, from, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "AccountSid": {twilioSID}, "From": {from}, "To": {twilioNumber},
		"Body": {body}, "NumMedia": {"0"}}
}

// post sends a form to path, signed for signedURL with token (unsigned if token is empty).
func (s *smsStack) post(path string, form url.Values, token, signedURL string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", faketwilio.Sign(token, signedURL, form))
	}
	w := httptest.NewRecorder()
	s.H.ServeHTTP(w, req)
	return w
}

// webhook posts a correctly signed inbound SMS, which Twilio saw (for
// WhatsApp's 24-hour window).
func (s *smsStack) webhook(form url.Values) *httptest.ResponseRecorder {
	s.twilio.SawInbound(form.Get("From"), time.Now())
	return s.post("/twilio_webhook", form, twilioToken, publicURL+"/twilio_webhook")
}

func (s *smsStack) waitSMS(n int) []faketwilio.Sent {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		assert.Len(c, s.twilio.Sent(), n)
	}, 30*time.Second, 20*time.Millisecond)
	return s.twilio.Sent()
}

func (s *smsStack) count(model any, where string, args ...any) int64 {
	s.t.Helper()
	n, err := s.db.NewSelect().Model(model).Where(where, args...).Count(context.Background())
	require.NoError(s.t, err)
	return n
}

func TestAnSMSGetsAnSMSReply(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStack(t, url, fakellm.Echo, nil)
		w := s.webhook(inbound("SM00000000000000000000000000000001", userPhone, "hello by sms"))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "text/xml; charset=utf-8", w.Header().Get("Content-Type"))
		assert.Contains(t, w.Body.String(), "<Response></Response>")

		sent := s.waitSMS(1)
		assert.Equal(t, userPhone, sent[0].To)
		assert.Equal(t, twilioNumber, sent[0].From)
		assert.Equal(t, "echo: hello by sms", sent[0].Body)
		assert.Equal(t, publicURL+"/twilio_status", sent[0].StatusCallback)
		var in domain.Message
		require.NoError(t, s.db.NewSelect().Model(&in).Where("channel = 'twilio' AND sender_id = ?", s.user.UserID()).
			Scan(context.Background()))
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(in.ID).Outcome)
		assert.Equal(t, []string{"local:TurnPolicy", "local:LoadHistory", "CallLLM", "local:SaveReply", "Deliver",
			"upsert:AimsgOutcome"}, s.history(workflows.TurnWorkflowID(in.ID)), "an SMS turn sends its reply")

		// The message is in the user's AI conversation, with its channel.
		w2 := s.Call("GET", "/auth/conversations/"+domain.AIConversationID(s.user.UserID())+"/messages", nil, s.user.AccessToken)
		list := apitest.DecodeList(t, w2)
		require.Len(t, list, 2)
		assert.Equal(t, "twilio", list[0]["channel"])
		assert.Equal(t, "twilio", list[1]["channel"])

		// The worker records Twilio's SID just after Twilio accepted the message.
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			var r domain.Message
			assert.NoError(c, s.db.NewSelect().Model(&r).Where("provider_message_id = ?", sent[0].SID).Scan(context.Background()))
		}, 10*time.Second, 20*time.Millisecond)
		// Status callbacks, out of order: the final status stays.
		for _, st := range []string{"sent", "delivered", "queued", "sent"} {
			w := s.post("/twilio_status", url_values("MessageSid", sent[0].SID, "MessageStatus", st), twilioToken, publicURL+"/twilio_status")
			require.Equal(t, http.StatusNoContent, w.Code)
		}
		var reply domain.Message
		require.NoError(t, s.db.NewSelect().Model(&reply).Where("provider_message_id = ?", sent[0].SID).Scan(context.Background()))
		assert.Equal(t, domain.DeliveryDelivered, *reply.DeliveryStatus)
	})
}

func url_values(kv ...string) url.Values { //nolint:revive // reads like the type it builds
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestWhatsAppRepliesGoBackToWhatsApp(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000002", "whatsapp:"+userPhone, "hi")).Code)
	sent := s.waitSMS(1)
	assert.Equal(t, "whatsapp:"+userPhone, sent[0].To)
	assert.Equal(t, "whatsapp:"+twilioNumber, sent[0].From)
}

func TestForgedWebhooksAreRefused(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	form := inbound("SM00000000000000000000000000000003", userPhone, "forged")
	for name, w := range map[string]*httptest.ResponseRecorder{
		"unsigned":        s.post("/twilio_webhook", form, "", ""),
		"wrong token":     s.post("/twilio_webhook", form, "not-the-token", publicURL+"/twilio_webhook"),
		"internal url":    s.post("/twilio_webhook", form, twilioToken, "http://127.0.0.1:8000/twilio_webhook"),
		"changed query":   s.post("/twilio_webhook?x=1", form, twilioToken, publicURL+"/twilio_webhook"),
		"changed param":   s.postTampered(form),
		"status unsigned": s.post("/twilio_status", url_values("MessageSid", "SMx", "MessageStatus", "delivered"), "", ""),
	} {
		assert.Equal(t, http.StatusForbidden, w.Code, name)
	}
	assert.Zero(t, s.count((*domain.Message)(nil), "channel = ?", "twilio"), "nothing stored")
	assert.Empty(t, s.llm.Requests())
}

// postTampered signs a form, then changes the body before sending it.
func (s *smsStack) postTampered(form url.Values) *httptest.ResponseRecorder {
	sig := faketwilio.Sign(twilioToken, publicURL+"/twilio_webhook", form)
	changed := url.Values{}
	for k, v := range form {
		changed[k] = v
	}
	changed.Set("Body", "something else")
	req := httptest.NewRequest("POST", "/twilio_webhook", strings.NewReader(changed.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	w := httptest.NewRecorder()
	s.H.ServeHTTP(w, req)
	return w
}

func TestAReplayedWebhookGivesOneMessageOneTurnOneSMS(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStack(t, url, fakellm.Echo, nil)
		form := inbound("SM00000000000000000000000000000004", userPhone, "only once")
		for range 10 {
			require.Equal(t, http.StatusOK, s.webhook(form).Code)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() { assert.Equal(t, http.StatusOK, s.webhook(form).Code) })
		}
		wg.Wait()
		s.waitSMS(1)
		time.Sleep(time.Second) // room for a wrong second turn to show up
		assert.Len(t, s.twilio.Sent(), 1)
		assert.Len(t, s.llm.Requests(), 1)
		assert.EqualValues(t, 1, s.count((*domain.Message)(nil), "channel = ? AND external_id = ?", "twilio", form.Get("MessageSid")))
	})
}

func TestTwilioRateLimitedThriceSendsOnce(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, func(n int) faketwilio.Response {
		if n < 3 {
			return faketwilio.Response{Status: http.StatusTooManyRequests, Code: 20429}
		}
		return faketwilio.Response{}
	})
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000005", userPhone, "busy?")).Code)
	sent := s.waitSMS(1)
	assert.Equal(t, "echo: busy?", sent[0].Body)
	assert.Equal(t, 4, s.twilio.Creates())
}

func TestAnInvalidNumberIsTriedOnce(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, func(int) faketwilio.Response {
		return faketwilio.Response{Status: http.StatusBadRequest, Code: 21211}
	})
	sid := "SM00000000000000000000000000000006"
	require.Equal(t, http.StatusOK, s.webhook(inbound(sid, userPhone, "reach me")).Code)
	m, err := domain.MessageByExternalID(context.Background(), s.db, domain.ChannelTwilio, sid)
	require.NoError(t, err)
	assert.Equal(t, workflows.OutcomeUndeliverable, s.turnOutcome(m.ID).Outcome)
	assert.Equal(t, 1, s.twilio.Creates())
	var reply domain.Message
	require.NoError(t, s.db.NewSelect().Model(&reply).Where("parent_id = ?", m.ID).Scan(context.Background()))
	assert.Equal(t, domain.DeliveryFailed, *reply.DeliveryStatus)
}

func TestALostTwilioAnswerDoesNotSendTwice(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, func(n int) faketwilio.Response {
		return faketwilio.Response{Drop: n == 0}
	})
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000007", userPhone, "once")).Code)
	sent := s.waitSMS(1)
	var reply domain.Message
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		err := s.db.NewSelect().Model(&reply).Where("provider_message_id = ?", sent[0].SID).Scan(context.Background())
		assert.NoError(c, err)
	}, 30*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second)
	assert.Len(t, s.twilio.Sent(), 1, "the retry found the accepted message instead of sending again")
	assert.Equal(t, 1, s.twilio.Creates())
}

func TestStopAndStartKeywords(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	w := s.webhook(inbound("SM00000000000000000000000000000008", userPhone, "STOP"))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "<Response></Response>", "no reply from us")
	u, err := domain.UserByID(context.Background(), s.db, s.user.UserID())
	require.NoError(t, err)
	assert.True(t, u.SMSOptOut)

	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000009", userPhone, "are you there")).Code)
	time.Sleep(time.Second)
	assert.Empty(t, s.llm.Requests(), "no LLM call while opted out")
	assert.Empty(t, s.twilio.Sent())

	w = s.webhook(inbound("SM00000000000000000000000000000010", userPhone, "help"))
	assert.Contains(t, w.Body.String(), "<Message>")

	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000011", userPhone, "Start")).Code)
	u, err = domain.UserByID(context.Background(), s.db, s.user.UserID())
	require.NoError(t, err)
	assert.False(t, u.SMSOptOut)
	require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000012", userPhone, "back again")).Code)
	sent := s.waitSMS(1)
	assert.Equal(t, "echo: back again", sent[0].Body)
}

func TestStrangersGetNoAnswer(t *testing.T) {
	s := newSMSStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	w := s.webhook(inbound("SM00000000000000000000000000000013", "+14155550000", "who is this"))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "<Response></Response>")
	time.Sleep(500 * time.Millisecond)
	assert.Zero(t, s.count((*domain.Message)(nil), "channel = ?", "twilio"))
	assert.Empty(t, s.twilio.Sent())
}
