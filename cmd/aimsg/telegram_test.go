package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/faketelegram"
)

func TestTelegramSetWebhook(t *testing.T) {
	fake := faketelegram.Start("42:token", nil)
	defer fake.Close()
	env := testEnv(t, "sqlite:///:memory:", map[string]string{
		"TELEGRAM_BOT_TOKEN": "42:token", "TELEGRAM_WEBHOOK_SECRET": "s3cret", "TELEGRAM_API_BASE_URL": fake.URL,
		"AI_MESSAGE_PUBLIC_URL": "https://chat.example.com/",
	})
	var out output
	require.NoError(t, runWith(context.Background(), env, &out, "telegram", "set-webhook"))
	hook := fake.Webhook()
	assert.Equal(t, "https://chat.example.com/telegram_webhook", hook["url"])
	assert.Equal(t, "s3cret", hook["secret_token"])
	assert.Equal(t, `["message"]`, hook["allowed_updates"])

	delete(env, "TELEGRAM_WEBHOOK_SECRET")
	require.Error(t, runWith(context.Background(), env, &out, "telegram", "set-webhook"))
}
