package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/worker"
	"github.com/aimsg/aimsg/workflows"
)

var a *activities.Activities

// testPolicy is the worker's turn policy in these tests.
var testPolicy = activities.TurnPolicy{MaxLLMCalls: 5, LLMAttempts: 3, LLMRetryInterval: 10 * time.Millisecond,
	LLMCallTimeout: time.Minute}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	return newEnvWith(t, testPolicy)
}

// newEnvWith runs workflows on a worker whose turn policy is p.
func newEnvWith(_ *testing.T, p activities.TurnPolicy) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	worker.Register(env, &activities.Activities{Agents: activities.DefaultAgents(activities.AgentSettings{}), Policy: p})
	ended := &endings{}
	envEndings.Store(env, ended)
	env.OnActivity(a.EndEpisode, mock.Anything, mock.Anything).Return(ended.record)
	return env
}

// endings records the episodes a conversation ended, in order; a survey
// asked is message 2000 + its number.
type endings struct {
	mu  sync.Mutex
	got []activities.EndEpisodeInput
}

var envEndings sync.Map

func endingsOf(env *testsuite.TestWorkflowEnvironment) *endings {
	e, _ := envEndings.Load(env)
	return e.(*endings)
}

func (e *endings) record(_ context.Context, in activities.EndEpisodeInput) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, in)
	if in.Survey == "" {
		return 0, nil
	}
	return int64(2000 + len(e.got)), nil
}

func (e *endings) all() []activities.EndEpisodeInput {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]activities.EndEpisodeInput(nil), e.got...)
}

// replies records what SaveReply was asked to save, in order.
type replies struct {
	mu  sync.Mutex
	got []activities.SaveReplyInput
}

func (r *replies) save(_ context.Context, in activities.SaveReplyInput) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, in)
	return int64(1000 + len(r.got)), nil
}

func (r *replies) all() []activities.SaveReplyInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]activities.SaveReplyInput(nil), r.got...)
}

// quietTurn mocks the steps around the LLM: history, delivery.
func quietTurn(env *testsuite.TestWorkflowEnvironment, saved *replies) {
	env.OnActivity(a.LoadHistory, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LoadHistoryInput) (activities.History, error) {
			return activities.History{IDs: []int64{in.UpTo}}, nil
		})
	env.OnActivity(a.SaveReply, mock.Anything, mock.Anything).Return(saved.save)
	env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(nil)
}

// endlessTools makes the LLM ask for list_reports every time.
func endlessTools(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{
		ToolCalls: []activities.ToolCall{{ID: "c", Name: "list_reports", Arguments: "{}"}}}, nil)
	env.OnActivity(activities.ToolActivityName("list_reports"), mock.Anything, mock.Anything).Return(
		activities.ToolResult{CallID: "c", Content: "[]"}, nil)
}

func turnInput(ids ...int64) workflows.TurnInput {
	return workflows.TurnInput{ConversationID: "ai:7", UserID: 7, Channel: "web", MessageIDs: ids,
		Revision: workflows.TurnRevision}
}

// A web turn has no Deliver step (its reply is delivered as it is saved);
// SMS and Telegram turns deliver; turns of revision 0 keep their shape.
func TestOnlyTurnsWithSomethingToSendDeliver(t *testing.T) {
	for _, tc := range []struct {
		channel  string
		revision int
		delivers int
	}{{"web", workflows.TurnRevision, 0}, {"twilio", workflows.TurnRevision, 1}, {"telegram", workflows.TurnRevision, 1},
		{"web", 0, 1}, {"twilio", 0, 1}} {
		t.Run(fmt.Sprintf("%s-revision-%d", tc.channel, tc.revision), func(t *testing.T) {
			env := newEnv(t)
			saved := &replies{}
			quietTurn(env, saved)
			env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "ok"}, nil)
			in := turnInput(5)
			in.Channel, in.Revision = tc.channel, tc.revision
			env.ExecuteWorkflow(workflows.TurnWorkflow, in)

			var res workflows.TurnResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
			assert.EqualValues(t, 1001, res.ReplyID)
			require.Len(t, saved.all(), 1)
			env.AssertActivityNumberOfCalls(t, "Deliver", tc.delivers)
		})
	}
}

