package api

import (
	"context"
	"errors"
	"net"
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
	name, err := domain.CheckWebhookURL(in.URL, s.cfg.WebhookAllowPrivate)
	if err == nil && name != "" {
		err = checkWebhookHost(c.Request.Context(), name)
	}
	if err != nil {
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

// checkWebhookHost resolves the host name of a new subscription's URL and
// refuses it when one of its addresses is one domain.CheckWebhookAddress
// refuses. The sender checks again at each connection: a name can point
// elsewhere later.
func checkWebhookHost(ctx context.Context, name string) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	if err != nil || len(addrs) == 0 {
		return errors.New("url's host does not resolve")
	}
	for _, a := range addrs {
		if err := domain.CheckWebhookAddress(a); err != nil {
			return err
		}
	}
	return nil
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
