package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// TelegramLimit is the longest text of one Telegram message.
const TelegramLimit = 4096

// NewTelegram builds the Bot API client without calling the API (the
// library's constructor asks getMe, which would tie start-up to Telegram).
func NewTelegram(token, baseURL string) *tgbotapi.BotAPI {
	bot := &tgbotapi.BotAPI{Token: token, Client: &http.Client{Timeout: 20 * time.Second}}
	bot.SetAPIEndpoint(baseURL + "/bot%s/%s")
	return bot
}

// TelegramSender delivers replies with the Bot API's sendMessage.
type TelegramSender struct {
	Bot *tgbotapi.BotAPI
	DB  *bun.DB
}

// Deliver sends a reply to its chat in parts of at most 4,096 characters,
// skipping parts a retried attempt already sent. Telegram offers no way to
// find a message whose answer was lost, so such a part can arrive twice.
func (s *TelegramSender) Deliver(ctx context.Context, reply *domain.Message) (string, error) {
	if reply.Address == nil {
		err := errors.New("reply has no Telegram chat")
		return "", temporal.NewNonRetryableApplicationError(err.Error(), ErrTelegramRejected, err)
	}
	chatID, err := strconv.ParseInt(*reply.Address, 10, 64)
	if err != nil {
		return "", temporal.NewNonRetryableApplicationError("bad chat id", ErrTelegramRejected, err)
	}
	recipient, err := domain.UserByID(ctx, s.DB, reply.RecipientID)
	if err != nil {
		return "", fmt.Errorf("load recipient: %w", err)
	}
	if recipient.SMSOptOut {
		// STOP by any channel stops messages on every channel.
		err := errors.New("recipient opted out")
		return "", temporal.NewNonRetryableApplicationError(err.Error(), ErrTelegramRejected, err)
	}
	texts := SplitMessage(TelegramText(reply), TelegramLimit)
	parts, err := domain.StartDeliveries(ctx, s.DB, reply.ID, len(texts))
	if err != nil {
		return "", err
	}
	var first string
	for i, text := range texts {
		d := parts[i]
		id := ""
		if d.ProviderID != nil {
			id = *d.ProviderID
		} else {
			sent, err := s.Bot.Send(tgbotapi.NewMessage(chatID, text))
			if err != nil {
				return "", s.classify(err)
			}
			id = fmt.Sprintf("%d:%d", chatID, sent.MessageID)
			if err := domain.AcceptDelivery(ctx, s.DB, d.ID, id, domain.DeliverySent); err != nil {
				return "", err
			}
		}
		if i == 0 {
			first = id
		}
	}
	return first, nil
}

// classify waits as long as Telegram asks on 429, retries server errors,
// and stops on the rest (chat not found, bot blocked by the user).
func (s *TelegramSender) classify(err error) error {
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		// A network error names the URL, which carries the bot token.
		return fmt.Errorf("telegram: %w", withoutToken(err, s.Bot.Token))
	}
	switch {
	case te.Code == http.StatusTooManyRequests:
		return temporal.NewApplicationErrorWithOptions("telegram rate limit", ErrTelegramRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: time.Duration(max(te.RetryAfter, 1)) * time.Second, Cause: err})
	case te.Code >= 500:
		return fmt.Errorf("telegram unavailable (%d): %w", te.Code, err)
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("telegram refused the message (%d)", te.Code), ErrTelegramRejected, err)
}

// Typing shows "typing…" in the chat (for about 5 seconds).
func (s *TelegramSender) Typing(_ context.Context, address string) error {
	chatID, err := strconv.ParseInt(address, 10, 64)
	if err != nil {
		return fmt.Errorf("bad chat id: %w", err)
	}
	if _, err := s.Bot.Request(tgbotapi.NewChatAction(chatID, tgbotapi.ChatTyping)); err != nil {
		return fmt.Errorf("telegram chat action: %w", withoutToken(err, s.Bot.Token))
	}
	return nil
}

// withoutToken takes the bot token out of an error: the Bot API's URLs
// carry it, and errors end up in workflow histories and logs.
func withoutToken(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "<bot token>"))
}
