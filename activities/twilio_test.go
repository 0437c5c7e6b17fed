package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestSplitMessage(t *testing.T) {
	assert.Equal(t, []string{"short"}, activities.SplitMessage("short", 1600))
	assert.Equal(t, []string{""}, activities.SplitMessage("", 1600))

	sentence := "This sentence is part of a long answer. "
	long := strings.Repeat(sentence, 100) // 4,000 characters
	parts := activities.SplitMessage(long, 1600)
	assert.Len(t, parts, 3)
	for _, p := range parts {
		assert.LessOrEqual(t, utf8.RuneCountInString(p), 1600)
		assert.True(t, strings.HasSuffix(p, "."), "cut at a sentence end: %q", p[len(p)-10:])
	}
	assert.Equal(t, strings.Join(strings.Fields(long), " "), strings.Join(strings.Fields(strings.Join(parts, " ")), " "),
		"nothing lost")

	// Characters, not bytes: 1,600 emoji are one message.
	emoji := strings.Repeat("🙂", 1600)
	assert.Equal(t, []string{emoji}, activities.SplitMessage(emoji, 1600))
	// No break at all: a hard cut.
	assert.Equal(t, []string{strings.Repeat("a", 10), strings.Repeat("a", 5)}, activities.SplitMessage(strings.Repeat("a", 15), 10))
}

// whatsAppAddress is the person's WhatsApp address in these tests.
const whatsAppAddress = "whatsapp:+15550001111"

// testTemplate is a WhatsApp template's Content SID.
const testTemplate = "HX0123456789abcdef0123456789abcdef"

// liveEvents records what the activities publish.
type liveEvents struct {
	mu  sync.Mutex
	got []events.Event
}

func (l *liveEvents) Publish(_ context.Context, ev events.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, ev)
	return nil
}

func (l *liveEvents) of(kind events.Kind) []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []events.Event
	for _, ev := range l.got {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// whatsAppFixture is a person who wrote by WhatsApp ago long ago (as the
// database and Twilio both saw it), whose replies go to a fake Twilio
// through a sender with template.
func whatsAppFixture(t *testing.T, url string, ago time.Duration, template string) (*turnFixture, *faketwilio.Server, *liveEvents) {
	t.Helper()
	tw := faketwilio.Start("AC123", nil)
	t.Cleanup(tw.Close)
	api, err := activities.NewTwilio("AC123", "token", tw.URL)
	require.NoError(t, err)
	f := newTurnFixture(t, url, domain.ChannelTwilio, whatsAppAddress)
	at := domain.Now().Add(-ago)
	_, err = f.db.NewUpdate().Model((*domain.Message)(nil)).Set("created_at = ?", at).Where("id = ?", f.inbound.ID).
		Exec(context.Background())
	require.NoError(t, err)
	tw.SawInbound(whatsAppAddress, at)
	f.acts.Deliverers[domain.ChannelTwilio] = &activities.TwilioSender{API: api, DB: f.db, From: "+15559990000",
		WhatsAppTemplateSID: template}
	live := &liveEvents{}
	f.acts.Events = live
	return f, tw, live
}

// failedDeliveries reads aimsg_deliveries_failed_total{channel,reason}.
func (f *turnFixture) failedDeliveries(t *testing.T, channel, reason string) float64 {
	t.Helper()
	families, err := f.acts.Metrics.Registry.Gather()
	require.NoError(t, err)
	for _, fam := range families {
		if fam.GetName() != "aimsg_deliveries_failed_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["channel"] == channel && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestWhatsAppInsideTheWindowSendsTheText(t *testing.T) {
	f, tw, _ := whatsAppFixture(t, "sqlite:///:memory:", 23*time.Hour, testTemplate)
	id := f.saveReply(t, "hello on WhatsApp")
	require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
	sent := tw.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, "hello on WhatsApp", sent[0].Body)
	assert.Empty(t, sent[0].ContentSID)
	assert.Equal(t, "whatsapp:+15559990000", sent[0].From)
}

// Past 24 hours since the person last wrote, a reply goes out as the
// template, in one message whatever its length, its variable the start of
// the reply; a retry does not send it again.
func TestWhatsAppPastTheWindowSendsTheTemplate(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		f, tw, _ := whatsAppFixture(t, url, 25*time.Hour, testTemplate)
		text := strings.Repeat("Your refund was approved and will reach your account within five days. ", 30)
		id := f.saveReply(t, text)
		require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
		require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))

		sent := tw.Sent()
		require.Len(t, sent, 1, "one template message, once")
		assert.Equal(t, testTemplate, sent[0].ContentSID)
		var vars map[string]string
		require.NoError(t, json.Unmarshal([]byte(sent[0].ContentVariables), &vars))
		want := activities.TemplatePreview(text, activities.TemplatePreviewLimit)
		assert.Equal(t, map[string]string{"1": want}, vars)
		reply := f.message(t, id)
		assert.Equal(t, domain.DeliverySent, *reply.DeliveryStatus)
		assert.Equal(t, sent[0].SID, *reply.ProviderMessageID)
		assert.Nil(t, reply.DeliveryError)
	})
}

