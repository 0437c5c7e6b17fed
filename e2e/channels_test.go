package e2e_test

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/channels"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketelegram"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/worker"
)

// channelDriver writes to the assistant as one channel's provider does.
type channelDriver struct {
	name string
	// send posts the webhook of message id with text, and answers what
	// the provider would get back.
	send func(id, text string) *httptest.ResponseRecorder
	// sent counts the replies the channel delivered.
	sent func() int
	// external makes a message id the channel's own.
	external func(id string) string
	channel  domain.Channel
}

// Every channel answers a webhook sent again as it answered it the first
// time, and changes nothing: one message, one turn, one reply; a STOP
// sent again after START does not opt out again.
func TestARetriedWebhookChangesNothingOnAnyChannel(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		tg := faketelegram.Start(botToken, nil)
		t.Cleanup(tg.Close)
		s := newSMSStackWith(t, url, fakellm.Echo, nil, stackOptions{temporal: temporalServer, env: map[string]string{
			"TELEGRAM_BOT_TOKEN": botToken, "TELEGRAM_WEBHOOK_SECRET": botSecret,
			"TELEGRAM_BOT_USERNAME": botUsername, "TELEGRAM_API_BASE_URL": tg.URL,
		}})
		tgs := &tgStack{stack: s.stack, tg: tg}
		tgs.link(s.user, telegramChat)
		sid := func(id string) string { return fmt.Sprintf("SM%032s", id) }
		drivers := []channelDriver{
			{name: "sms", channel: domain.ChannelTwilio, external: sid,
				send: func(id, text string) *httptest.ResponseRecorder { return s.webhook(inbound(sid(id), userPhone, text)) },
				sent: func() int { return countTo(s.twilio.Sent(), userPhone) }},
			{name: "whatsapp", channel: domain.ChannelTwilio, external: func(id string) string { return sid("9" + id) },
				send: func(id, text string) *httptest.ResponseRecorder {
					return s.webhook(inbound(sid("9"+id), "whatsapp:"+userPhone, text))
				},
				sent: func() int { return countTo(s.twilio.Sent(), "whatsapp:"+userPhone) }},
			{name: "telegram", channel: domain.ChannelTelegram, external: func(id string) string { return "10" + id },
				send: func(id, text string) *httptest.ResponseRecorder {
					var n int
					_, _ = fmt.Sscan("10"+id, &n)
					return tgs.update(n, telegramChat, text, botSecret)
				},
				sent: func() int { return len(tg.Sent()) }},
		}
		for i, d := range drivers {
			base := (i + 1) * 10
			id := func(n int) string { return fmt.Sprint(base + n) }
			// An ordinary message, sent ten times, five of them at once.
			first := d.send(id(1), "hello from "+d.name)
			require.Less(t, first.Code, 300, d.name)
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					w := d.send(id(1), "hello from "+d.name)
					assert.Equal(t, first.Code, w.Code, d.name)
					assert.Equal(t, first.Body.String(), w.Body.String(), d.name)
				})
			}
			wg.Wait()
			require.EventuallyWithT(t, func(c *assert.CollectT) { assert.Equal(c, 1, d.sent()) }, 30*time.Second, 20*time.Millisecond, d.name)

			// HELP, twice: the same answer, one message.
			help := d.send(id(2), "HELP")
			assert.Contains(t, help.Body.String(), "AGENT for a person", d.name)
			again := d.send(id(2), "HELP")
			assert.Equal(t, help.Code, again.Code, d.name)
			assert.Equal(t, help.Body.String(), again.Body.String(), d.name)

			// STOP, START, and the STOP again: still opted in.
			stop := d.send(id(3), "STOP")
			d.send(id(4), "START")
			stopAgain := d.send(id(3), "STOP")
			assert.Equal(t, stop.Body.String(), stopAgain.Body.String(), d.name)
			u, err := domain.UserByID(context.Background(), s.db, s.user.UserID())
			require.NoError(t, err)
			assert.False(t, u.SMSOptOut, "%s: the repeated STOP changed nothing", d.name)

			for _, n := range []int{1, 2, 3, 4} {
				assert.EqualValues(t, 1, s.count((*domain.Message)(nil), "channel = ? AND external_id = ?", d.channel, d.external(id(n))),
					"%s: message %d stored once", d.name, n)
			}
		}
		time.Sleep(500 * time.Millisecond) // room for a wrong second turn to show up
		assert.Len(t, s.llm.Requests(), len(drivers), "one turn per channel")
		for _, d := range drivers {
			assert.Equal(t, 1, d.sent(), d.name)
		}
	})
}

func countTo(sent []faketwilio.Sent, to string) int {
	n := 0
	for _, m := range sent {
		if m.To == to {
			n++
		}
	}
	return n
}

