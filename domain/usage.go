package domain

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/uptrace/bun"
)

// LLMCall is one request to an LLM provider, kept for what it cost: the
// tokens the provider reported (also when streaming), how long it took and
// how it ended. Failed calls are kept too, with the tokens they reported
// (usually none).
type LLMCall struct {
	bun.BaseModel `bun:"table:llm_calls,alias:lc"`

	ID             int64     `bun:"id,pk,autoincrement" json:"id"`
	CreatedAt      time.Time `bun:"created_at,notnull" json:"created_at"`
	UserID         int64     `bun:"user_id,notnull" json:"user_id"`
	ConversationID string    `bun:"conversation_id,type:varchar(64),notnull" json:"conversation_id"`
	// TurnID is the turn's workflow id; Purpose what the call was for.
	TurnID  string     `bun:"turn_id,type:varchar(255),notnull" json:"turn_id"`
	Purpose LLMPurpose `bun:"purpose,type:varchar(16),notnull" json:"purpose"`
	// Agent is the agent the call was made for ("" before agents were
	// configuration, and for summaries).
	Agent            string     `bun:"agent,type:varchar(48),notnull,default:''" json:"agent"`
	Provider         string     `bun:"provider,type:varchar(255),notnull" json:"provider"`
	Model            string     `bun:"model,type:varchar(255),notnull" json:"model"`
	PromptTokens     int64      `bun:"prompt_tokens,notnull" json:"prompt_tokens"`
	CompletionTokens int64      `bun:"completion_tokens,notnull" json:"completion_tokens"`
	TotalTokens      int64      `bun:"total_tokens,notnull" json:"total_tokens"`
	LatencyMS        int64      `bun:"latency_ms,notnull" json:"latency_ms"`
	Outcome          LLMOutcome `bun:"outcome,type:varchar(16),notnull" json:"outcome"`
}

// LLMPurpose is what an LLM call was for.
type LLMPurpose string

// The purposes of LLM calls.
const (
	PurposeReply   LLMPurpose = "reply"
	PurposeSummary LLMPurpose = "summary"
)

// LLMOutcome is how an LLM call ended.
type LLMOutcome string

// The outcomes of LLM calls.
const (
	LLMOK LLMOutcome = "ok"
	// LLMFailed: an error worth retrying (timeout, 429, 5xx).
	LLMFailed LLMOutcome = "error"
	// LLMRejected: an error no retry fixes (bad request, key, quota).
	LLMRejected LLMOutcome = "rejected"
)

// RecordLLMCall stores one LLM call.
func RecordLLMCall(ctx context.Context, db bun.IDB, c *LLMCall) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = Now()
	}
	if c.TotalTokens == 0 {
		c.TotalTokens = c.PromptTokens + c.CompletionTokens
	}
	if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("record llm call: %w", err)
	}
	return nil
}

// DailyUsage is what one user's LLM calls used on one UTC day.
type DailyUsage struct {
	Date             string `json:"date"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	TotalTokens      int64  `json:"total_tokens"`
	Calls            int64  `json:"calls"`
	// CostUSD is what the tokens cost by LLM_PRICES.
	CostUSD float64 `json:"cost_usd"`
}

// Day is the UTC day t falls on, at midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// UsageByDay is a user's usage on each of the days UTC days ending with
// the day of now, oldest first, priced by prices; days without calls are
// zero.
func UsageByDay(ctx context.Context, db bun.IDB, userID int64, now time.Time, days int, prices Prices) ([]DailyUsage, error) {
	last := Day(now)
	first := last.AddDate(0, 0, -(days - 1))
	var calls []LLMCall
	err := db.NewSelect().Model(&calls).
		Column("created_at", "model", "prompt_tokens", "completion_tokens", "total_tokens").
		Where("user_id = ? AND created_at >= ? AND created_at < ?", userID, first, last.AddDate(0, 0, 1)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read usage: %w", err)
	}
	out := make([]DailyUsage, days)
	for i := range out {
		out[i].Date = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	for _, c := range calls {
		i := int(Day(c.CreatedAt).Sub(first) / (24 * time.Hour))
		out[i].PromptTokens += c.PromptTokens
		out[i].CompletionTokens += c.CompletionTokens
		out[i].TotalTokens += c.TotalTokens
		out[i].Calls++
		out[i].CostUSD += prices.Cost(c.Model, c.PromptTokens, c.CompletionTokens)
	}
	for i := range out {
		out[i].CostUSD = math.Round(out[i].CostUSD*1e6) / 1e6
	}
	return out, nil
}

// TokensToday is the total tokens of a user's LLM calls on the UTC day of now.
func TokensToday(ctx context.Context, db bun.IDB, userID int64, now time.Time) (int64, error) {
	day := Day(now)
	var total int64
	err := db.NewSelect().Model((*LLMCall)(nil)).ColumnExpr("COALESCE(SUM(total_tokens), 0)").
		Where("user_id = ? AND created_at >= ? AND created_at < ?", userID, day, day.AddDate(0, 0, 1)).
		Scan(ctx, &total)
	if err != nil {
		return 0, fmt.Errorf("read today's tokens: %w", err)
	}
	return total, nil
}
