// Package workflows holds aimsg's Temporal workflows: deterministic code that
// orders the steps of a conversation turn and holds no I/O of its own.
package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Workflow and signal names, as they appear in the Web UI and the CLI.
const (
	ConversationWorkflowName = "ConversationWorkflow"
	TurnWorkflowName         = "TurnWorkflow"
	// InboundSignal carries a new inbound message to its conversation.
	InboundSignal = "inbound"
	// StepQuery answers with the turn's current step.
	StepQuery = "step"
	// PendingQuery answers with the conversation's queued message ids.
	PendingQuery = "pending"
)

// ConversationWorkflowID is the id of a conversation's workflow: one per
// conversation, so its turns never interleave.
func ConversationWorkflowID(conversationID string) string {
	return "conversation/" + conversationID
}

// TurnWorkflowID is the id of the turn that answers a message (the first of
// the messages it answers), so starting it twice is harmless.
func TurnWorkflowID(messageID int64) string {
	return "turn/" + strconv.FormatInt(messageID, 10)
}

// Search attributes of aimsg's workflows, for `temporal workflow list
// --query` and the Web UI. They carry ids and enums only, never personal data.
var (
	UserIDKey         = temporal.NewSearchAttributeKeyKeyword("AimsgUserId")
	ChannelKey        = temporal.NewSearchAttributeKeyKeyword("AimsgChannel")
	ConversationIDKey = temporal.NewSearchAttributeKeyKeyword("AimsgConversationId")
	OutcomeKey        = temporal.NewSearchAttributeKeyKeyword("AimsgOutcome")
)

// SearchAttributeKeys lists every custom search attribute, for registration.
func SearchAttributeKeys() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{UserIDKey, ChannelKey, ConversationIDKey, OutcomeKey}
}

// Inbound is the signal (and start) payload: one stored message to answer.
type Inbound struct {
	MessageID int64  `json:"message_id"`
	Channel   string `json:"channel"`
}

// Policy tunes a conversation's turns; the zero value takes the defaults.
type Policy struct {
	// MaxLLMCalls bounds the agent loop of one turn.
	MaxLLMCalls int `json:"max_llm_calls,omitempty"`
	// LLMRetryInterval is the first backoff of a failing LLM call; it doubles.
	LLMRetryInterval time.Duration `json:"llm_retry_interval,omitempty"`
	// LLMAttempts is how many times an LLM call is tried before the user gets
	// an apology.
	LLMAttempts int32 `json:"llm_attempts,omitempty"`
	// TurnsBeforeContinue bounds a conversation workflow's history.
	TurnsBeforeContinue int `json:"turns_before_continue,omitempty"`
	// IdleTimeout ends a conversation workflow nobody writes to; the next
	// message starts it again.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
}

// WithDefaults fills in what the policy leaves unset.
func (p Policy) WithDefaults() Policy {
	if p.MaxLLMCalls <= 0 {
		p.MaxLLMCalls = 5
	}
	if p.LLMRetryInterval <= 0 {
		p.LLMRetryInterval = time.Second
	}
	if p.LLMAttempts <= 0 {
		p.LLMAttempts = 5
	}
	if p.TurnsBeforeContinue <= 0 {
		p.TurnsBeforeContinue = 100
	}
	if p.IdleTimeout <= 0 {
		p.IdleTimeout = 10 * time.Minute
	}
	return p
}

// ConversationInput starts (or continues) a conversation workflow.
type ConversationInput struct {
	ConversationID string `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	Policy         Policy `json:"policy"`
	// Pending are messages carried over a continue-as-new.
	Pending []Inbound `json:"pending,omitempty"`
	// LastMessageID is the newest message already answered; older signals
	// are duplicates (a reconciler's, a retried API call's) and ignored.
	LastMessageID int64 `json:"last_message_id"`
}

// TurnInput is one turn: the inbound messages it answers, oldest first.
type TurnInput struct {
	ConversationID string  `json:"conversation_id"`
	UserID         int64   `json:"user_id"`
	Channel        string  `json:"channel"`
	MessageIDs     []int64 `json:"message_ids"`
	Policy         Policy  `json:"policy"`
}

// Outcomes of a turn, in the AimsgOutcome search attribute.
const (
	OutcomeReplied        = "replied"
	OutcomeLLMUnavailable = "llm_unavailable"
	OutcomeLLMRejected    = "llm_rejected"
	OutcomeStepLimit      = "step_limit"
	OutcomeUndeliverable  = "undeliverable"
)

// Metrics the workflows record through the SDK's (replay-safe) handler.
const (
	TurnsStartedMetric   = "aimsg_turns_started"
	TurnsCompletedMetric = "aimsg_turns_completed"
)

// TurnResult is what a turn did.
type TurnResult struct {
	Outcome  string `json:"outcome"`
	ReplyID  int64  `json:"reply_id"`
	LLMCalls int    `json:"llm_calls"`
	Tools    int    `json:"tools"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
