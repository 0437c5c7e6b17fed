package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
)

// a refers to the activities by their methods; the worker supplies the real
// struct. Workflows never call it directly.
var a *activities.Activities

// Replies the user gets when the AI cannot answer properly.
const (
	ApologyUnavailable = "Sorry, I can't answer right now. Please try again in a few minutes."
	ApologyRejected    = "Sorry, something went wrong on my side and I can't answer that. The team has been notified."
	ApologyStepLimit   = "Sorry, that took more steps than I can manage in one go. Could you ask in a simpler way?"
	ApologyBudget      = "Sorry, you have used today's allowance of the assistant. It will answer again tomorrow."
	ApologyEmpty       = "Sorry, I couldn't put an answer together. Could you ask again, perhaps in other words?"
)

// TurnWorkflow answers the inbound messages of one turn: it reads the
// worker's turn policy, fixes the history, runs the agent loop (LLM calls
// and tool calls, bounded), saves the reply once and delivers it. Every
// step is an activity, so a crash anywhere resumes where it stopped.
func TurnWorkflow(ctx workflow.Context, in TurnInput) (TurnResult, error) {
	t := &turn{in: in, step: StepStarting, decisions: map[string]ApprovalDecision{}}
	if err := workflow.SetQueryHandler(ctx, StepQuery, func() (TurnStep, error) { return t.step, nil }); err != nil {
		return TurnResult{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ApprovalUpdate,
		func(_ workflow.Context, d ApprovalDecision) (string, error) {
			t.decisions[d.CallID] = d
			return "decided", nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, d ApprovalDecision) error {
			if _, decided := t.decisions[d.CallID]; d.CallID == "" || d.CallID != t.waiting || decided {
				return temporal.NewApplicationError("the call "+d.CallID+" is not waiting for a decision", ErrNotWaiting)
			}
			return nil
		}}); err != nil {
		return TurnResult{}, err
	}
	return t.run(ctx)
}

// heartbeatTimeout is how soon a worker that died inside an activity is
// noticed and the activity tried again elsewhere: the activities that wait
// on another service (CallLLM, RunTool, Deliver) heartbeat every 2 s.
const heartbeatTimeout = 10 * time.Second

// workerPolicyChange marks the version of the turn that reads its policy
// from the worker (the TurnPolicy local activity) instead of its input.
const workerPolicyChange = "worker-policy"

type turn struct {
	in     TurnInput
	policy activities.TurnPolicy
	step   TurnStep
	// sources are the knowledge base passages the tools showed the LLM,
	// numbered across the turn; otherTools counts the other tools it ran.
	sources    []domain.Citation
	otherTools int
	// waiting is the tool call waiting for a person's decision, if any;
	// decisions are the decisions made, by call.
	waiting   string
	decisions map[string]ApprovalDecision
}

func (t *turn) run(ctx workflow.Context) (TurnResult, error) {
	log := workflow.GetLogger(ctx)
	if len(t.in.MessageIDs) == 0 {
		return TurnResult{}, temporal.NewNonRetryableApplicationError("turn without messages", ErrBadInput, nil)
	}
	upTo := t.in.MessageIDs[len(t.in.MessageIDs)-1]
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"channel": t.in.Channel}).Counter(TurnsStartedMetric).Inc(1)
	local := workflow.WithLocalActivityOptions(ctx, localOptions)

	t.step = StepLoadHistory
	if t.in.Revision == 0 && workflow.GetVersion(ctx, workerPolicyChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		t.policy = t.in.LegacyPolicy.turnPolicy()
	} else if err := workflow.ExecuteLocalActivity(local, a.TurnPolicy, t.startAgent()).Get(ctx, &t.policy); err != nil {
		return t.cancelled(ctx, TurnResult{}, err)
	}
	var history activities.History
	if err := workflow.ExecuteLocalActivity(local, a.LoadHistory, activities.LoadHistoryInput{
		ConversationID: t.in.ConversationID, UpTo: upTo}).Get(ctx, &history); err != nil {
		return t.cancelled(ctx, TurnResult{}, err)
	}

	res := TurnResult{}
	reply, outcome := t.answer(ctx, history, &res)
	if ctx.Err() != nil {
		// A handoff came first: no reply is saved, the person answers.
		return t.cancelled(ctx, res, ctx.Err())
	}
	if outcome == OutcomeInterrupted {
		res.Outcome = outcome
		return res, t.done(ctx, res)
	}
	reply, outcome = t.ground(reply, outcome, &res)
	res.Outcome = outcome
	res.Agent = t.policy.Agent
	var citations []domain.Citation
	if outcome == OutcomeReplied {
		citations = domain.Cited(reply, t.sources)
	}

	// From here the reply goes out whatever happens to the conversation:
	// once saved, the user can read it.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	local = workflow.WithLocalActivityOptions(ctx, localOptions)
	t.step = StepSaveReply
	if err := workflow.ExecuteLocalActivity(local, a.SaveReply, activities.SaveReplyInput{
		ConversationID: t.in.ConversationID, UserID: t.in.UserID, AnswersUpTo: upTo,
		Content: reply, Channel: t.in.Channel, Failed: outcome.failed(), Model: res.Model, Citations: citations,
		Agent: t.policy.Agent,
	}).Get(ctx, &res.ReplyID); err != nil {
		return res, err
	}

	if t.in.Revision >= 1 && t.in.Channel == string(domain.ChannelWeb) {
		// Saved is delivered: the web client reads the reply where it is.
		return res, t.done(ctx, res)
	}
	t.step = StepDeliver
	if err := t.deliverReply(ctx, res); err != nil {
		// The reply is saved; the channel refused it for good (or past the give-up time).
		log.Error("delivery failed", "reply_id", res.ReplyID, "error", err)
		undelivered(ctx, res.ReplyID, err)
		res.Outcome = OutcomeUndeliverable
	}
	return res, t.done(ctx, res)
}

