// Package workflows holds aimsg's Temporal workflows: deterministic code that
// orders the steps of a conversation turn and holds no I/O of its own.
package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/domain"
)

// This file is the workflows' side of the Temporal contract: the names,
// ids, search attributes, inputs and results that clients, operators and
// histories of running workflows depend on. Changing one breaks them.

// Workflow, signal and query names, as they appear in the Web UI and the CLI.
const (
	ConversationWorkflowName = "ConversationWorkflow"
	TurnWorkflowName         = "TurnWorkflow"
	WebhookWorkflowName      = "WebhookWorkflow"
	// InboundSignal carries a new inbound message to its conversation.
	InboundSignal = "inbound"
	// StepQuery answers with the turn's current step.
	StepQuery = "step"
	// PendingQuery answers with the conversation's queued message ids.
	PendingQuery = "pending"
	// ModeSignal (a ModeRequest) hands the conversation to a person or
	// back to the AI.
	ModeSignal = "mode"
	// AgentReplySignal (an AgentReply) gives the conversation a person's
	// stored answer to deliver.
	AgentReplySignal = "agent_reply"
	// TurnSavedSignal (a TurnSaved) tells a conversation that its turn
	// saved its reply and is still delivering it: the next turn may start.
	TurnSavedSignal = "turn_saved"
	// ModeQuery answers with the conversation's ConversationMode.
	ModeQuery = "mode"
	// ApprovalUpdate (an ApprovalDecision) decides a tool call of a turn
	// that waits for a person's approval; refused unless that call waits.
	ApprovalUpdate = "approval"
)

// ApprovalDecision is a person's decision on a tool call.
type ApprovalDecision struct {
	CallID  string `json:"call_id"`
	Approve bool   `json:"approve"`
	Reason  string `json:"reason,omitempty"`
	// By is the person who decided.
	By int64 `json:"by"`
}

// ErrNotWaiting is the error type of an ApprovalUpdate for a call the
// turn is not waiting on (decided, expired, never asked).
const ErrNotWaiting = "NotWaiting"

// ErrBadInput is the error type of a workflow started with input it cannot
// run (a turn without messages).
const ErrBadInput = "BadInput"

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

// WebhookWorkflowID is the id of a webhook delivery's workflow, so the
// dispatchers of two workers start it once.
func WebhookWorkflowID(deliveryID int64) string {
	return "webhook/" + strconv.FormatInt(deliveryID, 10)
}

// WebhookStartOptions start a delivery's workflow once: a second start of
// the same delivery, running or finished, is refused.
func WebhookStartOptions(deliveryID int64, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       WebhookWorkflowID(deliveryID),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
	}
}

// Search attributes of aimsg's workflows, for `temporal workflow list
// --query` and the Web UI. They carry ids and enums only, never personal data.
var (
	UserIDKey         = temporal.NewSearchAttributeKeyKeyword("AimsgUserId")
	ChannelKey        = temporal.NewSearchAttributeKeyKeyword("AimsgChannel")
	ConversationIDKey = temporal.NewSearchAttributeKeyKeyword("AimsgConversationId")
	OutcomeKey        = temporal.NewSearchAttributeKeyKeyword("AimsgOutcome")
	// AgentKey is the configured agent a turn started with.
	AgentKey = temporal.NewSearchAttributeKeyKeyword("AimsgAgent")
)

// SearchAttributeKeys lists every custom search attribute, for registration.
func SearchAttributeKeys() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{UserIDKey, ChannelKey, ConversationIDKey, OutcomeKey, AgentKey}
}

// ConversationStartOptions start a conversation's workflow, or find the
// one running (SignalWithStart). A finished one may start again: it ended
// idle, and the next message opens a new run.
func ConversationStartOptions(in ConversationInput, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       ConversationWorkflowID(in.ConversationID),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			UserIDKey.ValueSet(strconv.FormatInt(in.UserID, 10)),
			ConversationIDKey.ValueSet(in.ConversationID),
		),
	}
}

