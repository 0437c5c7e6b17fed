package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
)

func TestMediaSettings(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{}), config.NoTokens)
	require.NoError(t, err)
	assert.Equal(t, ".data/media", c.MediaDir)
	assert.EqualValues(t, 5242880, c.MediaMaxBytes)
	assert.Equal(t, config.DefaultMediaTypes, c.MediaTypes)
	assert.False(t, c.LLMVision)
	assert.Equal(t, "whisper-1", c.LiteLLMTranscribeModel)

	c, err = config.Load(envOf(map[string]string{"MEDIA_TYPES": " Image/PNG, audio/ogg ", "LLM_VISION": "true",
		"MEDIA_MAX_BYTES": "2048", "MEDIA_DIR": "/srv/media"}), config.NoTokens)
	require.NoError(t, err)
	assert.Equal(t, []string{"image/png", "audio/ogg"}, c.MediaTypes)
	assert.True(t, c.LLMVision)
	assert.EqualValues(t, 2048, c.MediaMaxBytes)
	assert.Equal(t, "/srv/media", c.MediaDir)

	for name, v := range map[string]string{"MEDIA_TYPES": "image/png,pictures", "MEDIA_MAX_BYTES": "12",
		"LLM_VISION": "yes"} {
		_, err := config.Load(envOf(map[string]string{name: v}), config.NoTokens)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}