// done ends a turn that saved its reply.
func (t *turn) done(ctx workflow.Context, res TurnResult) error {
	if err := t.finish(ctx, res.Outcome); err != nil {
		return err
	}
	workflow.GetLogger(ctx).Info("turn done", "outcome", res.Outcome, "llm_calls", res.LLMCalls, "tools", res.Tools, "reply_id", res.ReplyID)
	return nil
}

// finish counts the turn and records its outcome for operators.
func (t *turn) finish(ctx workflow.Context, outcome Outcome) error {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"outcome": string(outcome)}).Counter(TurnsCompletedMetric).Inc(1)
	if err := workflow.UpsertTypedSearchAttributes(ctx, OutcomeKey.ValueSet(string(outcome))); err != nil {
		return err
	}
	t.step = StepDone
	return nil
}

// cancelled ends a turn stopped by a handoff before it saved a reply; an
// error while not cancelled is returned as it is.
func (t *turn) cancelled(ctx workflow.Context, res TurnResult, err error) (TurnResult, error) {
	if ctx.Err() == nil {
		return res, err
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	res.Outcome = OutcomeCancelled
	if ferr := t.finish(dctx, OutcomeCancelled); ferr != nil {
		return res, ferr
	}
	workflow.GetLogger(ctx).Info("turn cancelled by a handoff", "llm_calls", res.LLMCalls)
	return res, temporal.NewCanceledError(string(OutcomeCancelled))
}

// localOptions run the short database steps as local activities.
var localOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 10},
}

// withDeliverOptions sends a saved message through its channel: retried
// with backoff for up to giveUp (the worker's DELIVERY_GIVE_UP_MINUTES, an
// hour for a policy read before it), a dead worker noticed by its
// heartbeat.
func withDeliverOptions(ctx workflow.Context, giveUp time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		HeartbeatTimeout:       heartbeatTimeout,
		ScheduleToCloseTimeout: giveUp,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 5 * time.Minute},
	})
}