// chattyConversation is a conversation whose LLM takes a second per call,
// sent messages 1, 2 and 3, spacing apart.
func chattyConversation(t *testing.T, spacing time.Duration) (*testsuite.TestWorkflowEnvironment, *replies) {
	env := newEnv(t)
	saved := &replies{}
	quietTurn(env, saved)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).After(time.Second).Return(activities.CallLLMResult{Content: "ok"}, nil)
	for i, id := range []int64{1, 2, 3} {
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.InboundSignal, workflows.Inbound{MessageID: id, Channel: "web"})
		}, time.Duration(i)*spacing)
	}
	return env, saved
}

func TestThreeQuickMessagesAreAnsweredInOrderAndCoalesced(t *testing.T) {
	// Messages 2 and 3 arrive while the LLM thinks about the first.
	env, saved := chattyConversation(t, 10*time.Millisecond)
	env.RegisterDelayedCallback(func() {
		// A duplicate of a message already answered changes nothing.
		env.SignalWorkflow(workflows.InboundSignal, workflows.Inbound{MessageID: 1, Channel: "web"})
	}, 5*time.Second)
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision})

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError(), "ends when idle")
	got := saved.all()
	require.Len(t, got, 2)
	assert.EqualValues(t, 1, got[0].AnswersUpTo, "first turn: the first message alone")
	assert.EqualValues(t, 3, got[1].AnswersUpTo, "second turn: 2 and 3 together")
	env.AssertActivityNumberOfCalls(t, "CallLLM", 2)
}

// Through two APIs a later message can reach the conversation first:
// message 2 is being answered when message 1 arrives. The reply to 2
// answers 1 too (its turn read 1 in the history, and saving it settles
// 1); 1 gets no reply of its own after it, which would be out of order.
// Runs of revision 1 still answer it again.
func TestAMessageOvertakenOnItsWayIsAnsweredWithTheLaterOne(t *testing.T) {
	for _, tc := range []struct {
		revision int
		want     []int64
	}{{workflows.ConversationRevision, []int64{2}}, {1, []int64{2, 1}}} {
		t.Run(fmt.Sprintf("revision-%d", tc.revision), func(t *testing.T) {
			env := newEnv(t)
			saved := &replies{}
			quietTurn(env, saved)
			env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).After(time.Second).Return(activities.CallLLMResult{Content: "ok"}, nil)
			signalAt(env, time.Millisecond, workflows.InboundSignal, workflows.Inbound{MessageID: 2, Channel: "web"})
			signalAt(env, 500*time.Millisecond, workflows.InboundSignal, workflows.Inbound{MessageID: 1, Channel: "web"})
			env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7,
				Revision: tc.revision})

			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError())
			var answered []int64
			for _, r := range saved.all() {
				answered = append(answered, r.AnswersUpTo)
			}
			assert.Equal(t, tc.want, answered)
		})
	}
}

func TestTheAgentLoopIsBounded(t *testing.T) {
	env := newEnv(t)
	saved := &replies{}
	quietTurn(env, saved)
	endlessTools(env)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeStepLimit, res.Outcome)
	assert.Equal(t, 5, res.LLMCalls)
	assert.Equal(t, 5, res.Tools)
	assert.Equal(t, workflows.ApologyStepLimit, saved.all()[0].Content)
	assert.True(t, saved.all()[0].Failed)
}

func TestRejectedLLMCallsAreNotRetried(t *testing.T) {
	env := newEnv(t)
	saved := &replies{}
	quietTurn(env, saved)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{},
		temporal.NewNonRetryableApplicationError("bad key", activities.ErrLLMRejected, nil))
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeLLMRejected, res.Outcome)
	env.AssertActivityNumberOfCalls(t, "CallLLM", 1)
	assert.Equal(t, workflows.ApologyRejected, saved.all()[0].Content)
}

