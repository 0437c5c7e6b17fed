package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
)

// ApprovalInput is a tool call that waits for a person's decision.
type ApprovalInput struct {
	TurnID         string        `json:"turn_id"`
	ConversationID string        `json:"conversation_id"`
	UserID         int64         `json:"user_id"`
	Agent          string        `json:"agent"`
	Call           ToolCall      `json:"call"`
	Timeout        time.Duration `json:"timeout"`
}

// RequestApproval records the call as waiting (the support inbox shows
// it), tells the inbox streams, and saves the notice that tells the user
// (once, however often it runs); it returns the notice's id for the
// workflow to deliver.
func (a *Activities) RequestApproval(ctx context.Context, in ApprovalInput) (int64, error) {
	now := domain.Now()
	_, err := domain.RequestApproval(ctx, a.DB, &domain.ToolApproval{ConversationID: in.ConversationID, UserID: in.UserID,
		TurnID: in.TurnID, CallID: in.Call.ID, Agent: in.Agent, Tool: in.Call.Name, Arguments: in.Call.Arguments,
		RequestedAt: now, ExpiresAt: now.Add(in.Timeout)})
	if err != nil {
		return 0, err
	}
	a.publish(ctx, events.Event{Kind: events.KindApproval, ConversationID: in.ConversationID, Text: in.Call.ID})
	m, err := domain.SaveOutbound(ctx, a.DB, domain.Outbound{UserID: in.UserID, Content: a.Policy.ApprovalMessageOrDefault(),
		Key: "approval:" + in.TurnID + ":" + in.Call.ID})
	if err != nil {
		return 0, fmt.Errorf("save the approval notice: %w", err)
	}
	return m.ID, nil
}

// SettleInput is the end of a wait: the person's decision, or none.
type SettleInput struct {
	TurnID         string                `json:"turn_id"`
	ConversationID string                `json:"conversation_id"`
	CallID         string                `json:"call_id"`
	Status         domain.ApprovalStatus `json:"status"`
	Reason         string                `json:"reason,omitempty"`
	By             int64                 `json:"by,omitempty"`
}

// SettleApproval records how a wait ended and tells the inbox streams.
// Settled before (a retried step), it changes nothing.
func (a *Activities) SettleApproval(ctx context.Context, in SettleInput) error {
	var by *int64
	if in.By != 0 {
		by = &in.By
	}
	err := domain.SettleApproval(ctx, a.DB, in.TurnID, in.CallID, in.Status, in.Reason, by)
	if err != nil && !errors.Is(err, domain.ErrConflict) {
		return err
	}
	a.publish(ctx, events.Event{Kind: events.KindApproval, ConversationID: in.ConversationID, Text: in.CallID})
	return nil
}
