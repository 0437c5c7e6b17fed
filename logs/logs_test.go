package logs_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/logs"
)

func TestAreasWriteTheirOwnFileAndStdout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	var stdout bytes.Buffer
	set, err := logs.New(&stdout, dir, slog.LevelInfo)
	require.NoError(t, err)

	set.Area(logs.Auth).Info("login failed", "username", "alice")
	set.Area(logs.Reports).Debug("below the level")
	set.Root.Info("root only")
	require.NoError(t, set.Close())

	auth, err := os.ReadFile(filepath.Join(dir, "auth.log"))
	require.NoError(t, err)
	assert.Contains(t, string(auth), `"msg":"login failed"`)
	assert.Contains(t, string(auth), `"area":"auth"`)
	assert.NotContains(t, string(auth), "root only")

	for _, f := range []string{"twilio_webhook.log", "telegram_webhook.log", "messages.log", "reports.log"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		assert.Empty(t, b, f)
	}
	assert.Contains(t, stdout.String(), "login failed")
	assert.Contains(t, stdout.String(), "root only")
	assert.NotContains(t, stdout.String(), "below the level")
}