// Without a template, a reply past the window is not sent: it is recorded
// failed with its reason, counted, and shown live to the support inbox.
func TestWhatsAppPastTheWindowWithoutATemplateFailsForGood(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		f, tw, live := whatsAppFixture(t, url, 25*time.Hour, "")
		id := f.saveReply(t, "too late")
		err := run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil)
		assert.True(t, nonRetryable(err, activities.ErrTwilioRejected), "%v", err)
		assert.Zero(t, tw.Creates(), "nothing sent")
		reply := f.message(t, id)
		assert.Equal(t, domain.DeliveryFailed, *reply.DeliveryStatus)
		require.NotNil(t, reply.DeliveryError)
		assert.Equal(t, activities.ReasonOutsideWhatsAppWindow, *reply.DeliveryError)
		assert.EqualValues(t, 1, f.failedDeliveries(t, "twilio", activities.ReasonOutsideWhatsAppWindow))
		assert.Equal(t, []events.Event{{Kind: events.KindDelivery, ConversationID: *reply.ConversationID, MessageID: id,
			Text: activities.ReasonOutsideWhatsAppWindow}}, live.of(events.KindDelivery))

		// The workflow records the failure it saw after: nothing changes.
		require.NoError(t, run(t, f.acts.RecordDeliveryFailure, activities.DeliveryFailureInput{MessageID: id,
			Reason: activities.ReasonOutsideWhatsAppWindow}, nil))
		assert.EqualValues(t, 1, f.failedDeliveries(t, "twilio", activities.ReasonOutsideWhatsAppWindow), "counted once")
		assert.Len(t, live.of(events.KindDelivery), 1)
	})
}

// When Twilio says the window closed (63016) though the stored messages
// say open, the reply goes as the template, or fails for good without one.
func TestTwilioClosingTheWindowFirst(t *testing.T) {
	for _, template := range []string{testTemplate, ""} {
		t.Run("template="+template, func(t *testing.T) {
			f, tw, _ := whatsAppFixture(t, "sqlite:///:memory:", time.Hour, template)
			tw.SawInbound(whatsAppAddress, time.Now().Add(-25*time.Hour))
			id := f.saveReply(t, "an answer")
			err := run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil)
			reply := f.message(t, id)
			if template == "" {
				assert.True(t, nonRetryable(err, activities.ErrTwilioRejected), "%v", err)
				assert.Equal(t, 1, tw.Creates())
				assert.Empty(t, tw.Sent())
				assert.Equal(t, activities.ReasonOutsideWhatsAppWindow, *reply.DeliveryError)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 2, tw.Creates(), "the text, refused, then the template")
			require.Len(t, tw.Sent(), 1)
			assert.Equal(t, testTemplate, tw.Sent()[0].ContentSID)
			assert.Equal(t, domain.DeliverySent, *reply.DeliveryStatus)
		})
	}
}

// A refusal is recorded with the provider's code; the workflow's giving
// up, which the activity cannot see, through RecordDeliveryFailure.
func TestDeliveryFailureReasons(t *testing.T) {
	f, _, _ := twilioFixture(t, "sqlite:///:memory:", func(int) faketwilio.Response {
		return faketwilio.Response{Status: http.StatusBadRequest, Code: 21211}
	})
	id := f.saveReply(t, "hello")
	require.Error(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
	assert.Equal(t, "twilio_21211", *f.message(t, id).DeliveryError)

	f, _, _ = twilioFixture(t, "sqlite:///:memory:", nil)
	later := f.saveReply(t, "hello again")
	require.NoError(t, run(t, f.acts.RecordDeliveryFailure, activities.DeliveryFailureInput{MessageID: later,
		Reason: activities.ReasonGaveUp}, nil))
	m := f.message(t, later)
	assert.Equal(t, domain.DeliveryFailed, *m.DeliveryStatus)
	assert.Equal(t, activities.ReasonGaveUp, *m.DeliveryError)
	assert.EqualValues(t, 1, f.failedDeliveries(t, "twilio", activities.ReasonGaveUp))

	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"schedule-to-close": {temporal.NewTimeoutError(enums.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, errors.New("503")), activities.ReasonGaveUp},
		"with a reason": {temporal.NewNonRetryableApplicationError("x", activities.ErrTwilioRejected, nil,
			activities.ReasonOptedOut), activities.ReasonOptedOut},
		"telegram": {temporal.NewNonRetryableApplicationError("x", activities.ErrTelegramRejected,
			&tgbotapi.Error{Code: 403, Message: "Forbidden: bot was blocked by the user"}), "telegram_403"},
		"type only": {temporal.NewNonRetryableApplicationError("x", activities.ErrChannelNotConfigured, nil),
			"channel_not_configured"},
		"retried until given up": {temporal.NewApplicationError("twilio unavailable (503)", ""), activities.ReasonGaveUp},
	} {
		assert.Equal(t, tc.want, activities.DeliveryFailureReason(tc.err), name)
	}
}

func TestTemplatePreview(t *testing.T) {
	assert.Equal(t, "short answer", activities.TemplatePreview("  short\n answer ", 100))
	long := strings.Repeat("word ", 40) // 200 characters
	p := activities.TemplatePreview(long, 100)
	assert.LessOrEqual(t, utf8.RuneCountInString(p), 100)
	assert.True(t, strings.HasSuffix(p, "word…"), "cut at a word: %q", p)
	assert.True(t, strings.HasPrefix(long, strings.TrimSuffix(p, "…")))
	// No space to cut at: a hard cut, in characters.
	emoji := activities.TemplatePreview(strings.Repeat("🙂", 150), 100)
	assert.Equal(t, 100, utf8.RuneCountInString(emoji))
}