func TestASpentBudgetIsAnsweredWithTheBudgetMessage(t *testing.T) {
	p := testPolicy
	p.BudgetMessage = "That is all for today."
	env := newEnvWith(t, p)
	saved := &replies{}
	quietTurn(env, saved)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{},
		temporal.NewNonRetryableApplicationError("budget", activities.ErrBudgetExceeded, nil))
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeBudgetExceeded, res.Outcome)
	env.AssertActivityNumberOfCalls(t, "CallLLM", 1)
	require.Len(t, saved.all(), 1)
	assert.Equal(t, "That is all for today.", saved.all()[0].Content)
	assert.False(t, saved.all()[0].Failed, "an answer by policy, not an apology")
}

// fallbackEnv is a worker with a fallback LLM whose primary answers with
// primaryErr; fallback answers the fallback's calls.
func fallbackEnv(t *testing.T, primaryErr error, fallback func() (activities.CallLLMResult, error)) (*testsuite.TestWorkflowEnvironment, *replies, map[string]int) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	worker.Register(env, &activities.Activities{Agents: activities.DefaultAgents(activities.AgentSettings{}), Policy: testPolicy,
		Fallback: &activities.Endpoint{Model: "backup-model"}})
	saved := &replies{}
	quietTurn(env, saved)
	calls := map[string]int{}
	var mu sync.Mutex
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CallLLMInput) (activities.CallLLMResult, error) {
			mu.Lock()
			calls[in.Endpoint]++
			mu.Unlock()
			if in.Endpoint == activities.EndpointFallback {
				return fallback()
			}
			return activities.CallLLMResult{}, primaryErr
		})
	return env, saved, calls
}

func TestTheFallbackAnswersWhenThePrimaryStaysDown(t *testing.T) {
	for name, primaryErr := range map[string]error{
		"unavailable": errors.New("503 from the LLM"),
		"rejected":    temporal.NewNonRetryableApplicationError("bad key", activities.ErrLLMRejected, nil),
	} {
		t.Run(name, func(t *testing.T) {
			env, saved, calls := fallbackEnv(t, primaryErr, func() (activities.CallLLMResult, error) {
				return activities.CallLLMResult{Content: "from the fallback", Model: "backup-model"}, nil
			})
			env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))
			var res workflows.TurnResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
			assert.True(t, res.Fallback)
			want := map[string]int{activities.EndpointPrimary: 3, activities.EndpointFallback: 1}
			if name == "rejected" {
				want[activities.EndpointPrimary] = 1 // not retried
			}
			assert.Equal(t, want, calls)
			assert.Equal(t, "from the fallback", saved.all()[0].Content)
			assert.Equal(t, "backup-model", saved.all()[0].Model, "the reply records the model that wrote it")
		})
	}
	t.Run("both down", func(t *testing.T) {
		env, saved, calls := fallbackEnv(t, errors.New("503"), func() (activities.CallLLMResult, error) {
			return activities.CallLLMResult{}, errors.New("502 from the fallback")
		})
		env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))
		var res workflows.TurnResult
		require.NoError(t, env.GetWorkflowResult(&res))
		assert.Equal(t, workflows.OutcomeLLMUnavailable, res.Outcome)
		assert.Equal(t, map[string]int{activities.EndpointPrimary: 3, activities.EndpointFallback: 3}, calls)
		assert.Equal(t, workflows.ApologyUnavailable, saved.all()[0].Content)
		assert.Empty(t, saved.all()[0].Model)
	})
	t.Run("budget spent", func(t *testing.T) {
		env, _, calls := fallbackEnv(t, temporal.NewNonRetryableApplicationError("budget", activities.ErrBudgetExceeded, nil),
			func() (activities.CallLLMResult, error) { return activities.CallLLMResult{Content: "no"}, nil })
		env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))
		var res workflows.TurnResult
		require.NoError(t, env.GetWorkflowResult(&res))
		assert.Equal(t, workflows.OutcomeBudgetExceeded, res.Outcome)
		assert.Equal(t, map[string]int{activities.EndpointPrimary: 1}, calls, "a spent budget is not the LLM's failure")
	})
}

