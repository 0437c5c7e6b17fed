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
	return handoffEnvWith(t, handoffPolicy)
}

// handoffEnvWith is handoffEnv with the policy p.
func handoffEnvWith(t *testing.T, p activities.TurnPolicy) (*testsuite.TestWorkflowEnvironment, *replies, *humanSide) {
	env := newEnvWith(t, p)
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

// Each request of the user ends once with its outcome: one the AI
// answered ends when the user has been quiet for the policy's window,
// with the survey asked and delivered; one a person took over and gave
// back ends with that, the survey asked again; one a person answered and
// then left to time out, and one no person answered, end without one.
func TestEveryEpisodeEndsOnceWithItsOutcome(t *testing.T) {
	p := handoffPolicy
	p.EpisodeQuiet = 5 * time.Minute
	p.Survey = domain.SurveyQuestion
	env, _, human := handoffEnvWith(t, p)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "answer"}, nil)
	// 1: answered by the AI, a second message in the same episode, quiet.
	signalAt(env, time.Second, workflows.InboundSignal, workflows.Inbound{MessageID: 1, Channel: "twilio"})
	signalAt(env, time.Minute, workflows.InboundSignal, workflows.Inbound{MessageID: 2, Channel: "twilio"})
	// 3: taken over by a person, who answers and gives it back.
	signalAt(env, 20*time.Minute, workflows.InboundSignal, workflows.Inbound{MessageID: 3, Channel: "web"})
	signalAt(env, 21*time.Minute, workflows.ModeSignal, workflows.ModeRequest{Mode: domain.ModeHuman, AgentID: 9})
	signalAt(env, 22*time.Minute, workflows.AgentReplySignal, workflows.AgentReply{MessageID: 4, AgentID: 9})
	signalAt(env, 23*time.Minute, workflows.ModeSignal, workflows.ModeRequest{Mode: domain.ModeAI, AgentID: 9})
	// 5: asks for a person, who answers once; nothing more for an hour.
	signalAt(env, 40*time.Minute, workflows.InboundSignal, workflows.Inbound{MessageID: 5, Channel: "twilio", AsksForHuman: true})
	signalAt(env, 41*time.Minute, workflows.AgentReplySignal, workflows.AgentReply{MessageID: 6, AgentID: 9})
	// 7: asks for a person; nobody answers.
	signalAt(env, 3*time.Hour, workflows.InboundSignal, workflows.Inbound{MessageID: 7, Channel: "twilio", AsksForHuman: true})
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision,
		Limits: workflows.ConversationLimits{IdleTimeout: 5 * time.Hour}})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	ended := endingsOf(env).all()
	require.Len(t, ended, 4)
	first := ended[0]
	assert.Equal(t, domain.EndQuiet, first.Ending)
	assert.Equal(t, "ai:7:1", first.Key)
	assert.Equal(t, "twilio", first.Channel)
	assert.Equal(t, 2, first.Turns)
	assert.Empty(t, first.Agents, "the built-in assistant is no configured agent")
	assert.True(t, first.HandedOffAt.IsZero())
	assert.WithinDuration(t, first.Start.Add(time.Minute+5*time.Minute), first.End, 5*time.Second, "quiet 5 minutes after the second answer")
	assert.Equal(t, domain.SurveyQuestion, first.Survey)

	taken := ended[1]
	assert.Equal(t, domain.EndResumed, taken.Ending)
	assert.EqualValues(t, 3, taken.FirstMessageID)
	assert.Equal(t, "web", taken.Channel)
	assert.True(t, taken.PersonAnswered)
	assert.False(t, taken.HandedOffAt.IsZero())
	assert.Equal(t, domain.SurveyQuestion, taken.Survey, "a person's resume asks too")

	left := ended[2]
	assert.Equal(t, domain.EndIdle, left.Ending)
	assert.EqualValues(t, 5, left.FirstMessageID)
	assert.True(t, left.PersonAnswered)
	assert.Empty(t, left.Survey, "no survey for a conversation that timed out")

	unanswered := ended[3]
	assert.Equal(t, domain.EndIdle, unanswered.Ending)
	assert.EqualValues(t, 7, unanswered.FirstMessageID)
	assert.False(t, unanswered.PersonAnswered)

	assert.Contains(t, human.delivered, int64(2001), "the first survey went out")
	assert.Contains(t, human.delivered, int64(2002), "and the second")
	assert.Equal(t, []string{"human:takeover", "ai:resume", "human:keyword", "ai:idle", "human:keyword", "ai:idle"}, human.modeNames())
}
