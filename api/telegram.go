package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
)

// linkCodeTTL is how long a Telegram link code works.
const linkCodeTTL = 10 * time.Minute

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