func TestAnLLMThatStaysDownGetsTheUserAnApology(t *testing.T) {
	env := newEnv(t)
	saved := &replies{}
	quietTurn(env, saved)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{}, errors.New("503 from the LLM"))
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeLLMUnavailable, res.Outcome)
	env.AssertActivityNumberOfCalls(t, "CallLLM", 3)
	assert.Equal(t, workflows.ApologyUnavailable, saved.all()[0].Content)
	assert.EqualValues(t, 5, saved.all()[0].AnswersUpTo)
}

func TestToolResultsGoBackToTheLLM(t *testing.T) {
	env := newEnv(t)
	saved := &replies{}
	quietTurn(env, saved)
	var second activities.CallLLMInput
	env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return len(in.Steps) == 0 })).
		Return(activities.CallLLMResult{ToolCalls: []activities.ToolCall{
			{ID: "c1", Name: "get_report", Arguments: `{"report_id":1}`},
			{ID: "c2", Name: "no_such_tool", Arguments: `{}`},
		}}, nil)
	env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return len(in.Steps) == 1 })).
		Return(func(_ context.Context, in activities.CallLLMInput) (activities.CallLLMResult, error) {
			second = in
			return activities.CallLLMResult{Content: "done"}, nil
		})
	env.OnActivity(activities.ToolActivityName("get_report"), mock.Anything, mock.Anything).Return(
		activities.ToolResult{CallID: "c1", Content: `{"id":1}`}, nil)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
	require.Len(t, second.Steps, 1)
	require.Len(t, second.Steps[0].Results, 2)
	assert.Equal(t, `{"id":1}`, second.Steps[0].Results[0].Content)
	assert.True(t, second.Steps[0].Results[1].IsError, "an unknown tool is refused without an activity")
	assert.Equal(t, 1, res.Tools)
}

func TestTheConversationContinuesAsNew(t *testing.T) {
	env, saved := chattyConversation(t, 5*time.Second)
	env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7, Revision: workflows.ConversationRevision,
		Limits: workflows.ConversationLimits{TurnsBeforeContinue: 2}})

	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, env.GetWorkflowError(), &can)
	assert.Len(t, saved.all(), 2, "two turns, then a fresh run")
	var next workflows.ConversationInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	assert.EqualValues(t, 2, next.LastMessageID)
	assert.Equal(t, []workflows.Inbound{{MessageID: 3, Channel: "web"}}, next.Pending, "the waiting message is carried over")
	assert.Equal(t, 2, next.Limits.TurnsBeforeContinue)
	assert.Equal(t, workflows.ConversationRevision, next.Revision, "the next run takes the current shape")
}

