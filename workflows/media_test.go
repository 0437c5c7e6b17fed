package workflows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/workflows"
)

// mediaTurn mocks a turn of message 5 whose history says which messages
// carry files still to fetch.
func mediaTurn(t *testing.T, media []int64) (*testsuite.TestWorkflowEnvironment, *replies) {
	env := newEnv(t)
	saved := &replies{}
	env.OnActivity(a.LoadHistory, mock.Anything, mock.Anything).Return(activities.History{IDs: []int64{4, 5}, Media: media}, nil)
	env.OnActivity(a.SaveReply, mock.Anything, mock.Anything).Return(saved.save)
	env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(nil)
	return env, saved
}

func TestAVoiceNoteNobodyCouldHearIsAnsweredWithoutTheLLM(t *testing.T) {
	env, saved := mediaTurn(t, []int64{5})
	var asked activities.FetchMediaInput
	env.OnActivity(a.FetchMedia, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FetchMediaInput) (activities.MediaResult, error) {
			asked = in
			return activities.MediaResult{Stored: 1, Unheard: 1}, nil
		})
	in := turnInput(5)
	in.Channel = "telegram"
	env.ExecuteWorkflow(workflows.TurnWorkflow, in)

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeVoiceUnheard, res.Outcome)
	assert.Equal(t, activities.FetchMediaInput{Messages: []int64{5}, Turn: []int64{5}}, asked)
	require.Len(t, saved.all(), 1)
	assert.Equal(t, workflows.VoiceNoteUnheard, saved.all()[0].Content)
	assert.True(t, saved.all()[0].Failed, "the turn could not really answer")
	env.AssertActivityNumberOfCalls(t, "CallLLM", 0)
	env.AssertActivityNumberOfCalls(t, "Deliver", 1)
}

func TestMediaPastItsRetriesIsSettledAndTheTurnAnswersTheRest(t *testing.T) {
	env, saved := mediaTurn(t, []int64{5})
	env.OnActivity(a.FetchMedia, mock.Anything, mock.Anything).Return(activities.MediaResult{}, errors.New("twilio down"))
	env.OnActivity(a.SettleMedia, mock.Anything, mock.Anything).Return(
		activities.MediaResult{Failed: 1, Unheard: 1, Answerable: true}, nil)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "ok"}, nil)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	var res workflows.TurnResult
	require.NoError(t, env.GetWorkflowResult(&res))
	assert.Equal(t, workflows.OutcomeReplied, res.Outcome, "the turn had text besides the voice note")
	env.AssertActivityNumberOfCalls(t, "FetchMedia", 3)
	env.AssertActivityNumberOfCalls(t, "SettleMedia", 1)
	require.Len(t, saved.all(), 1)
	assert.Equal(t, "ok", saved.all()[0].Content)
}

func TestATurnWithoutFilesFetchesNothing(t *testing.T) {
	env, saved := mediaTurn(t, nil)
	env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "ok"}, nil)
	env.ExecuteWorkflow(workflows.TurnWorkflow, turnInput(5))

	require.NoError(t, env.GetWorkflowError())
	env.AssertActivityNumberOfCalls(t, "FetchMedia", 0)
	require.Len(t, saved.all(), 1)
}
