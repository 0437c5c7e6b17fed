package domain

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// A tool an agent lists with approval: required does not run when the
// model calls it: the turn waits, durably, for a person on the support
// team to approve or reject that call, or for the wait to run out. This
// table is what the support inbox shows and where the decision is kept;
// the turn's workflow holds the wait itself.

// ToolApproval is one call waiting for, or given, a decision.
type ToolApproval struct {
	bun.BaseModel `bun:"table:tool_approvals,alias:ta"`

	ID             int64  `bun:"id,pk,autoincrement" json:"-"`
	ConversationID string `bun:"conversation_id,type:varchar(100),notnull" json:"conversation_id"`
	UserID         int64  `bun:"user_id,notnull" json:"user_id"`
	// TurnID is the workflow of the turn that waits.
	TurnID    string         `bun:"turn_id,type:varchar(255),notnull,unique:tool_approvals_turn_id_call_id_key" json:"turn_id"`
	CallID    string         `bun:"call_id,type:varchar(255),notnull,unique:tool_approvals_turn_id_call_id_key" json:"call_id"`
	Agent     string         `bun:"agent,type:varchar(48),notnull" json:"agent"`
	Tool      string         `bun:"tool,type:varchar(255),notnull" json:"tool"`
	Arguments string         `bun:"arguments,type:text,notnull" json:"arguments"`
	Status    ApprovalStatus `bun:"status,type:varchar(16),notnull" json:"status"`
	Reason    *string        `bun:"reason,type:varchar(500)" json:"reason"`
	DecidedBy *int64         `bun:"decided_by" json:"decided_by"`
	// RequestedAt is when the turn started to wait, ExpiresAt when it
	// stops waiting.
	RequestedAt time.Time  `bun:"requested_at,notnull" json:"requested_at"`
	ExpiresAt   time.Time  `bun:"expires_at,notnull" json:"expires_at"`
	DecidedAt   *time.Time `bun:"decided_at" json:"decided_at"`
}

// ApprovalStatus is where an approval stands.
type ApprovalStatus string

// The states of an approval: pending until approved, rejected or expired.
const (
	ApprovalPending  ApprovalStatus = "pending"
	ApprovalApproved ApprovalStatus = "approved"
	ApprovalRejected ApprovalStatus = "rejected"
	ApprovalExpired  ApprovalStatus = "expired"
)

// ArgumentsDigest is what the audit log keeps of a call's arguments: a
// digest that identifies them without copying what they hold.
func (a *ToolApproval) ArgumentsDigest() string {
	sum := sha256.Sum256([]byte(a.Arguments))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// RequestApproval records a call waiting for a decision; recorded again
// (a retried step), it returns the first record.
func RequestApproval(ctx context.Context, db bun.IDB, a *ToolApproval) (*ToolApproval, error) {
	a.Status = ApprovalPending
	a.Reason, a.DecidedBy, a.DecidedAt = nil, nil, nil
	if a.RequestedAt.IsZero() {
		a.RequestedAt = Now()
	}
	if _, err := db.NewInsert().Model(a).On("CONFLICT (turn_id, call_id) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("record approval of %s: %w", a.CallID, err)
	}
	return approvalWhere(ctx, db, "turn_id = ? AND call_id = ?", a.TurnID, a.CallID)
}

// ApprovalOf reads the approval of a call in a conversation.
func ApprovalOf(ctx context.Context, db bun.IDB, conversationID, callID string) (*ToolApproval, error) {
	return approvalWhere(ctx, db, "conversation_id = ? AND call_id = ?", conversationID, callID)
}

func approvalWhere(ctx context.Context, db bun.IDB, where string, args ...any) (*ToolApproval, error) {
	a := new(ToolApproval)
	err := db.NewSelect().Model(a).Where(where, args...).Order("id DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read approval: %w", err)
	}
	return a, nil
}

// SettleApproval records the end of a wait: approved or rejected by a
// person (by), or expired. Only a pending approval changes; settling one
// already settled is a conflict.
func SettleApproval(ctx context.Context, db bun.IDB, turnID, callID string, status ApprovalStatus, reason string, by *int64) error {
	now := Now()
	res, err := db.NewUpdate().Model((*ToolApproval)(nil)).
		Set("status = ?", status).Set("reason = ?", truncated(reason, MaxHandoffReason)).
		Set("decided_by = ?", by).Set("decided_at = ?", now).
		Where("turn_id = ? AND call_id = ? AND status = ?", turnID, callID, ApprovalPending).Exec(ctx)
	if err != nil {
		return fmt.Errorf("settle approval of %s: %w", callID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return conflict(fmt.Sprintf("the call %s is not waiting for a decision", callID))
	}
	return nil
}

// PendingApprovals are the calls waiting for a decision in each of the
// conversations, oldest first.
func PendingApprovals(ctx context.Context, db bun.IDB, conversationIDs []string) (map[string][]ToolApproval, error) {
	out := map[string][]ToolApproval{}
	if len(conversationIDs) == 0 {
		return out, nil
	}
	var rows []ToolApproval
	if err := db.NewSelect().Model(&rows).Where("conversation_id IN (?) AND status = ?", bun.List(conversationIDs), ApprovalPending).
		Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("pending approvals: %w", err)
	}
	for _, r := range rows {
		out[r.ConversationID] = append(out[r.ConversationID], r)
	}
	return out, nil
}
