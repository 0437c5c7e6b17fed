package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
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
// A reply the channel refuses for good is recorded failed, with the reason.
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
	if err := a.awaitEarlier(ctx, reply); err != nil {
		return err
	}
	var providerID string
	d, ok := a.Deliverers[reply.Channel]
	if ok {
		providerID, err = d.Deliver(ctx, reply)
	} else {
		err = refusal(ErrChannelNotConfigured, ReasonChannelNotConfigured,
			fmt.Errorf("no sender configured for channel %q", reply.Channel))
	}
	if err != nil {
		result := "retry"
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.NonRetryable() {
			result = "rejected"
			a.recordFailure(ctx, reply, DeliveryFailureReason(err))
		}
		a.Metrics.Deliveries.WithLabelValues(string(reply.Channel), result).Inc()
		return err
	}
	a.Metrics.Deliveries.WithLabelValues(string(reply.Channel), "ok").Inc()
	return domain.AdvanceDelivery(ctx, a.DB, reply.ID, domain.DeliverySent, &providerID)
}

// Reasons a message was not delivered, as its delivery_error and the
// aimsg_deliveries_failed_total metric say them. A refusal of the provider
// that none of these names is <channel>_<its code> (twilio_21211,
// telegram_403).
const (
	// ReasonGaveUp: the channel stayed unavailable for the worker's
	// DELIVERY_GIVE_UP_MINUTES.
	ReasonGaveUp = "gave_up"
	// ReasonOutsideWhatsAppWindow: a WhatsApp reply past 24 hours since
	// the person last wrote, without a template (WHATSAPP_TEMPLATE_SID).
	ReasonOutsideWhatsAppWindow = "outside_whatsapp_window"
	// ReasonOptedOut: the person opted out of SMS (STOP).
	ReasonOptedOut = "opted_out"
	// ReasonNoAddress: the reply has nowhere to go on its channel.
	ReasonNoAddress = "no_address"
	// ReasonChannelNotConfigured: the worker has no sender for the channel.
	ReasonChannelNotConfigured = "channel_not_configured"
)

// refusal is the error of a delivery no retry can fix, of type errType,
// carrying the reason the message is recorded failed for.
func refusal(errType, reason string, err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), errType, err, reason)
}

// DeliveryFailureReason says why a Deliver activity failed for good, as a
// reason above: the channel refused the reply (a non-retryable error), or
// else the workflow gave up (its retry policy stops on nothing but its
// ScheduleToCloseTimeout).
func DeliveryFailureReason(err error) string {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		return ReasonGaveUp
	}
	var reason string
	if appErr.HasDetails() && appErr.Details(&reason) == nil && reason != "" {
		return reason
	}
	var tg *tgbotapi.Error
	if errors.As(err, &tg) {
		return fmt.Sprintf("telegram_%d", tg.Code)
	}
	if appErr.Type() == "" {
		return "rejected"
	}
	return snakeCase(appErr.Type())
}

// snakeCase writes an error type (TelegramRejected) as a reason
// (telegram_rejected).
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DeliveryFailureInput names a message whose Deliver failed for good, and
// why (DeliveryFailureReason).
type DeliveryFailureInput struct {
	MessageID int64  `json:"message_id"`
	Reason    string `json:"reason"`
}

// RecordDeliveryFailure records that a message was not delivered, once
// the workflow saw its Deliver fail for good: given up (the activity
// cannot record that itself) or refused (recorded already by Deliver,
// whose reason stays).
func (a *Activities) RecordDeliveryFailure(ctx context.Context, in DeliveryFailureInput) error {
	m, err := domain.MessageByID(ctx, a.DB, in.MessageID)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	return a.failDelivery(ctx, m, in.Reason)
}

// recordFailure records a refused delivery; when that fails, the workflow
// records it after (RecordDeliveryFailure).
func (a *Activities) recordFailure(ctx context.Context, m *domain.Message, reason string) {
	if err := a.failDelivery(ctx, m, reason); err != nil {
		a.Logger.WarnContext(ctx, "delivery failure not recorded", "message_id", m.ID, "reason", reason, "error", err)
	}
}

// failDelivery records the failure with its reason, once: counted, logged
// (in the support log too for a person's answer), and shown live in the
// support inbox.
func (a *Activities) failDelivery(ctx context.Context, m *domain.Message, reason string) error {
	recorded, err := domain.FailDelivery(ctx, a.DB, m.ID, reason)
	if err != nil || !recorded {
		return err
	}
	a.Metrics.DeliveriesFailed.WithLabelValues(string(m.Channel), reason).Inc()
	log := a.Logger
	if m.AgentID != nil {
		log = a.supportLog()
	}
	conversation := ""
	if m.ConversationID != nil {
		conversation = *m.ConversationID
	}
	log.WarnContext(ctx, "message not delivered", "message_id", m.ID, "conversation_id", conversation,
		"channel", m.Channel, "reason", reason)
	a.publish(ctx, events.Event{Kind: events.KindDelivery, ConversationID: conversation, MessageID: m.ID, Text: reason})
	return nil
}

// earlierEvery is how often a reply waiting for an earlier one looks.
const earlierEvery = 250 * time.Millisecond

// earlierWait is how long one attempt waits for an earlier reply before
// it lets the retry policy wait.
const earlierWait = 15 * time.Second

// awaitEarlier holds a reply while an earlier one to the same person on
// the same channel is still being delivered (its channel slow or down,
// its conversation gone on): replies arrive in the order they were
// written. An earlier reply older than the give-up time is not waited
// for: its own delivery has given up.
func (a *Activities) awaitEarlier(ctx context.Context, reply *domain.Message) error {
	since := reply.CreatedAt.Add(-a.Policy.DeliveryGiveUpOrDefault())
	deadline := time.Now().Add(earlierWait)
	for {
		waiting, err := domain.EarlierUndelivered(ctx, a.DB, reply, since)
		if err != nil || !waiting {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("an earlier reply to this person is still being delivered")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(earlierEvery):
		}
	}
}