// chirp is a channel made for this test: JSON posts with a shared key,
// senders named by username, replies kept in a list. It is registered
// as an adapter and a deliverer, and nothing else.
type chirp struct {
	key  string
	mu   sync.Mutex
	outs []string
	s    *stack
}

type chirpPost struct {
	ID   string `json:"id"`
	From string `json:"from"`
	Text string `json:"text"`
}

func (c *chirp) Channel() domain.Channel { return "chirp" }

func (c *chirp) Verify(r *http.Request) error {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Chirp-Key")), []byte(c.key)) != 1 {
		return errors.New("wrong chirp key")
	}
	return nil
}

func (c *chirp) Parse(_ context.Context, r *http.Request) (domain.Inbound, error) {
	var p chirpPost
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		return domain.Inbound{}, fmt.Errorf("not a chirp: %w", domain.ErrInvalid)
	}
	if p.Text == "" {
		return domain.Inbound{}, &channels.Ignored{Reason: "an empty chirp"}
	}
	return domain.Inbound{Channel: "chirp", Address: p.From, ExternalID: p.ID, Text: p.Text}, nil
}

func (c *chirp) Sender(ctx context.Context, in domain.Inbound) (int64, error) {
	u, err := domain.UserByUsername(ctx, c.s.db, in.Address)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

func (c *chirp) Answer(w http.ResponseWriter, a channels.Answer) {
	if a.Stranger {
		a.Text = "who are you?"
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(a.Text))
}

func (c *chirp) Deliver(_ context.Context, reply *domain.Message) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outs = append(c.outs, *reply.Address+": "+reply.Content)
	return fmt.Sprintf("chirp-%d", len(c.outs)), nil
}

func (c *chirp) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.outs...)
}

// Adding a channel is writing its adapter and its deliverer: a channel
// made in this test gets the same inbound path as Twilio and Telegram.
func TestAChannelIsAnAdapterAndADeliverer(t *testing.T) {
	s := newStackWith(t, "sqlite:///:memory:", fakellm.Echo, stackOptions{temporal: temporalServer, noWorker: true})
	ch := &chirp{key: "chirp-key", s: s}
	workerLogs, err := logs.New(os.Stderr, "", slog.LevelWarn)
	require.NoError(t, err)
	acts, err := worker.NewActivities(s.cfg, s.db, events.PublisherFor(s.cfg.DatabaseURL, s.db, nil), workerLogs, s.metrics)
	require.NoError(t, err)
	acts.Deliverers["chirp"] = ch
	w := worker.New(s.tc, s.cfg.TemporalTaskQueue, acts, worker.Options{})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	s.H.(*api.Handler).AddChannel(ch)
	u := s.User("robin")

	post := func(key string, p chirpPost) *httptest.ResponseRecorder {
		b, _ := json.Marshal(p)
		return s.Call("POST", "/channels/chirp/webhook", string(b), "", apitest.Header("X-Chirp-Key", key))
	}
	assert.Equal(t, http.StatusForbidden, post("guess", chirpPost{ID: "c0", From: "robin", Text: "hi"}).Code)
	assert.Equal(t, http.StatusForbidden, s.Call("POST", "/channels/nobody/webhook", "{}", "").Code)
	assert.Equal(t, "who are you?", post("chirp-key", chirpPost{ID: "c1", From: "stranger", Text: "hi"}).Body.String())
	bad := s.Call("POST", "/channels/chirp/webhook", "not json", "", apitest.Header("X-Chirp-Key", "chirp-key"))
	assert.Equal(t, http.StatusUnprocessableEntity, bad.Code, bad.Body.String())
	empty := post("chirp-key", chirpPost{ID: "c1", From: "robin"})
	assert.Equal(t, http.StatusOK, empty.Code)
	assert.Empty(t, empty.Body.String(), "nothing to answer")

	for range 3 {
		require.Equal(t, http.StatusOK, post("chirp-key", chirpPost{ID: "c2", From: "robin", Text: "hello by chirp"}).Code)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, []string{"robin: echo: hello by chirp"}, ch.sent())
	}, 30*time.Second, 20*time.Millisecond)
	assert.Equal(t, domain.HelpText, post("chirp-key", chirpPost{ID: "c3", From: "robin", Text: "help"}).Body.String())
	assert.Equal(t, domain.StopText, post("chirp-key", chirpPost{ID: "c4", From: "robin", Text: "stop"}).Body.String())
	post("chirp-key", chirpPost{ID: "c5", From: "robin", Text: "still there?"})
	time.Sleep(500 * time.Millisecond)
	assert.Len(t, s.llm.Requests(), 1, "nothing answered while opted out")
	msgs := s.Call("GET", "/auth/conversations/"+domain.AIConversationID(u.UserID())+"/messages", nil, u.AccessToken)
	assert.Equal(t, "chirp", apitest.DecodeList(t, msgs)[0]["channel"])
	assert.True(t, strings.Contains(msgs.Body.String(), "still there?"), "kept")
}
