package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketelegram"
	"github.com/aimsg/aimsg/internal/testenv"
)

const (
	botToken     = "123456:test-bot-token"
	botSecret    = "telegram-webhook-secret"
	telegramChat = int64(987654321)
	botUsername  = "aimsg_test_bot"
)

type tgStack struct {
	*stack
	tg *faketelegram.Server
}

func newTelegramStack(t *testing.T, baseURL string, script func(int) faketelegram.Response) *tgStack {
	return newTelegramStackWith(t, baseURL, script, nil)
}

// newTelegramStackWith is a stack with a fake Telegram and more settings.
func newTelegramStackWith(t *testing.T, baseURL string, script func(int) faketelegram.Response, extra map[string]string) *tgStack {
	t.Helper()
	fake := faketelegram.Start(botToken, script)
	t.Cleanup(fake.Close)
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": botToken, "TELEGRAM_WEBHOOK_SECRET": botSecret,
		"TELEGRAM_BOT_USERNAME": botUsername, "TELEGRAM_API_BASE_URL": fake.URL,
	}
	for k, v := range extra {
		env[k] = v
	}
	return &tgStack{stack: newStack(t, baseURL, fakellm.Echo, env), tg: fake}
}

// update posts a Telegram update with a text message from chat.
func (s *tgStack) update(updateID int, chat int64, text, secret string) *httptest.ResponseRecorder {
	body, _ := json.Marshal(map[string]any{"update_id": updateID, "message": map[string]any{
		"message_id": updateID, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": chat, "type": "private"}, "from": map[string]any{"id": chat, "is_bot": false, "first_name": "T"},
	}})
	var tweaks []func(*http.Request)
	if secret != "" {
		tweaks = append(tweaks, apitest.Header("X-Telegram-Bot-Api-Secret-Token", secret))
	}
	return s.Call("POST", "/telegram_webhook", string(body), "", tweaks...)
}

// link gives a user a link code and sends /start <code> from the chat.
func (s *tgStack) link(u apitest.Tokens, chat int64) {
	s.t.Helper()
	w := s.Call("POST", "/auth/me/telegram/link", nil, u.AccessToken)
	require.Equal(s.t, http.StatusOK, w.Code, w.Body.String())
	body := apitest.Decode(s.t, w)
	code := body["code"].(string)
	assert.Equal(s.t, "https://t.me/"+botUsername+"?start="+code, body["link"])
	w = s.update(1, chat, "/start "+code, botSecret)
	require.Equal(s.t, http.StatusOK, w.Code)
	assert.Equal(s.t, "sendMessage", apitest.Decode(s.t, w)["method"])
	assert.Contains(s.t, w.Body.String(), "linked")
}

func (s *tgStack) waitSent(n int) []faketelegram.Sent {
	s.t.Helper()
	require.EventuallyWithT(s.t, func(c *assert.CollectT) { assert.Len(c, s.tg.Sent(), n) }, 30*time.Second, 20*time.Millisecond)
	return s.tg.Sent()
}

func TestTelegramLinkAndChat(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newTelegramStack(t, url, nil)
		u := s.User("telly")
		s.link(u, telegramChat)

		require.Equal(t, http.StatusNoContent, s.update(2, telegramChat, "hello bot", botSecret).Code)
		sent := s.waitSent(1)
		assert.Equal(t, telegramChat, sent[0].ChatID)
		assert.Equal(t, "echo: hello bot", sent[0].Text)
		assert.Contains(t, s.tg.Actions(), faketelegram.Action{ChatID: telegramChat, Action: "typing"},
			"the chat showed typing while the reply was written")

		// Telegram repeating the update changes nothing.
		require.Equal(t, http.StatusNoContent, s.update(2, telegramChat, "hello bot", botSecret).Code)
		time.Sleep(time.Second)
		assert.Len(t, s.tg.Sent(), 1)
		assert.Len(t, s.llm.Requests(), 1)

		// The chat is part of the user's AI conversation.
		w := s.Call("GET", "/auth/conversations/"+domain.AIConversationID(u.UserID())+"/messages", nil, u.AccessToken)
		assert.Equal(t, "telegram", apitest.DecodeList(t, w)[1]["channel"])

		// A used code does not link again.
		w = s.Call("POST", "/auth/me/telegram/link", nil, u.AccessToken)
		code := apitest.Decode(t, w)["code"].(string)
		s.update(3, 111, "/start "+code, botSecret)
		w = s.update(4, 222, "/start "+code, botSecret)
		assert.Contains(t, w.Body.String(), "not valid")
	})
}

func TestTelegramRefusesAWrongSecretAndInstructsStrangers(t *testing.T) {
	s := newTelegramStack(t, "sqlite:///:memory:", nil)
	for _, secret := range []string{"", "wrong-secret"} {
		w := s.update(10, telegramChat, "hi", secret)
		assert.Equal(t, http.StatusForbidden, w.Code)
	}
	w := s.update(11, telegramChat, "hi", botSecret)
	require.Equal(t, http.StatusOK, w.Code)
	body := apitest.Decode(t, w)
	assert.Equal(t, "sendMessage", body["method"])
	assert.Contains(t, body["text"], "link")
	n, err := s.db.NewSelect().Model((*domain.Message)(nil)).Where("channel = ?", "telegram").Count(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, s.llm.Requests())
}

func TestTelegramRateLimitIsHonoured(t *testing.T) {
	s := newTelegramStack(t, "sqlite:///:memory:", func(n int) faketelegram.Response {
		if n == 0 {
			return faketelegram.Response{Code: http.StatusTooManyRequests, RetryAfter: 1}
		}
		return faketelegram.Response{}
	})
	u := s.User("flood")
	s.link(u, telegramChat)
	start := time.Now()
	require.Equal(t, http.StatusNoContent, s.update(5, telegramChat, "slowly", botSecret).Code)
	s.waitSent(1)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited retry_after")
	assert.Equal(t, 2, s.tg.Calls())
}
