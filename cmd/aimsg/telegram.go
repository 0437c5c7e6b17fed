package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/config"
)

func newTelegramCmd(p *program) *cobra.Command {
	return group(&cobra.Command{
		Use:     "telegram",
		Short:   "Set up the Telegram bot: set-webhook",
		GroupID: groupAdmin,
	},
		&cobra.Command{
			Use:   "set-webhook",
			Short: "Register the bot's webhook with its secret token",
			Long: `Register <AI_MESSAGE_PUBLIC_URL>/telegram_webhook with the bot, with
TELEGRAM_WEBHOOK_SECRET as its secret token.`,
			Args: positional(cobra.NoArgs),
			RunE: p.needs(config.NoTokens, telegramSetWebhook),
		},
	)
}

// telegramSetWebhook registers the bot's webhook with Telegram.
func telegramSetWebhook(_ context.Context, e *env, _ []string) error {
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
