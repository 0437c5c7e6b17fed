package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

// handoffPolicy is a worker's policy with the handoff settings.
var handoffPolicy = func() activities.TurnPolicy {
	p := testPolicy
	p.HandoffMessage = "A person will answer you here."
	p.HandoffIdle = time.Hour
	p.Tools = []string{"get_report", activities.HandoffTool}
	return p
}()

// humanSide records what a conversation did on the human side, in order.
type humanSide struct {
	mu        sync.Mutex
	modes     []activities.RecordModeInput
	holds     []activities.HoldInput
	delivered []int64
}

func (h *humanSide) record(_ context.Context, in activities.RecordModeInput) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.modes = append(h.modes, in)
	return nil
}

func (h *humanSide) hold(_ context.Context, in activities.HoldInput) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holds = append(h.holds, in)
	if in.AckKey != "" {
		return 500, nil
	}
	return 0, nil
}

func (h *humanSide) deliver(_ context.Context, in activities.DeliverInput) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.delivered = append(h.delivered, in.ReplyID)
	return nil
}

func (h *humanSide) modeNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, m := range h.modes {
		out = append(out, string(m.Mode)+":"+m.Cause)
	}
	return out
}

// handoffEnv is a conversation environment whose worker has the handoff
// policy, with the human side recorded and every AI reply saved in saved.
func handoffEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *replies, *humanSide) {
	env := newEnvWith(t, handoffPolicy)
	saved := &replies{}
	human := &humanSide{}
	env.OnActivity(a.LoadHistory, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LoadHistoryInput) (activities.History, error) {
			return activities.History{IDs: []int64{in.UpTo}}, nil
		})
	env.OnActivity(a.SaveReply, mock.Anything, mock.Anything).Return(saved.save)
	env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(human.deliver)
	env.OnActivity(a.RecordMode, mock.Anything, mock.Anything).Return(human.record)
	env.OnActivity(a.HoldForPerson, mock.Anything, mock.Anything).Return(human.hold)
	return env, saved, human
}

func signalAt(env *testsuite.TestWorkflowEnvironment, at time.Duration, name string, arg any) {
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(name, arg) }, at)
}

func TestTheHandoffToolEndsTheTurnWithTheAcknowledgement(t *testing.T) {
	env, saved, _ := handoffEnv(t)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{ToolCalls: []activities.ToolCall{
		{ID: "c1", Name: activities.HandoffTool, Arguments: `{"reason":"wants a refund"}`}}}, nil)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeHandedOff, res.Outcome)
	assert.Equal(t, "wants a refund", res.Handoff)
	assert.Equal(t, 0, res.Tools, "the handoff is no tool activity")
	env.AssertActivityNumberOfCalls(t, "CallLLM", 1)
	require.Len(t, saved.all(), 1)
	assert.Equal(t, handoffPolicy.HandoffMessage, saved.all()[0].Content)
	assert.False(t, saved.all()[0].Failed)
}

func TestAnUnavailableLLMHandsOffWhenTheWorkerSaysSo(t *testing.T) {
	p := handoffPolicy
	p.HandoffOnLLMFailure = true
	env := newEnvWith(t, p)
	saved := &replies{}
	quietTurn(env, saved)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{}, assert.AnError)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeLLMUnavailable, res.Outcome)
	assert.Equal(t, workflows.HandoffReasonLLMFailure, res.Handoff)
	assert.Equal(t, p.HandoffMessage, saved.all()[0].Content, "the acknowledgement instead of the apology")
}