// A busy conversation keeps one idle timer across its turns instead of
// one per wait, and still ends IdleTimeout after its last message; from
// revision 3, not before its episode ended, the policy's quiet window
// (30 minutes by default) after its last turn, recorded once.
func TestABusyConversationKeepsOneIdleTimer(t *testing.T) {
	for _, tc := range []struct {
		revision, timers int
		lasts            time.Duration
	}{{workflows.ConversationRevision, 2, activities.DefaultEpisodeQuiet}, {2, 2, 10 * time.Minute}, {0, 6, 10 * time.Minute}} {
		t.Run(fmt.Sprintf("revision-%d", tc.revision), func(t *testing.T) {
			env := newEnv(t)
			saved := &replies{}
			quietTurn(env, saved)
			env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).After(time.Second).Return(activities.CallLLMResult{Content: "ok"}, nil)
			start := env.Now()
			for i := range 5 {
				signalAt(env, time.Duration(i)*20*time.Second+time.Millisecond, workflows.InboundSignal,
					workflows.Inbound{MessageID: int64(i + 1), Channel: "web"})
			}
			timers := 0
			env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
			env.ExecuteWorkflow(workflows.ConversationWorkflow, workflows.ConversationInput{ConversationID: "ai:7", UserID: 7,
				Revision: tc.revision})

			require.True(t, env.IsWorkflowCompleted())
			require.NoError(t, env.GetWorkflowError(), "ends when idle")
			assert.Len(t, saved.all(), 5)
			assert.Equal(t, tc.timers, timers)
			idle := env.Now().Sub(start) - 81*time.Second // the last turn ended at 1 min 21 s
			assert.GreaterOrEqual(t, idle, tc.lasts)
			assert.Less(t, idle, tc.lasts+time.Second)
			ended := endingsOf(env).all()
			if tc.revision < 3 {
				assert.Empty(t, ended, "runs started before episodes record none")
				return
			}
			require.Len(t, ended, 1)
			assert.Equal(t, domain.EndQuiet, ended[0].Ending)
			assert.Equal(t, 5, ended[0].Turns)
			assert.EqualValues(t, 1, ended[0].FirstMessageID)
			assert.Equal(t, "ai:7:1", ended[0].Key)
			assert.WithinDuration(t, start.Add(81*time.Second+activities.DefaultEpisodeQuiet), ended[0].End, 10*time.Millisecond,
				"quiet for the window after the last turn")
		})
	}
}

// The worker's policy decides how a turn runs, whatever the conversation
// was started with: fewer LLM calls, another LLM timeout, fewer tools.
func TestTheWorkersPolicyRunsTheTurn(t *testing.T) {
	env := newEnvWith(t, activities.TurnPolicy{MaxLLMCalls: 2, LLMAttempts: 1, LLMRetryInterval: time.Second,
		LLMCallTimeout: 42 * time.Second})
	saved := &replies{}
	quietTurn(env, saved)
	var timeouts []time.Duration
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "CallLLM" {
			timeouts = append(timeouts, info.Deadline.Sub(info.StartedTime).Round(time.Second))
		}
	})
	endlessTools(env)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeStepLimit, res.Outcome)
	assert.Equal(t, 2, res.LLMCalls, "the worker's MaxLLMCalls")
	require.NotEmpty(t, timeouts)
	assert.Equal(t, 42*time.Second, timeouts[0], "CallLLM's timeout follows the worker's LLM timeout")
}

// A tool the worker's agent does not have is refused without an activity,
// even one an earlier version of the agent had.
func TestAToolTheWorkerDoesNotHaveIsRefused(t *testing.T) {
	env := newEnvWith(t, testPolicy)
	saved := &replies{}
	quietTurn(env, saved)
	env.OnActivity(a.TurnPolicy, mock.Anything, mock.Anything).Return(activities.TurnPolicy{MaxLLMCalls: 2,
		LLMAttempts: 1, LLMRetryInterval: time.Second, LLMCallTimeout: time.Minute, Tools: []string{"get_report"}}, nil)
	var second activities.CallLLMInput
	env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return len(in.Steps) == 0 })).
		Return(activities.CallLLMResult{ToolCalls: []activities.ToolCall{{ID: "c1", Name: "list_reports", Arguments: "{}"}}}, nil)
	env.OnActivity(a.CallLLM, mock.Anything, mock.MatchedBy(func(in activities.CallLLMInput) bool { return len(in.Steps) == 1 })).
		Return(func(_ context.Context, in activities.CallLLMInput) (activities.CallLLMResult, error) {
			second = in
			return activities.CallLLMResult{Content: "done"}, nil
		})
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, 0, res.Tools)
	require.Len(t, second.Steps, 1)
	assert.True(t, second.Steps[0].Results[0].IsError)
	assert.Contains(t, second.Steps[0].Results[0].Content, "no tool named")
}
