package activities

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
)

// The support side of a conversation (see domain/support.go): recording
// who answers it, holding messages for a person, and telling the user.

// RecordModeInput is a conversation's new mode, as its workflow decided it.
type RecordModeInput struct {
	ConversationID string      `json:"conversation_id"`
	UserID         int64       `json:"user_id"`
	Mode           domain.Mode `json:"mode"`
	Reason         string      `json:"reason,omitempty"`
	AgentID        int64       `json:"agent_id,omitempty"`
	Since          time.Time   `json:"since"`
	// Cause says what changed it, for the support log: "keyword", "tool",
	// "llm_failure", "takeover", "agent_reply", "resume", "idle".
	Cause string `json:"cause"`
}

// RecordMode writes a conversation's mode down for the support inbox,
// tells the open streams and logs who changed it.
func (a *Activities) RecordMode(ctx context.Context, in RecordModeInput) error {
	mode, err := domain.ParseMode(string(in.Mode))
	if err != nil {
		return err
	}
	if err := domain.RecordMode(ctx, a.DB, domain.ModeChange{ConversationID: in.ConversationID, UserID: in.UserID,
		Mode: mode, Reason: in.Reason, AgentID: in.AgentID, Since: in.Since}); err != nil {
		return err
	}
	a.publish(ctx, events.Event{Kind: events.KindMode, ConversationID: in.ConversationID, Text: string(in.Mode)})
	msg := "conversation handed to a person"
	if mode == domain.ModeAI {
		msg = "conversation handed back to the AI"
	}
	a.supportLog().Info(msg, "conversation_id", in.ConversationID, "user_id", in.UserID, "cause", in.Cause,
		"agent_id", in.AgentID, "reason", in.Reason, "at", in.Since)
	return nil
}

// HoldInput leaves a conversation's waiting messages to a person and,
// once per handoff, tells the user so.
type HoldInput struct {
	ConversationID string `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	// UpTo is the newest inbound message held; 0 holds none.
	UpTo int64 `json:"up_to"`
	// AckKey, when set, saves the acknowledgement under that key (once).
	AckKey string `json:"ack_key,omitempty"`
	// AbandonedTurn is a turn stopped by the handoff, whose streamed text
	// clients drop.
	AbandonedTurn string `json:"abandoned_turn,omitempty"`
}

// HoldForPerson marks the waiting messages as left to a person and saves
// the acknowledgement when asked; it returns the acknowledgement's id (0
// when none), for the workflow to deliver.
func (a *Activities) HoldForPerson(ctx context.Context, in HoldInput) (int64, error) {
	if in.UpTo > 0 {
		if err := domain.HoldForPerson(ctx, a.DB, in.ConversationID, in.UpTo); err != nil {
			return 0, err
		}
	}
	if in.AbandonedTurn != "" {
		a.publish(ctx, events.Event{Kind: events.KindReset, ConversationID: in.ConversationID, TurnID: in.AbandonedTurn})
		a.publish(ctx, events.Event{Kind: events.KindTyping, ConversationID: in.ConversationID, Active: false})
	}
	if in.AckKey == "" {
		return 0, nil
	}
	m, err := domain.SaveOutbound(ctx, a.DB, domain.Outbound{UserID: in.UserID, Content: a.Policy.HandoffMessage, Key: in.AckKey})
	if err != nil {
		return 0, fmt.Errorf("save handoff acknowledgement: %w", err)
	}
	return m.ID, nil
}

// AckKey names the acknowledgement of the handoff of a conversation that
// started at since: one per handoff, however often it is saved.
func AckKey(conversationID string, since time.Time) string {
	return "handoff:" + conversationID + ":" + strconv.FormatInt(since.UnixNano(), 10)
}

func (a *Activities) supportLog() *slog.Logger {
	if a.SupportLog != nil {
		return a.SupportLog
	}
	return a.Logger
}
