package worker

import (
	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
)

// newMedia is the media step as the configuration describes it: the
// MEDIA_* rules and folder, LLM_VISION, the transcription model, and the
// channels' credentials to fetch their files with.
func newMedia(cfg config.Config) *activities.Media {
	m := activities.Media{
		Dir:             cfg.MediaDir,
		Rules:           domain.MediaRules{MaxBytes: cfg.MediaMaxBytes, Types: cfg.MediaTypes},
		Vision:          cfg.LLMVision,
		TranscribeModel: cfg.LiteLLMTranscribeModel,
		TwilioSID:       cfg.TwilioAccountSID,
		TwilioToken:     cfg.TwilioAuthToken,
		TwilioBaseURL:   cfg.TwilioAPIBaseURL,
		TelegramBaseURL: cfg.TelegramAPIBaseURL,
	}
	if cfg.TelegramBotToken != "" {
		m.Telegram = activities.NewTelegram(cfg.TelegramBotToken, cfg.TelegramAPIBaseURL)
	}
	return activities.NewMedia(m)
}