// agentLoop calls the LLM, runs the tools it asks for and calls it again,
// at most MaxLLMCalls times, and returns the reply text and the outcome.
func (t *turn) agentLoop(ctx workflow.Context, history []int64, res *TurnResult) (string, Outcome) {
	llm := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: t.policy.LLMCallTimeout,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        t.policy.LLMRetryInterval,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        t.policy.LLMAttempts,
			NonRetryableErrorTypes: []string{activities.ErrLLMRejected},
		},
	})
	tools := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, MaximumAttempts: 5},
	})
	var steps []activities.Step
	endpoint := activities.EndpointPrimary
	emptyAnswers := 0
	for res.LLMCalls < t.policy.MaxLLMCalls {
		t.step = StepCallLLM
		res.LLMCalls++
		var out activities.CallLLMResult
		call := func() error {
			return workflow.ExecuteActivity(llm, a.CallLLM, activities.CallLLMInput{UserID: t.in.UserID,
				Agent: t.agent(), AgentRevision: t.policy.AgentRevision, HistoryIDs: history, Steps: steps, Endpoint: endpoint}).Get(ctx, &out)
		}
		err := call()
		if isInterrupted(err) {
			workflow.GetLogger(ctx).Info("the user wrote again while the llm was retried; the next turn answers")
			return "", OutcomeInterrupted
		}
		if err != nil && ctx.Err() == nil && t.policy.Fallback && endpoint == activities.EndpointPrimary && !isBudget(err) {
			// The first LLM stayed down or refused: the fallback, with a
			// retry budget of its own, for the rest of the turn.
			workflow.GetLogger(ctx).Warn("llm failed; asking the fallback", "error", err)
			endpoint, res.Fallback = activities.EndpointFallback, true
			err = call()
		}
		if ctx.Err() != nil {
			return "", OutcomeCancelled
		}
		if err != nil {
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) && appErr.Type() == activities.ErrLLMRejected {
				workflow.GetLogger(ctx).Error("llm rejected the turn", "error", err)
				return ApologyRejected, OutcomeLLMRejected
			}
			if isBudget(err) {
				workflow.GetLogger(ctx).Info("daily token budget reached", "error", err)
				if t.policy.BudgetMessage == "" { // a policy read before the budget existed
					return ApologyBudget, OutcomeBudgetExceeded
				}
				return t.policy.BudgetMessage, OutcomeBudgetExceeded
			}
			workflow.GetLogger(ctx).Warn("llm unavailable past its retry budget", "error", err)
			if t.policy.HandoffOnLLMFailure {
				res.Handoff = HandoffReasonLLMFailure
				return t.policy.HandoffMessage, OutcomeLLMUnavailable
			}
			return ApologyUnavailable, OutcomeLLMUnavailable
		}
		if len(out.ToolCalls) == 0 && strings.TrimSpace(out.Content) == "" {
			// An empty answer is never a reply: asked once more, then the
			// apology. Only turns that get one mark their history.
			if workflow.GetVersion(ctx, emptyAnswerChange, workflow.DefaultVersion, 1) == 1 {
				if emptyAnswers++; emptyAnswers == 1 && res.LLMCalls < t.policy.MaxLLMCalls {
					workflow.GetLogger(ctx).Warn("llm answered with nothing; asking again")
					continue
				}
				return ApologyEmpty, OutcomeEmptyAnswer
			}
		}
		if len(out.ToolCalls) == 0 {
			res.Model = out.Model
			return out.Content, OutcomeReplied
		}
		if reason, ok := t.handoffCall(out.ToolCalls); ok {
			res.Handoff = reason
			return t.policy.HandoffMessage, OutcomeHandedOff
		}
		if call, ok := t.transferCall(out.ToolCalls); ok {
			steps = append(steps, t.transfer(ctx, call, out.ToolCalls, res))
			continue
		}
		step := activities.Step{Calls: out.ToolCalls}
		for _, call := range out.ToolCalls {
			if !slices.Contains(t.policy.Tools, call.Name) {
				step.Results = append(step.Results, activities.UnknownTool(call))
				continue
			}
			if slices.Contains(t.policy.Approvals, call.Name) {
				if refusal, ok := t.approval(ctx, call); !ok {
					if ctx.Err() != nil {
						return "", OutcomeCancelled
					}
					step.Results = append(step.Results, refusal)
					continue
				}
			}
			t.step = ToolStep(call.Name)
			res.Tools++
			var r activities.ToolResult
			err := workflow.ExecuteActivity(tools, activities.ToolActivity(call.Name), activities.RunToolInput{
				UserID: t.in.UserID, Agent: t.agent(), AgentRevision: t.policy.AgentRevision, Call: call, FirstSource: len(t.sources) + 1,
			}).Get(ctx, &r)
			if ctx.Err() != nil {
				return "", OutcomeCancelled
			}
			if err != nil {
				r = activities.Refusal(call, "the tool failed; try again later")
			}
			t.sources = append(t.sources, r.Sources...)
			if call.Name != activities.SearchKnowledgeTool && !r.IsError {
				t.otherTools++
			}
			step.Results = append(step.Results, r)
		}
		steps = append(steps, step)
	}
	return ApologyStepLimit, OutcomeStepLimit
}

