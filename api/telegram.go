package api

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// linkCodeTTL is how long a Telegram link code works.
const linkCodeTTL = 10 * time.Minute

// Answers the bot gives by itself, without the AI.
const (
	telegramLinked   = "Your account is linked. Write to me here and I will answer."
	telegramUnlinked = "To talk to the assistant here, open the link from your account page (Telegram section) in the web app."
	telegramBadCode  = "This link is not valid any more. Ask for a new one in the web app."
)

// telegramLink gives the user a one-time code and the t.me link that sends
// it to the bot.
func (s *Server) telegramLink(c *gin.Context) {
	if s.cfg.TelegramBotToken == "" || s.cfg.TelegramBotUsername == "" {
		abort(c, http.StatusServiceUnavailable, "Telegram is not configured")
		return
	}
	u := currentUser(c)
	code, err := domain.NewTelegramLinkCode(c.Request.Context(), s.db, u.ID, auth.RandomToken(18), linkCodeTTL)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("telegram link code issued", "user_id", u.ID)
	c.JSON(http.StatusOK, telegramLinkResponse{
		Code:      code.Code,
		Link:      "https://t.me/" + s.cfg.TelegramBotUsername + "?start=" + code.Code,
		ExpiresAt: code.ExpiresAt,
	})
}

type telegramLinkResponse struct {
	Code      string    `json:"code"`
	Link      string    `json:"link"`
	ExpiresAt time.Time `json:"expires_at"`
}

// botCall is a Bot API method call in a webhook answer.
type botCall struct {
	Method string `json:"method"`
	ChatID int64  `json:"chat_id"`
	Text   string `json:"text"`
}

// botReply answers a webhook with a Bot API call Telegram makes for us:
// the short answers of the bot itself need no separate request.
func botReply(c *gin.Context, chatID int64, text string) {
	c.JSON(http.StatusOK, botCall{Method: "sendMessage", ChatID: chatID, Text: text})
}

// telegramWebhook takes updates from Telegram: the secret token header must
// match; /start <code> links the chat; messages of linked chats are stored
// once per update_id and answered by the AI; other chats get an instruction.
func (s *Server) telegramWebhook(c *gin.Context) {
	secret := c.GetHeader("X-Telegram-Bot-Api-Secret-Token")
	if s.cfg.TelegramWebhookSecret == "" ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.TelegramWebhookSecret)) != 1 {
		s.telegramLog(c).Warn("telegram webhook refused: wrong secret token", "client_ip", c.ClientIP())
		abort(c, http.StatusForbidden, "Invalid secret token")
		return
	}
	var up tgbotapi.Update
	if !s.bind(c, &up) {
		return
	}
	msg := up.Message
	if msg == nil || msg.Chat == nil || strings.TrimSpace(msg.Text) == "" {
		c.Status(http.StatusNoContent) // edits, stickers, joins: nothing to answer
		return
	}
	ctx := c.Request.Context()
	chatID := msg.Chat.ID
	if code, ok := strings.CutPrefix(msg.Text, "/start "); ok {
		userID, err := domain.LinkTelegramChat(ctx, s.db, strings.TrimSpace(code), chatID)
		if errors.Is(err, domain.ErrLinkCodeInvalid) {
			botReply(c, chatID, telegramBadCode)
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		s.authLog(c).Info("telegram chat linked", "user_id", userID)
		botReply(c, chatID, telegramLinked)
		return
	}
	user, err := domain.UserByTelegramChat(ctx, s.db, chatID)
	if errors.Is(err, domain.ErrNotFound) {
		botReply(c, chatID, telegramUnlinked)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	updateID, chat := strconv.Itoa(up.UpdateID), strconv.FormatInt(chatID, 10)
	limited, notice := s.limitChannelInbound(c, user.ID)
	m, repeated, err := s.storeInbound(c, domain.NewMessage{SenderID: user.ID, Content: msg.Text,
		Channel: domain.ChannelTelegram, ExternalID: &updateID, Address: &chat, NoTurn: limited})
	if err != nil {
		s.fail(c, err)
		return
	}
	if repeated {
		c.Status(http.StatusNoContent) // Telegram retried an update we have
		return
	}
	s.messagesLog(c).Info("telegram message stored", "message_id", m.ID, "user_id", user.ID, "update_id", up.UpdateID,
		"awaits_ai", m.TurnStatus != nil)
	if m.TurnStatus != nil {
		s.queueDispatch(c, m)
	}
	if notice != "" {
		botReply(c, chatID, notice)
		return
	}
	c.Status(http.StatusNoContent)
}

// telegramLog is Telegram's webhook log (telegram_webhook.log).
func (s *Server) telegramLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Telegram)
}
