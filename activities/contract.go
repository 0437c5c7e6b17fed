package activities

import "time"

// The activities' side of the Temporal contract: the names workflows,
// retry policies and operators see. Changing one breaks turns in flight.

// Error types of activity failures, as retry policies and workflows match
// them (temporal.ApplicationError.Type).
const (
	// ErrLLMRejected: an LLM failure no retry can fix (a bad request, a bad
	// key, no quota). Workflows do not retry it.
	ErrLLMRejected = "LLMRejected"
	// ErrLLMIdle: a streamed answer stopped coming for
	// LLM_IDLE_TIMEOUT_SECONDS; retried.
	ErrLLMIdle = "LLMIdle"
	// ErrBudgetExceeded: the user's tokens of the day reached
	// LLM_USER_DAILY_TOKENS; no LLM call was made.
	ErrBudgetExceeded = "BudgetExceeded"
	// ErrNoFallback: the turn asked for a fallback endpoint this worker
	// does not have.
	ErrNoFallback = "NoFallback"
	// ErrInterrupted: the user wrote again while the call was being
	// retried; the turn gives way to one that answers everything.
	ErrInterrupted = "Interrupted"
	// ErrUnknownAgent: the turn names an agent this worker does not have.
	ErrUnknownAgent = "UnknownAgent"
	// ErrBadChannel: a reply for a channel aimsg does not know.
	ErrBadChannel = "BadChannel"
	// ErrChannelNotConfigured: the reply's channel has no sender on this worker.
	ErrChannelNotConfigured = "ChannelNotConfigured"
	// ErrTwilioRejected: Twilio refused the message for good.
	ErrTwilioRejected = "TwilioRejected"
	// ErrTelegramRejected: Telegram refused the message for good.
	ErrTelegramRejected = "TelegramRejected"
	// ErrTelegramRateLimited: Telegram asked to wait; retried after the
	// delay it gave.
	ErrTelegramRateLimited = "TelegramRateLimited"
	// ErrWebhookFailed: a webhook receiver did not answer 2xx; retried.
	ErrWebhookFailed = "WebhookFailed"
	// ErrWebhookRefused: a webhook URL aimsg may not call (a private address).
	ErrWebhookRefused = "WebhookRefused"
)

// ToolActivityName is the activity type a tool runs as, so each tool call
// shows by name in the Web UI.
func ToolActivityName(tool string) string {
	return "tool." + tool
}

// TurnPolicy is how this worker runs a turn, from its configuration. A
// turn reads it when it starts (the TurnPolicy local activity), so a
// changed setting applies to the next turn of every conversation, and the
// turn's history keeps what it read for replays.
type TurnPolicy struct {
	// MaxLLMCalls bounds the agent loop of one turn.
	MaxLLMCalls int `json:"max_llm_calls"`
	// LLMAttempts is how many times an LLM call is tried before the user
	// gets an apology; LLMRetryInterval is the first backoff (it doubles).
	LLMAttempts      int32         `json:"llm_attempts"`
	LLMRetryInterval time.Duration `json:"llm_retry_interval"`
	// LLMCallTimeout bounds one CallLLM attempt (LLMCallTimeout).
	LLMCallTimeout time.Duration `json:"llm_call_timeout"`
	// Approvals are the tools of the turn's agent whose calls wait for a
	// person's decision, as the LLM names them; ApprovalTimeout is how
	// long (TOOL_APPROVAL_TIMEOUT_MINUTES), ApprovalMessage what the user
	// is told meanwhile.
	Approvals       []string      `json:"approvals,omitempty"`
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	ApprovalMessage string        `json:"approval_message,omitempty"`
	// MaxTransfers bounds the transfers between agents in one turn
	// (TURN_MAX_TRANSFERS; 0: the default).
	MaxTransfers int `json:"max_transfers,omitempty"`
	// Agent and AgentRevision are the configured agent the turn runs;
	// empty and 0 run the worker's built-in agent.
	Agent         string `json:"agent,omitempty"`
	AgentRevision int64  `json:"agent_revision,omitempty"`
	// Tools are the tools of the turn's agent on this worker: each is
	// registered as an activity (HandoffTool is the workflow's own), a
	// call to any other is refused.
	Tools []string `json:"tools"`
	// HandoffMessage tells the user a person will answer; HandoffIdle
	// gives the conversation back to the AI after that long without a
	// person's answer; HandoffOnLLMFailure hands off a turn whose LLM
	// stayed unavailable.
	HandoffMessage      string        `json:"handoff_message,omitempty"`
	HandoffIdle         time.Duration `json:"handoff_idle,omitempty"`
	HandoffOnLLMFailure bool          `json:"handoff_on_llm_failure,omitempty"`
	// BudgetMessage answers a user whose tokens of the day are spent.
	BudgetMessage string `json:"budget_message,omitempty"`
	// Fallback says the worker has a second LLM endpoint
	// (LITELLM_FALLBACK_*) for when the first fails.
	Fallback bool `json:"fallback,omitempty"`
	// KnowledgeRequired answers only from the knowledge base: a reply that
	// cites none of the passages it was shown (and used no other tool) is
	// replaced by NoAnswerMessage, or with NoAnswerHandoff the
	// conversation goes to a person.
	KnowledgeRequired bool   `json:"knowledge_required,omitempty"`
	NoAnswerMessage   string `json:"no_answer_message,omitempty"`
	NoAnswerHandoff   bool   `json:"no_answer_handoff,omitempty"`
	// DeliveryGiveUp is how long a reply's delivery is retried before it
	// is recorded failed (DELIVERY_GIVE_UP_MINUTES; 0, in a policy read
	// before it existed: DefaultDeliveryGiveUp).
	DeliveryGiveUp time.Duration `json:"delivery_give_up,omitempty"`
	// EpisodeQuiet ends an episode the AI answered once the user has
	// written nothing for that long (CSAT_AFTER_MINUTES; 0, in a policy
	// read before episodes: DefaultEpisodeQuiet). Survey, when set, is
	// the satisfaction question then asked (CSAT_ENABLED).
	EpisodeQuiet time.Duration `json:"episode_quiet,omitempty"`
	Survey       string        `json:"survey,omitempty"`
}