// startAgent is the agent the turn asks its policy for: the one its
// conversation is with, else the built-in name (the entry agent, when
// agents are configured).
func (t *turn) startAgent() string {
	if t.in.Agent != "" {
		return t.in.Agent
	}
	return activities.DefaultAgent
}

// transferCall finds the first call of one of the agent's transfer tools.
func (t *turn) transferCall(calls []activities.ToolCall) (activities.ToolCall, bool) {
	for _, call := range calls {
		if strings.HasPrefix(call.Name, domain.TransferToolPrefix) && slices.Contains(t.policy.Tools, call.Name) {
			return call, true
		}
	}
	return activities.ToolCall{}, false
}

// transfer hands the rest of the turn to the agent a call names: the
// target's policy (its revision, its tools) replaces the current one, and
// the next LLM call sees the target's instructions and tools only (an
// agent deleted meanwhile is the entry agent). Past the worker's
// MaxTransfers the call is refused and the current agent answers. The
// step records a result for every call of the answer; the others are not
// run.
func (t *turn) transfer(ctx workflow.Context, call activities.ToolCall, calls []activities.ToolCall, res *TurnResult) activities.Step {
	target := strings.TrimPrefix(call.Name, domain.TransferToolPrefix)
	result := activities.Refusal(call, "no more transfers in this turn; answer the user yourself")
	if res.Transfers >= t.policy.MaxTransfersOrDefault() {
		workflow.GetLogger(ctx).Warn("too many transfers in one turn; the current agent answers", "agent", t.policy.Agent, "target", target)
	} else {
		var next activities.TurnPolicy
		local := workflow.WithLocalActivityOptions(ctx, localOptions)
		if err := workflow.ExecuteLocalActivity(local, a.TurnPolicy, target).Get(ctx, &next); err != nil {
			workflow.GetLogger(ctx).Error("transfer failed; the current agent answers", "target", target, "error", err)
			result = activities.Refusal(call, "the transfer failed; answer the user yourself")
		} else {
			workflow.GetLogger(ctx).Info("transferred", "from", t.policy.Agent, "to", next.Agent)
			t.policy = next
			res.Transfers++
			result = activities.ToolResult{CallID: call.ID,
				Content: "Transferred. You are now the " + t.agent() + " agent: answer the user."}
		}
	}
	step := activities.Step{Calls: calls}
	for _, c := range calls {
		if c.ID == call.ID {
			step.Results = append(step.Results, result)
			continue
		}
		step.Results = append(step.Results, activities.Refusal(c, "not run: the turn was being transferred"))
	}
	return step
}

// agent is the agent the turn runs: the configured one its policy names,
// else the worker's built-in one.
func (t *turn) agent() string {
	if t.policy.Agent != "" {
		return t.policy.Agent
	}
	return activities.DefaultAgent
}

// approval waits for a person to approve a tool call, durably: the call is
// recorded for the support inbox and the user is told (both by the
// RequestApproval step), then the turn waits for an ApprovalUpdate or
// the policy's timeout. It returns true to run the call, or the result
// that tells the model it was rejected or not decided in time.
func (t *turn) approval(ctx workflow.Context, call activities.ToolCall) (activities.ToolResult, bool) {
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	turnID := workflow.GetInfo(ctx).WorkflowExecution.ID
	timeout := t.policy.ApprovalTimeoutOrDefault()
	t.step = ApprovalStep(call.Name)
	// The turn takes decisions from before the request is recorded: a
	// worker that replaces a killed one runs RequestApproval again, and
	// the call is already pending in the inbox while it does.
	t.waiting = call.ID
	var notice int64
	if err := workflow.ExecuteLocalActivity(local, a.RequestApproval, activities.ApprovalInput{TurnID: turnID,
		ConversationID: t.in.ConversationID, UserID: t.in.UserID, Agent: t.agent(), Call: call, Timeout: timeout,
	}).Get(ctx, &notice); err != nil {
		t.waiting = ""
		workflow.GetLogger(ctx).Error("approval not asked for", "call", call.ID, "error", err)
		return activities.Refusal(call, "the approval could not be asked for; the action was not taken"), false
	}
	// The notice goes out while the turn waits.
	delivered := workflow.ExecuteActivity(withDeliverOptions(ctx, t.policy.DeliveryGiveUpOrDefault()), a.Deliver, activities.DeliverInput{ReplyID: notice})
	decided, err := workflow.AwaitWithTimeout(ctx, timeout, func() bool {
		_, ok := t.decisions[call.ID]
		return ok
	})
	t.waiting = ""
	if err != nil {
		return activities.ToolResult{}, false // cancelled by a handoff
	}
	d := t.decisions[call.ID]
	settle := activities.SettleInput{TurnID: turnID, ConversationID: t.in.ConversationID, CallID: call.ID,
		Status: domain.ApprovalExpired, Reason: d.Reason, By: d.By}
	result := activities.Refusal(call, fmt.Sprintf("nobody on the support team decided within %s; the action was not taken", timeout))
	switch {
	case decided && d.Approve:
		settle.Status = domain.ApprovalApproved
	case decided:
		settle.Status = domain.ApprovalRejected
		why := "a person on the support team rejected this action"
		if d.Reason != "" {
			why += ": " + d.Reason
		}
		result = activities.Refusal(call, why)
	}
	if err := workflow.ExecuteLocalActivity(local, a.SettleApproval, settle).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("approval not settled", "call", call.ID, "error", err)
	}
	if err := delivered.Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("approval notice not delivered", "notice", notice, "error", err)
		undelivered(ctx, notice, err)
	}
	return result, settle.Status == domain.ApprovalApproved
}

