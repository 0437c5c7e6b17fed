package workflows_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

// llmScript answers the turn's LLM calls in order, the last one again
// when it runs out.
func llmScript(env *testsuite.TestWorkflowEnvironment, answers ...activities.CallLLMResult) *int {
	calls := 0
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.CallLLMInput) (activities.CallLLMResult, error) {
			calls++
			return answers[min(calls, len(answers))-1], nil
		})
	return &calls
}

// searchCall is the LLM asking search_knowledge.
func searchCall(id string) activities.CallLLMResult {
	return activities.CallLLMResult{ToolCalls: []activities.ToolCall{{ID: id, Name: activities.SearchKnowledgeTool,
		Arguments: `{"query":"locker"}`}}}
}

// fakeSearch answers every search with two passages numbered from the
// call's FirstSource, as RunTool does, and records the numbers asked.
func fakeSearch(env *testsuite.TestWorkflowEnvironment) *[]int {
	var firsts []int
	env.OnActivity(activities.ToolActivityName(activities.SearchKnowledgeTool), mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RunToolInput) (activities.ToolResult, error) {
			firsts = append(firsts, in.FirstSource)
			n := in.FirstSource
			return activities.ToolResult{CallID: in.Call.ID, Content: "[n] passages", Sources: []domain.Citation{
				{N: n, ArticleID: int64(100 + n), Title: "Lockers"}, {N: n + 1, ArticleID: int64(100 + n + 1), Title: "Returns"}}}, nil
		})
	return &firsts
}

// The passages of a turn are numbered across its searches, and the reply
// keeps the sources it cites, not every passage it was shown.
func TestARepliesCitationsAreTheSourcesItNames(t *testing.T) {
	env := newEnv(t)
	saved := &replies{}
	quietTurn(env, saved)
	firsts := fakeSearch(env)
	llmScript(env, searchCall("s1"), searchCall("s2"), activities.CallLLMResult{Content: "72 hours [1], returns [4], and [9]."})
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
	assert.Equal(t, []int{1, 3}, *firsts, "the second search numbers on from the first")
	require.Len(t, saved.all(), 1)
	got := saved.all()[0].Citations
	require.Len(t, got, 2, "[9] was never shown")
	assert.Equal(t, []int64{101, 104}, []int64{got[0].ArticleID, got[1].ArticleID})
}

// With KNOWLEDGE_REQUIRED, an answer that cites nothing is replaced by the
// no-answer message, or hands off; a cited one, or one standing on
// another tool's result, is kept; without it nothing changes.
func TestRequiredKnowledgeKeepsOnlyCitedAnswers(t *testing.T) {
	required := testPolicy
	required.KnowledgeRequired, required.NoAnswerMessage = true, "Not in our help articles."
	required.HandoffMessage = "A person will answer."
	handoff := required
	handoff.NoAnswerHandoff = true
	reports := activities.CallLLMResult{ToolCalls: []activities.ToolCall{{ID: "r", Name: "list_reports", Arguments: "{}"}}}
	for name, tc := range map[string]struct {
		policy  activities.TurnPolicy
		answers []activities.CallLLMResult
		reply   string
		outcome workflows.Outcome
		handoff string
	}{
		"cited":               {required, []activities.CallLLMResult{searchCall("s"), {Content: "72 hours [2]."}}, "72 hours [2].", workflows.OutcomeReplied, ""},
		"uncited":             {required, []activities.CallLLMResult{searchCall("s"), {Content: "Probably a week."}}, "Not in our help articles.", workflows.OutcomeNoAnswer, ""},
		"no search at all":    {required, []activities.CallLLMResult{{Content: "From memory."}}, "Not in our help articles.", workflows.OutcomeNoAnswer, ""},
		"a made-up number":    {required, []activities.CallLLMResult{searchCall("s"), {Content: "See [7]."}}, "Not in our help articles.", workflows.OutcomeNoAnswer, ""},
		"handoff":             {handoff, []activities.CallLLMResult{searchCall("s"), {Content: "No idea."}}, "A person will answer.", workflows.OutcomeNoAnswer, workflows.HandoffReasonNoAnswer},
		"another tool's data": {required, []activities.CallLLMResult{reports, {Content: "You have no reports."}}, "You have no reports.", workflows.OutcomeReplied, ""},
		"not required":        {testPolicy, []activities.CallLLMResult{{Content: "From memory."}}, "From memory.", workflows.OutcomeReplied, ""},
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnvWith(t, tc.policy)
			saved := &replies{}
			quietTurn(env, saved)
			fakeSearch(env)
			env.OnActivity(activities.ToolActivityName("list_reports"), mock.Anything, mock.Anything).Return(
				activities.ToolResult{CallID: "r", Content: "[]"}, nil)
			llmScript(env, tc.answers...)
			env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

			var res workflows.TurnResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, tc.outcome, res.Outcome)
			assert.Equal(t, tc.handoff, res.Handoff)
			require.Len(t, saved.all(), 1)
			assert.Equal(t, tc.reply, saved.all()[0].Content)
			assert.False(t, saved.all()[0].Failed, "an honest no-answer is not a failure")
			if tc.outcome == workflows.OutcomeNoAnswer {
				assert.Empty(t, saved.all()[0].Citations)
			}
		})
	}
}

// An empty answer is never saved: the LLM is asked once more, and a
// second empty answer gets the apology.
func TestAnEmptyAnswerIsAskedAgainThenApologisedFor(t *testing.T) {
	for name, tc := range map[string]struct {
		answers []activities.CallLLMResult
		reply   string
		outcome workflows.Outcome
		calls   int
	}{
		"then an answer": {[]activities.CallLLMResult{{Content: " \n"}, {Content: "Hello!"}}, "Hello!", workflows.OutcomeReplied, 2},
		"twice empty":    {[]activities.CallLLMResult{{Content: ""}, {Content: ""}, {Content: "never asked"}}, workflows.ApologyEmpty, workflows.OutcomeEmptyAnswer, 2},
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t)
			saved := &replies{}
			quietTurn(env, saved)
			calls := llmScript(env, tc.answers...)
			env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

			var res workflows.TurnResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, tc.outcome, res.Outcome)
			assert.Equal(t, tc.calls, *calls)
			require.Len(t, saved.all(), 1)
			assert.Equal(t, tc.reply, saved.all()[0].Content)
			assert.Equal(t, tc.outcome != workflows.OutcomeReplied, saved.all()[0].Failed)
		})
	}
}
