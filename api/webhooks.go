package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
)

type webhookRequest struct {
	URL    string   `json:"url" binding:"required,max=2048"`
	Events []string `json:"events" binding:"required,min=1,max=20"`
}

// webhookCreated is a new subscription with its secret, the only time
// the secret is shown.
type webhookCreated struct {
	domain.WebhookSubscription
	Secret string `json:"secret"`
}

// createWebhook subscribes a URL to events, with a fresh signing secret.
func (s *Server) createWebhook(c *gin.Context) {
	var in webhookRequest
	if !s.bind(c, &in) {
		return
	}
	events, err := domain.ParseWebhookEvents(in.Events)
	if err != nil {
		invalidInput(c, bodyError("events", domain.Reason(err), "value_error"))
		return
	}
	if err := domain.CheckWebhookURL(c.Request.Context(), in.URL, s.cfg.WebhookAllowPrivate); err != nil {
		invalidInput(c, bodyError("url", domain.Reason(err), "value_error"))
		return
	}
	secret := "whsec_" + auth.RandomToken(32)
	sub, err := domain.CreateWebhook(c.Request.Context(), s.db, in.URL, events, secret, currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditWebhookCreate, "webhook", sub.ID, map[string]any{"url": sub.URL, "events": sub.Events})
	c.JSON(http.StatusCreated, webhookCreated{WebhookSubscription: *sub, Secret: secret})
}

func (s *Server) listWebhooks(c *gin.Context) {
	subs, err := domain.ListWebhooks(c.Request.Context(), s.db)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, subs)
}

func (s *Server) getWebhook(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	sub, err := domain.WebhookByID(c.Request.Context(), s.db, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sub)
}

// deleteWebhook ends a subscription; its deliveries still retrying stop.
func (s *Server) deleteWebhook(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	if err := domain.DeleteWebhook(c.Request.Context(), s.db, id); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditWebhookDelete, "webhook", id, nil)
	c.JSON(http.StatusOK, messageResponse{Message: "Webhook deleted"})
}

// webhookDeliveries lists a subscription's deliveries, newest first.
func (s *Server) webhookDeliveries(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	p, ok := page(c)
	if !ok {
		return
	}
	if _, err := domain.WebhookByID(c.Request.Context(), s.db, id); err != nil {
		s.fail(c, err)
		return
	}
	out, total, err := domain.ListWebhookDeliveries(c.Request.Context(), s.db, id, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, out)
}