// turnStart is what every start of a TurnWorkflow shares: its id, named
// after the first message it answers, may be used again only by a retry of
// a turn that failed, and its search attributes.
func turnStart(in TurnInput) (string, enums.WorkflowIdReusePolicy, temporal.SearchAttributes) {
	attrs := []temporal.SearchAttributeUpdate{
		UserIDKey.ValueSet(strconv.FormatInt(in.UserID, 10)),
		ChannelKey.ValueSet(in.Channel),
		ConversationIDKey.ValueSet(in.ConversationID),
	}
	if in.Agent != "" {
		attrs = append(attrs, AgentKey.ValueSet(in.Agent))
	}
	return TurnWorkflowID(in.MessageIDs[0]), enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		temporal.NewSearchAttributes(attrs...)
}

// TurnChildOptions run a turn as a child of its conversation's workflow.
func TurnChildOptions(in TurnInput) workflow.ChildWorkflowOptions {
	id, reuse, attrs := turnStart(in)
	// A cancelled turn is waited for: the conversation must know whether
	// it saved its reply before it stopped.
	return workflow.ChildWorkflowOptions{WorkflowID: id, WorkflowIDReusePolicy: reuse, TypedSearchAttributes: attrs,
		WaitForCancellation: true}
}

// TurnStartOptions run a turn on its own, outside its conversation (an
// operator's retry): it refuses to start while the turn runs or after it
// succeeded.
func TurnStartOptions(in TurnInput, taskQueue string) client.StartWorkflowOptions {
	id, reuse, attrs := turnStart(in)
	return client.StartWorkflowOptions{
		ID: id, TaskQueue: taskQueue, WorkflowIDReusePolicy: reuse, TypedSearchAttributes: attrs,
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
}

// Inbound is the signal (and start) payload: one stored message to answer.
type Inbound struct {
	MessageID int64  `json:"message_id"`
	Channel   string `json:"channel"`
	// AsksForHuman marks a message that asks for a person: the keyword
	// (AGENT, HUMAN) or a request in words, on a channel without a button.
	AsksForHuman bool `json:"asks_for_human,omitempty"`
	// Debounce is how long the conversation waits after this message for
	// more before a turn answers them together (0: at once).
	Debounce time.Duration `json:"debounce,omitempty"`
}

// TurnSaved is a turn whose reply is saved but not delivered yet (its
// channel is slow or down), with what it decided.
type TurnSaved struct {
	TurnID string     `json:"turn_id"`
	Result TurnResult `json:"result"`
}

// ModeRequest asks a conversation to change who answers it (the modes
// are domain.Mode's).
type ModeRequest struct {
	Mode   domain.Mode `json:"mode"`
	Reason string      `json:"reason,omitempty"`
	// AgentID is the person who asked (0: an operator or the system).
	AgentID int64 `json:"agent_id,omitempty"`
}

// AgentReply is a person's answer, stored, for the conversation to deliver.
type AgentReply struct {
	MessageID int64 `json:"message_id"`
	AgentID   int64 `json:"agent_id"`
}

// ConversationMode is who answers a conversation, as ModeQuery tells it.
type ConversationMode struct {
	Mode domain.Mode `json:"mode"`
	// Reason, AgentID and Since describe the handoff in human mode.
	Reason  string    `json:"reason,omitempty"`
	AgentID int64     `json:"agent_id,omitempty"`
	Since   time.Time `json:"since,omitempty"`
	// LastAgentReply is when a person last answered; the AI takes the
	// conversation back after the worker's idle time from the later of
	// the two.
	LastAgentReply time.Time `json:"last_agent_reply,omitempty"`
	// Acknowledged says the user was told a person will answer.
	Acknowledged bool `json:"acknowledged,omitempty"`
	// Agent, in the mode query's answer, is the configured agent the AI
	// answers with ("": the entry agent, or none configured).
	Agent string `json:"agent,omitempty"`
}

// ConversationLimits bound one run of a conversation workflow; the zero
// value takes the defaults. They are workflow constants, not settings:
// tests shorten them.
type ConversationLimits struct {
	// TurnsBeforeContinue bounds a conversation workflow's history.
	TurnsBeforeContinue int `json:"turns_before_continue,omitempty"`
	// IdleTimeout ends a conversation workflow nobody writes to; the next
	// message starts it again.
	IdleTimeout time.Duration `json:"idle_timeout,omitempty"`
}

func (l ConversationLimits) withDefaults() ConversationLimits {
	if l.TurnsBeforeContinue <= 0 {
		l.TurnsBeforeContinue = 100
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 10 * time.Minute
	}
	return l
}

// ConversationInput starts (or continues) a conversation workflow.
type ConversationInput struct {
	ConversationID string `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	// Limits keeps the JSON name of the policy it came from: runs started
	// with one still decode.
	Limits ConversationLimits `json:"policy"`
	// Pending are messages carried over a continue-as-new.
	Pending []Inbound `json:"pending,omitempty"`
	// LastMessageID is the newest message already answered; older signals
	// are duplicates (a reconciler's, a retried API call's) and ignored.
	LastMessageID int64 `json:"last_message_id"`
	// Mode is carried over a continue-as-new; nil is ai.
	Mode *ConversationMode `json:"mode,omitempty"`
	// Agent is the configured agent answering, carried over a
	// continue-as-new; "" is the entry agent.
	Agent string `json:"agent,omitempty"`
	// Episode is the open episode, carried over a continue-as-new.
	Episode *Episode `json:"episode,omitempty"`
	// Revision is the run's shape, chosen by whoever starts it (see
	// ConversationRevision).
	Revision int `json:"revision,omitempty"`
}

// Episode is one request of the user, from their first message to its
// outcome (domain.Outcome), as the conversation workflow follows it.
type Episode struct {
	Key            string    `json:"key"`
	FirstMessageID int64     `json:"first_message_id,omitempty"`
	Channel        string    `json:"channel"`
	Start          time.Time `json:"start"`
	Turns          int       `json:"turns,omitempty"`
	Agents         []string  `json:"agents,omitempty"`
	// LastTurn is when the AI last answered: the user is quiet since.
	LastTurn time.Time `json:"last_turn,omitempty"`
	// HandedOff is when a person was given the conversation (zero: never).
	HandedOff      time.Time `json:"handed_off,omitempty"`
	PersonAnswered bool      `json:"person_answered,omitempty"`
}

// ConversationRevision is the shape new conversation runs take. 0 (runs
// started before revisions) started an idle timer each time it waited for
// a message and cancelled it when one came: two events and a timer for
// every turn. 1 keeps one idle timer across turns and starts the next only
// when it fires early. 2 drops, once a turn has answered, the messages
// that came meanwhile and are older than the newest it answered (through
// two APIs a later message can reach the workflow first): its reply
// answers them (SaveReply settles every waiting message up to it), so
// they get no reply of their own after it, out of order. 3 follows the
// conversation's episodes to their outcome (and the survey).
const ConversationRevision = 3

// TurnInput is one turn: the inbound messages it answers, oldest first.
// How the turn runs (LLM attempts, timeouts, tools) is the worker's
// policy, read when the turn starts.
type TurnInput struct {
	ConversationID string  `json:"conversation_id"`
	UserID         int64   `json:"user_id"`
	Channel        string  `json:"channel"`
	MessageIDs     []int64 `json:"message_ids"`
	// LegacyPolicy is what turns started before the worker owned the
	// policy carried; only their replays read it.
	LegacyPolicy legacyPolicy `json:"policy"`
	// Revision is the turn's shape, chosen by whoever starts it: in the
	// input, the choice costs no version marker in every turn's history.
	Revision int `json:"revision,omitempty"`
	// Agent is the configured agent the conversation is with ("": the
	// entry agent).
	Agent string `json:"agent,omitempty"`
}

// TurnRevision is the shape new turns take. 0 (turns started before
// revisions) chose the policy's source by a "worker-policy" version
// marker and delivered web replies in a Deliver activity; 1 reads the
// worker's policy without a marker and has no Deliver for the web, whose
// replies are delivered as they are saved.
const TurnRevision = 1

// legacyPolicy is the policy turns used to carry in their input.
type legacyPolicy struct {
	MaxLLMCalls      int           `json:"max_llm_calls,omitempty"`
	LLMRetryInterval time.Duration `json:"llm_retry_interval,omitempty"`
	LLMAttempts      int32         `json:"llm_attempts,omitempty"`
}

// TurnStep is where a turn stands, as the StepQuery answers.
type TurnStep string

// The steps of a turn, in order; a tool's step is ToolStep(name).
const (
	StepStarting    TurnStep = "starting"
	StepLoadHistory TurnStep = "load_history"
	StepCallLLM     TurnStep = "call_llm"
	StepSaveReply   TurnStep = "save_reply"
	StepDeliver     TurnStep = "deliver"
	StepDone        TurnStep = "done"
	// StepFetchMedia comes after load_history in a turn whose messages
	// carry files: it fetches them.
	StepFetchMedia TurnStep = "fetch_media"
)

// ApprovalStep is the step of a turn waiting for a person to approve a
// call of a tool.
func ApprovalStep(tool string) TurnStep { return TurnStep("approval:" + tool) }

// ToolStep is the step of a turn running a tool.
func ToolStep(tool string) TurnStep { return TurnStep("tool:" + tool) }

// Outcome is how a turn ended, in TurnResult and the AimsgOutcome search
// attribute.
type Outcome string

// The outcomes of a turn.
const (
	OutcomeReplied        Outcome = "replied"
	OutcomeLLMUnavailable Outcome = "llm_unavailable"
	OutcomeLLMRejected    Outcome = "llm_rejected"
	OutcomeStepLimit      Outcome = "step_limit"
	OutcomeUndeliverable  Outcome = "undeliverable"
	// OutcomeHandedOff: the LLM handed the conversation to a person; the
	// reply was the acknowledgement.
	OutcomeHandedOff Outcome = "handed_off"
	// OutcomeCancelled: a handoff stopped the turn before it saved a reply.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeBudgetExceeded: the user's tokens of the day were spent; the
	// reply is the budget message, no LLM call was made.
	OutcomeBudgetExceeded Outcome = "budget_exceeded"
	// OutcomeNoAnswer: the knowledge base was required and the answer
	// cited none of it; the reply is the no-answer message (or the
	// handoff's, when the turn handed off).
	OutcomeNoAnswer Outcome = "no_answer"
	// OutcomeEmptyAnswer: the LLM answered with nothing, twice; the reply
	// is an apology.
	OutcomeEmptyAnswer Outcome = "empty_answer"
	// OutcomeInterrupted: the user wrote again while the turn was still
	// retrying the LLM; no reply is saved, and the next turn answers its
	// messages with the new one.
	OutcomeInterrupted Outcome = "interrupted"
	// OutcomeVoiceUnheard: the turn's messages were a voice note that
	// could not be fetched or transcribed, and nothing else; the reply
	// asks the person to type (VoiceNoteUnheard), without the LLM.
	OutcomeVoiceUnheard Outcome = "voice_unheard"
)

// failed is true for the outcomes whose reply is an apology.
func (o Outcome) failed() bool {
	return o != OutcomeReplied && o != OutcomeHandedOff && o != OutcomeBudgetExceeded && o != OutcomeNoAnswer
}

// Metrics the workflows record through the SDK's (replay-safe) handler.
const (
	TurnsStartedMetric   = "aimsg_turns_started"
	TurnsCompletedMetric = "aimsg_turns_completed"
)

// TurnResult is what a turn did.
type TurnResult struct {
	Outcome  Outcome `json:"outcome"`
	ReplyID  int64   `json:"reply_id"`
	LLMCalls int     `json:"llm_calls"`
	Tools    int     `json:"tools"`
	// Handoff, when set, is why the turn handed the conversation to a
	// person (its reply told the user so).
	Handoff string `json:"handoff,omitempty"`
	// Agent is the configured agent the turn ended with, after its
	// transfers (Transfers of them); the conversation keeps it.
	Agent     string `json:"agent,omitempty"`
	Transfers int    `json:"transfers,omitempty"`
	// Fallback says the first LLM failed and the fallback endpoint was
	// asked; Model is the model that wrote the reply, if one did.
	Fallback bool   `json:"fallback,omitempty"`
	Model    string `json:"model,omitempty"`
}

// LocalStep names the local activity a history event records (TurnPolicy,
// LoadHistory, SaveReply, ...), reading the marker's payload with dc (the
// client's converter: payloads may be sealed); ok is false for any other
// event.
func LocalStep(ev *historypb.HistoryEvent, dc converter.DataConverter) (name string, ok bool) {
	m := ev.GetMarkerRecordedEventAttributes()
	if m == nil || m.GetMarkerName() != "LocalActivity" {
		return "", false
	}
	var data struct{ ActivityType string }
	p := m.GetDetails()["data"].GetPayloads()
	if len(p) == 0 || dc.FromPayload(p[0], &data) != nil {
		return "", false
	}
	return data.ActivityType, true
}
