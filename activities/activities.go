// Package activities holds the side effects of an AI turn, as methods of
// one struct that holds their dependencies: the database, the LLM client,
// the agents and the channel senders. Workflows refer to them through a nil
// *Activities; the worker registers a real one.
package activities

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/toolservers"
)

// Deliverer sends a saved reply out through one channel.
type Deliverer interface {
	Deliver(ctx context.Context, reply *domain.Message) (providerID string, err error)
}

// Activities are the steps of a turn that touch the world.
type Activities struct {
	DB *bun.DB
	// LLM is the endpoint and model turns ask; Fallback, when set, the one
	// they ask when LLM stays unavailable or refuses.
	LLM      Endpoint
	Fallback *Endpoint
	Agents   Registry
	// LLMIdleTimeout is LLM_IDLE_TIMEOUT_SECONDS: a streamed answer that
	// sends nothing for this long is cut, to be retried (0: never).
	LLMIdleTimeout time.Duration
	// MCP holds the MCP servers' tools (MCP_SERVERS); nil: none.
	MCP *toolservers.Servers
	// DailyTokens is LLM_USER_DAILY_TOKENS: past it on a UTC day, a user's
	// turns make no LLM call (0: no limit).
	DailyTokens int64
	// Now is the clock of the daily budget; nil is the real one.
	Now func() time.Time
	// HistoryMax is CHAT_HISTORY_MAX: messages of history given to the LLM.
	HistoryMax int
	// SummaryEvery is CHAT_SUMMARY_EVERY: a conversation longer than the
	// window keeps a summary of the older part, refreshed when this many
	// messages went past it (0: no summary).
	SummaryEvery int
	// Policy is how turns run (the TURN_* settings); Tools comes from Agents.
	Policy TurnPolicy
	// Webhooks posts outbound webhook deliveries.
	Webhooks *Webhooks
	// Deliverers send replies per channel; the web channel needs none.
	Deliverers map[domain.Channel]Deliverer
	// Media fetches and keeps the files inbound messages carry, and
	// shows them to the model; nil: files are not fetched.
	Media *Media
	// Events carries typing, the reply as it is written and resets to the
	// API processes' streams; nil publishes nothing.
	Events events.Publisher
	Logger *slog.Logger
	// SupportLog records handoffs and resumes (the support area's file);
	// nil uses Logger.
	SupportLog *slog.Logger
	Metrics    *metrics.Metrics
	// Prices are LLM_PRICES, for what an episode cost.
	Prices domain.Prices
}

// ToolCall is one function call the LLM asked for.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ToolResult is a tool's answer, as text for the LLM. IsError marks a
// refused or malformed call: the LLM sees why and can tell the user.
type ToolResult struct {
	CallID  string `json:"call_id"`
	Content string `json:"content"`
	IsError bool   `json:"is_error"`
	// Sources are the knowledge base passages Content shows under their
	// numbers, for the reply to cite.
	Sources []domain.Citation `json:"sources,omitempty"`
}

// Step is one round of the agent loop: the calls the LLM made and their results.
type Step struct {
	Calls   []ToolCall   `json:"calls"`
	Results []ToolResult `json:"results"`
}
