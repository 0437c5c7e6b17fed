package activities_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/internal/freeport"
)

// A Bot API that cannot be reached yields an error naming its URL, which
// carries the bot token: the token never reaches the error (histories
// and logs keep errors).
func TestTelegramErrorsNeverCarryTheToken(t *testing.T) {
	const token = "123456:very-secret-bot-token"
	port, err := freeport.Find(0) // nothing listens there
	require.NoError(t, err)
	s := &activities.TelegramSender{Bot: activities.NewTelegram(token, fmt.Sprintf("http://127.0.0.1:%d", port))}
	err = s.Typing(context.Background(), "42")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), token)
	assert.Contains(t, err.Error(), "<bot token>", "the URL is still there to read")
}