// emptyAnswerChange marks the version of the turn that asks again when
// the LLM answers with nothing.
const emptyAnswerChange = "empty-answer-retry"

// HandoffReasonNoAnswer is the reason of a handoff made because the
// knowledge base did not answer (KNOWLEDGE_REQUIRED with
// KNOWLEDGE_NO_ANSWER=handoff).
const HandoffReasonNoAnswer = "not in the knowledge base"

// ground keeps a reply only when it stands on the knowledge base, if the
// worker's policy requires that: an answer that cites none of the
// passages it was shown, and used no other tool (a report's status is
// grounded in the report), becomes the no-answer message or a handoff.
func (t *turn) ground(reply string, outcome Outcome, res *TurnResult) (string, Outcome) {
	if !t.policy.KnowledgeRequired || outcome != OutcomeReplied || t.otherTools > 0 ||
		len(domain.Cited(reply, t.sources)) > 0 {
		return reply, outcome
	}
	if t.policy.NoAnswerHandoff {
		res.Handoff = HandoffReasonNoAnswer
		return t.policy.HandoffMessage, OutcomeNoAnswer
	}
	return t.policy.NoAnswerMessage, OutcomeNoAnswer
}

// isBudget is true for the failure of a call the user's daily budget
// stopped.
func isBudget(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrBudgetExceeded
}

// isInterrupted says whether an LLM call gave way to a newer message.
func isInterrupted(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrInterrupted
}

// HandoffReasonLLMFailure is the reason of a handoff made because the LLM
// stayed unavailable (HANDOFF_ON_LLM_FAILURE).
const HandoffReasonLLMFailure = "the assistant could not answer (LLM unavailable)"

// handoffCall finds a call of the handoff tool, when this worker's agent
// has it, and its reason. The tool is the workflow's: the turn ends with
// the acknowledgement instead of another LLM call.
func (t *turn) handoffCall(calls []activities.ToolCall) (string, bool) {
	if !slices.Contains(t.policy.Tools, activities.HandoffTool) {
		return "", false
	}
	for _, call := range calls {
		if call.Name != activities.HandoffTool {
			continue
		}
		return activities.HandoffReason(call), true
	}
	return "", false
}

// v0Tools are the tools turns knew before they read the worker's policy.
var v0Tools = []string{"comment_report", "create_report", "get_report", "list_reports", "resolve_report", "update_report"}

// turnPolicy is the policy of a turn started before the worker owned it,
// as that version of the workflow read it (with its defaults and timeout).
func (p legacyPolicy) turnPolicy() activities.TurnPolicy {
	out := activities.TurnPolicy{MaxLLMCalls: p.MaxLLMCalls, LLMAttempts: p.LLMAttempts,
		LLMRetryInterval: p.LLMRetryInterval, LLMCallTimeout: 90 * time.Second, Tools: v0Tools}
	if out.MaxLLMCalls <= 0 {
		out.MaxLLMCalls = 5
	}
	if out.LLMRetryInterval <= 0 {
		out.LLMRetryInterval = time.Second
	}
	if out.LLMAttempts <= 0 {
		out.LLMAttempts = 5
	}
	return out
}