// DefaultEpisodeQuiet is CSAT_AFTER_MINUTES's default.
const DefaultEpisodeQuiet = 30 * time.Minute

// EpisodeQuietOrDefault is EpisodeQuiet, or the default when 0.
func (p TurnPolicy) EpisodeQuietOrDefault() time.Duration {
	if p.EpisodeQuiet > 0 {
		return p.EpisodeQuiet
	}
	return DefaultEpisodeQuiet
}

// DefaultDeliveryGiveUp bounds the delivery of a reply whose policy does
// not say (as every delivery was bounded before the setting).
const DefaultDeliveryGiveUp = time.Hour

// DeliveryGiveUpOrDefault is DeliveryGiveUp, or the default when 0.
func (p TurnPolicy) DeliveryGiveUpOrDefault() time.Duration {
	if p.DeliveryGiveUp > 0 {
		return p.DeliveryGiveUp
	}
	return DefaultDeliveryGiveUp
}

// DefaultApprovalTimeout and DefaultApprovalMessage are a policy's when
// it does not say.
const (
	DefaultApprovalTimeout = time.Hour
	DefaultApprovalMessage = "I've asked the support team to approve this. I'll carry on as soon as they decide."
)

// ApprovalTimeoutOrDefault is ApprovalTimeout, or the default when 0.
func (p TurnPolicy) ApprovalTimeoutOrDefault() time.Duration {
	if p.ApprovalTimeout > 0 {
		return p.ApprovalTimeout
	}
	return DefaultApprovalTimeout
}

// ApprovalMessageOrDefault is ApprovalMessage, or the default when empty.
func (p TurnPolicy) ApprovalMessageOrDefault() string {
	if p.ApprovalMessage != "" {
		return p.ApprovalMessage
	}
	return DefaultApprovalMessage
}

// DefaultMaxTransfers bounds the transfers of a turn whose policy does
// not say.
const DefaultMaxTransfers = 3

// MaxTransfersOrDefault is MaxTransfers, or DefaultMaxTransfers when 0.
func (p TurnPolicy) MaxTransfersOrDefault() int {
	if p.MaxTransfers > 0 {
		return p.MaxTransfers
	}
	return DefaultMaxTransfers
}

// The LLM endpoints a CallLLM may ask (CallLLMInput.Endpoint).
const (
	EndpointPrimary  = "primary"
	EndpointFallback = "fallback"
)

// LLMCallTimeout is the start-to-close timeout of CallLLM for a given LLM
// request timeout: the wait for an unreachable database, the summary
// request when one is due, the request itself, and a margin for building
// the prompt.
func LLMCallTimeout(llmTimeout time.Duration) time.Duration {
	return databaseWait + 2*llmTimeout + 10*time.Second
}
