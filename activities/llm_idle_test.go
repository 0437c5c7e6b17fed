package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
)

// idleFixture is a turn whose LLM streams as resp says, asked through an
// endpoint capped at limit and cut after idle without a chunk.
func idleFixture(t *testing.T, resp fakellm.Response, limit, idle time.Duration) (*turnFixture, *fakellm.Server, activities.CallLLMInput) {
	t.Helper()
	llm := fakellm.Start(func(int, fakellm.Request) fakellm.Response { return resp })
	t.Cleanup(llm.Close)
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelWeb, "")
	f.acts.LLM = activities.NewEndpoint(llm.BaseURL(), "sk-test", "test-model", limit)
	f.acts.LLMIdleTimeout = idle
	return f, llm, activities.CallLLMInput{UserID: f.user.ID, Agent: activities.DefaultAgent, HistoryIDs: []int64{f.inbound.ID}}
}

// steady is an answer of n chunks, one every gap.
func steady(n int, gap time.Duration) fakellm.Response {
	chunks := make([]string, n)
	for i := range chunks {
		chunks[i] = "word "
	}
	return fakellm.Response{Chunks: chunks, ChunkDelay: gap}
}

// idleError says whether err is the retryable failure of a model that
// went quiet.
func idleError(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrLLMIdle && !appErr.NonRetryable()
}

// A long answer that keeps coming is read to its end: only silence cuts it.
func TestCallLLMReadsASteadyStreamLongerThanTheIdleTimeout(t *testing.T) {
	const idle = 300 * time.Millisecond
	resp := steady(12, 100*time.Millisecond) // 1.2 s in all, four idle timeouts
	f, llm, in := idleFixture(t, resp, 2*time.Second, idle)

	start := time.Now()
	var out activities.CallLLMResult
	require.NoError(t, run(t, f.acts.CallLLM, in, &out))
	assert.Greater(t, time.Since(start), 4*idle, "the answer took longer than the idle timeout")
	assert.Equal(t, strings.Repeat("word ", 12), out.Content)
	assert.Len(t, llm.Requests(), 1)
}

// A stream that goes quiet fails with the idle error soon after the idle
// timeout, long before the cap, wherever it stops: before the answer
// starts, before its first words, in the middle, before the finish.
func TestCallLLMCutsAStreamThatGoesQuiet(t *testing.T) {
	const idle, limit = 300 * time.Millisecond, 20 * time.Second
	for name, resp := range map[string]fakellm.Response{
		"no answer yet":    {Content: "late", Delay: time.Minute},
		"no words yet":     {Chunks: []string{"a", "b"}, Stall: time.Minute},
		"mid answer":       {Chunks: []string{"a", "b", "c", "d"}, ChunkDelay: 50 * time.Millisecond, StallAfter: 2, Stall: time.Minute},
		"before finishing": {Chunks: []string{"a", "b"}, StallAfter: 2, Stall: time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			f, _, in := idleFixture(t, resp, limit, idle)
			start := time.Now()
			err := run(t, f.acts.CallLLM, in, nil)
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.True(t, idleError(err), "%v", err)
			assert.Contains(t, err.Error(), "the model sent nothing for 300ms")
			assert.GreaterOrEqual(t, elapsed, idle)
			assert.Less(t, elapsed, 3*time.Second, "cut by the idle timeout, not the cap")

			var calls []domain.LLMCall
			require.NoError(t, f.db.NewSelect().Model(&calls).Scan(context.Background()))
			require.Len(t, calls, 1)
			assert.Equal(t, domain.LLMFailed, calls[0].Outcome)
		})
	}
}

// However steadily it comes, an answer is cut at the endpoint's cap
// (LLM_TIMEOUT_SECONDS), and that error is not the idle one.
func TestCallLLMCapsAWholeStream(t *testing.T) {
	const idle, limit = 300 * time.Millisecond, time.Second
	f, _, in := idleFixture(t, steady(40, 100*time.Millisecond), limit, idle) // 4 s
	start := time.Now()
	err := run(t, f.acts.CallLLM, in, nil)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.False(t, idleError(err), "%v", err)
	assert.False(t, nonRetryable(err, activities.ErrLLMRejected), "retried: %v", err)
	assert.Contains(t, err.Error(), "longer than 1s (LLM_TIMEOUT_SECONDS)")
	assert.GreaterOrEqual(t, elapsed, limit)
	assert.Less(t, elapsed, 3*time.Second)
}