// HUMAN by text: the conversation goes to a person, the user is told once,
// later messages wait for the person without an LLM call, the person's
// answer is delivered, and with no answer for HandoffIdle the AI takes the
// conversation back and answers the next message.
func TestAHandedOffConversationWaitsForAPersonThenResumes(t *testing.T) {
	env, saved, human := handoffEnv(t)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "AI again"}, nil)
	signalAt(env, time.Second, workflows.InboundSignal, workflows.Inbound{MessageID: 1, Channel: "twilio", AsksForHuman: true})
	signalAt(env, time.Minute, workflows.InboundSignal, workflows.Inbound{MessageID: 2, Channel: "twilio"})
	signalAt(env, 2*time.Minute, workflows.InboundSignal, workflows.Inbound{MessageID: 3, Channel: "twilio"})
	signalAt(env, 3*time.Minute, workflows.AgentReplySignal, workflows.AgentReply{MessageID: 4, AgentID: 9})
	var during workflows.ConversationMode
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ModeQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&during))
	}, 4*time.Minute)
	// The person's answer came at 3 minutes: the AI is back an hour later.
	signalAt(env, 3*time.Minute+time.Hour+time.Second, workflows.InboundSignal, workflows.Inbound{MessageID: 5, Channel: "twilio"})
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, domain.ModeHuman, during.Mode)
	assert.Equal(t, "the user asked for a person", during.Reason)
	assert.Equal(t, []string{"human:keyword", "ai:idle"}, human.modeNames())
	require.Len(t, human.holds, 3, "the person's answer found nothing waiting: no hold")
	assert.EqualValues(t, 1, human.holds[0].UpTo)
	assert.NotEmpty(t, human.holds[0].AckKey, "told once")
	for _, h := range human.holds[1:] {
		assert.Empty(t, h.AckKey, "and only once")
	}
	assert.EqualValues(t, 2, human.holds[1].UpTo)
	assert.EqualValues(t, 3, human.holds[2].UpTo)
	assert.Equal(t, []int64{500, 4, 1001}, human.delivered, "the acknowledgement, the person's answer, the AI's reply")
	env.AssertActivityNumberOfCalls(t, "CallLLM", 1)
	require.Len(t, saved.all(), 1)
	assert.EqualValues(t, 5, saved.all()[0].AnswersUpTo)
}

// A takeover while the LLM thinks cancels the turn: no AI reply, and the
// message waits for the person, who is announced to the user.
func TestATakeoverCancelsTheTurnInFlight(t *testing.T) {
	env, saved, human := handoffEnv(t)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).After(time.Minute).Return(activities.CallLLMResult{Content: "too late"}, nil)
	signalAt(env, time.Second, workflows.InboundSignal, workflows.Inbound{MessageID: 1, Channel: "web"})
	signalAt(env, 10*time.Second, workflows.ModeSignal, workflows.ModeRequest{Mode: domain.ModeHuman, Reason: "vip", AgentID: 9})
	signalAt(env, 20*time.Minute, workflows.ModeSignal, workflows.ModeRequest{Mode: domain.ModeAI, AgentID: 9})
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Empty(t, saved.all(), "the cancelled turn saved nothing")
	assert.Equal(t, []string{"human:takeover", "ai:resume"}, human.modeNames())
	assert.EqualValues(t, 9, human.modes[0].AgentID)
	require.NotEmpty(t, human.holds)
	assert.EqualValues(t, 1, human.holds[0].UpTo, "the message waits for the person")
	assert.Equal(t, workflows.TurnWorkflowID(1), human.holds[0].AbandonedTurn)
	assert.NotEmpty(t, human.holds[0].AckKey)
	assert.Equal(t, []int64{500}, human.delivered, "only the acknowledgement went out")
}

// A handoff that comes after the turn saved its reply lets it go out.
func TestATurnPastItsSaveDeliversDespiteAHandoff(t *testing.T) {
	env, saved, human := handoffEnv(t)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "answered"}, nil)
	env.OnActivity(a.Deliver, mock.Anything, mock.Anything).After(time.Minute).Return(human.deliver)
	signalAt(env, time.Second, workflows.InboundSignal, workflows.Inbound{MessageID: 1, Channel: "twilio"})
	signalAt(env, 30*time.Second, workflows.ModeSignal, workflows.ModeRequest{Mode: domain.ModeHuman, AgentID: 9})
	signalAt(env, 20*time.Minute, workflows.ModeSignal, workflows.ModeRequest{Mode: domain.ModeAI, AgentID: 9})
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision})

	require.NoError(t, env.GetWorkflowError())
	require.Len(t, saved.all(), 1)
	assert.Equal(t, []int64{1001, 500}, human.delivered, "the reply stands; then the acknowledgement")
	assert.Equal(t, []string{"human:takeover", "ai:resume"}, human.modeNames())
}

// A run continued as new in human mode keeps the mode, reads the worker's
// idle time again, and hands back at once a conversation idle for longer.
func TestAContinuedHandoffKeepsItsModeAndItsTimer(t *testing.T) {
	env, _, human := handoffEnv(t)
	since := env.Now().Add(-2 * time.Hour)
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision,
		Mode: &workflows.ConversationMode{Mode: domain.ModeHuman, Since: since, Acknowledged: true}})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, []string{"ai:idle"}, human.modeNames())
	assert.Empty(t, human.holds, "acknowledged before: not told again")
}
