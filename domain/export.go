package domain

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Export is everything aimsg holds about one person, as they may take it
// away: their profile and roles, sessions, every message they sent or
// received (with the channel address it came from or went to, and the
// files it carried), their reports with the support team's comments,
// their Telegram link, the assistant's summaries of their conversations,
// their LLM usage and the tool calls made for them that waited for a
// person's approval.
// Password hashes and token hashes stay out: they are secrets, not data
// about the person.
type Export struct {
	ExportedAt time.Time         `json:"exported_at"`
	User       *User             `json:"user"`
	Roles      []Role            `json:"roles"`
	Sessions   []Session         `json:"sessions"`
	Messages   []ExportedMessage `json:"messages"`
	Reports    []Report          `json:"reports"`
	Telegram   *TelegramLink     `json:"telegram"`
	Memories   []Memory          `json:"conversation_summaries"`
	LLMCalls   []LLMCall         `json:"llm_calls"`
	Approvals  []ToolApproval    `json:"tool_approvals"`
	// Episodes are the user's requests to the assistant, with their
	// outcomes and survey scores.
	Episodes []Episode `json:"episodes"`
}

// ExportedMessage is a message with the provider address it used, which
// the API's message JSON leaves out.
type ExportedMessage struct {
	Message
	Address *string `json:"address,omitempty"`
}

// ExportUser reads a person's export in one transaction.
func ExportUser(ctx context.Context, db bun.IDB, userID int64) (*Export, error) {
	e := &Export{ExportedAt: Now(), Sessions: []Session{}, Messages: []ExportedMessage{},
		Reports: []Report{}, Memories: []Memory{}, LLMCalls: []LLMCall{}, Approvals: []ToolApproval{},
		Episodes: []Episode{}}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if e.User, err = UserByID(ctx, tx, userID); err != nil {
			return err
		}
		if e.Roles, err = RolesOfUser(ctx, tx, userID); err != nil {
			return err
		}
		var messages []Message
		parts := []struct {
			what  string
			query *bun.SelectQuery
		}{
			{"sessions", tx.NewSelect().Model(&e.Sessions).Where("user_id = ?", userID).Order("id")},
			{"messages", tx.NewSelect().Model(&messages).
				Where("sender_id = ? OR recipient_id = ?", userID, userID).Order("id")},
			{"reports", tx.NewSelect().Model(&e.Reports).Where("reporter_id = ?", userID).Order("id")},
			{"summaries", tx.NewSelect().Model(&e.Memories).Where("user_id = ?", userID).Order("conversation_id")},
			{"llm calls", tx.NewSelect().Model(&e.LLMCalls).Where("user_id = ?", userID).Order("id")},
			{"tool approvals", tx.NewSelect().Model(&e.Approvals).Where("user_id = ?", userID).Order("id")},
			{"episodes", tx.NewSelect().Model(&e.Episodes).Where("user_id = ?", userID).Order("id")},
		}
		for _, p := range parts {
			if err := p.query.Scan(ctx); err != nil && err != sql.ErrNoRows {
				return fmt.Errorf("export %s: %w", p.what, err)
			}
		}
		// Their files are listed with each message (what, how large, a
		// voice note's transcript), not inlined.
		if err := withDetails(ctx, tx, messages); err != nil {
			return fmt.Errorf("export attachments: %w", err)
		}
		for _, m := range messages {
			e.Messages = append(e.Messages, ExportedMessage{Message: m, Address: m.Address})
		}
		link := new(TelegramLink)
		switch err := tx.NewSelect().Model(link).Where("user_id = ?", userID).Scan(ctx); err {
		case nil:
			e.Telegram = link
		case sql.ErrNoRows:
		default:
			return fmt.Errorf("export telegram link: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export user %d: %w", userID, err)
	}
	return e, nil
}
