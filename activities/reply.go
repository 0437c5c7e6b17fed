package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
)

// SaveReplyInput is the reply of one turn.
type SaveReplyInput struct {
	ConversationID string `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	AnswersUpTo    int64  `json:"answers_up_to"`
	Content        string `json:"content"`
	// Channel is the channel of the message answered; the reply goes
	// where that message came from (domain.SaveReply decides).
	Channel string `json:"channel"`
	Failed  bool   `json:"failed"`
	// Model is the LLM model that wrote the reply, if one did.
	Model string `json:"model,omitempty"`
	// Citations are the knowledge base passages the reply cites.
	Citations []domain.Citation `json:"citations,omitempty"`
	// Agent is the configured agent that wrote the reply ("": none).
	Agent string `json:"agent,omitempty"`
}

// SaveReply stores the reply; retried, it finds the one it stored.
func (a *Activities) SaveReply(ctx context.Context, in SaveReplyInput) (int64, error) {
	if _, err := domain.ParseChannel(in.Channel); err != nil {
		return 0, temporal.NewNonRetryableApplicationError(err.Error(), ErrBadChannel, err)
	}
	m, err := domain.SaveReply(ctx, a.DB, domain.Reply{ConversationID: in.ConversationID, UserID: in.UserID,
		AnswersUpTo: in.AnswersUpTo, Content: in.Content, Failed: in.Failed, Model: in.Model, Citations: in.Citations, Agent: in.Agent})
	if err != nil {
		return 0, err
	}
	if m.Channel == domain.ChannelWeb {
		// Delivered as saved (the web has no Deliver step).
		a.Metrics.Deliveries.WithLabelValues(string(m.Channel), "ok").Inc()
	}
	a.publish(ctx, events.Event{Kind: events.KindTyping, ConversationID: in.ConversationID, Active: false})
	return m.ID, nil
}

// DeliverInput names the reply to send.
type DeliverInput struct {
	ReplyID int64 `json:"reply_id"`
}

// Deliver sends a saved reply through its channel, once: a reply that has a
// provider id was accepted before and is not sent again. The web channel has
// nothing to send: the reply is in the database, where the client reads it.
func (a *Activities) Deliver(ctx context.Context, in DeliverInput) error {
	defer heartbeat(ctx, heartbeatEvery)()
	reply, err := domain.MessageByID(ctx, a.DB, in.ReplyID)
	if err != nil {
		return fmt.Errorf("read reply: %w", err)
	}
	if reply.ProviderMessageID != nil {
		return nil
	}
	if reply.Channel == domain.ChannelWeb {
		a.Metrics.Deliveries.WithLabelValues(string(reply.Channel), "ok").Inc()
		return domain.AdvanceDelivery(ctx, a.DB, reply.ID, domain.DeliveryDelivered, nil)
	}
	d, ok := a.Deliverers[reply.Channel]
	if !ok {
		err := fmt.Errorf("no sender configured for channel %q", reply.Channel)
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrChannelNotConfigured, err)
	}
	providerID, err := d.Deliver(ctx, reply)
	if err != nil {
		result := "retry"
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.NonRetryable() {
			result = "rejected"
		}
		a.Metrics.Deliveries.WithLabelValues(string(reply.Channel), result).Inc()
		return err
	}
	a.Metrics.Deliveries.WithLabelValues(string(reply.Channel), "ok").Inc()
	return domain.AdvanceDelivery(ctx, a.DB, reply.ID, domain.DeliverySent, &providerID)
}
