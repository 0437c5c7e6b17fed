package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// twilioLog is Twilio's webhook log (twilio_webhook.log).
func (s *Server) twilioLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Twilio)
}

// refuseUnsigned answers 403 to a request that is not from Twilio.
func (s *Server) refuseUnsigned(c *gin.Context) bool {
	if err := s.twilio.Verify(c.Request); err != nil {
		s.twilioLog(c).Warn("twilio request refused: missing or wrong signature", "path", c.Request.URL.Path,
			"client_ip", c.ClientIP())
		abort(c, http.StatusForbidden, capitalized(err.Error()))
		return true
	}
	return false
}

// twilioStatus applies Twilio's delivery status callbacks, idempotently and
// never backwards.
func (s *Server) twilioStatus(c *gin.Context) {
	if s.refuseUnsigned(c) {
		return
	}
	form := c.Request.PostForm
	sid, raw := form.Get("MessageSid"), form.Get("MessageStatus")
	status, ok := domain.ParseDeliveryStatus(raw)
	if sid == "" || !ok {
		s.twilioLog(c).Warn("twilio status callback not understood", "message_sid", sid, "status", raw)
		c.Status(http.StatusNoContent)
		return
	}
	if err := domain.UpdateDeliveryStatus(c.Request.Context(), s.db, sid, status); err != nil {
		s.fail(c, err)
		return
	}
	if code := form.Get("ErrorCode"); code != "" && (status == domain.DeliveryFailed || status == domain.DeliveryUndelivered) {
		if err := domain.NoteDeliveryError(c.Request.Context(), s.db, sid, activities.TwilioReason(code)); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.twilioLog(c).Info("twilio delivery status", "message_sid", sid, "status", raw, "error_code", form.Get("ErrorCode"))
	c.Status(http.StatusNoContent)
}
