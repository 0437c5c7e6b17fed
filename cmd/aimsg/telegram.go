package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/aimsg/aimsg/activities"
)

const telegramUsage = `usage: aimsg telegram set-webhook

  set-webhook   register <AI_MESSAGE_PUBLIC_URL>/telegram_webhook with the bot,
                with TELEGRAM_WEBHOOK_SECRET as its secret token`

// telegramCmd runs `aimsg telegram ...`.
func telegramCmd(_ context.Context, e *env, args []string) error {
	if len(args) != 1 || args[0] != "set-webhook" {
		return usageError(telegramUsage)
	}
	cfg := e.cfg
	if cfg.TelegramBotToken == "" || cfg.TelegramWebhookSecret == "" {
		return errors.New("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET must be set")
	}
	url := cfg.PublicURL + "/telegram_webhook"
	allowed, _ := json.Marshal([]string{"message"})
	bot := activities.NewTelegram(cfg.TelegramBotToken, cfg.TelegramAPIBaseURL)
	if _, err := bot.MakeRequest("setWebhook", tgbotapi.Params{
		"url": url, "secret_token": cfg.TelegramWebhookSecret, "allowed_updates": string(allowed),
	}); err != nil {
		return fmt.Errorf("set webhook: %w", err)
	}
	fmt.Fprintln(e.stdout, "telegram webhook set to", url)
	return nil
}
