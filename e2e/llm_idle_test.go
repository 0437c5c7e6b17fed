package e2e_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/workflows"
)

// slowAnswer is a long answer that streams steadily: ten chunks, one every
// 250 ms, 2.5 s in all, never quiet for a second.
func slowAnswer() fakellm.Response {
	chunks := make([]string, 10)
	for i := range chunks {
		chunks[i] = "slowly "
	}
	return fakellm.Response{Chunks: chunks, ChunkDelay: 250 * time.Millisecond}
}

// idleScript answers "long" with slowAnswer, and "stall" first with a
// stream that goes quiet after two chunks, then at once.
func idleScript() fakellm.Script {
	var stalled atomic.Bool
	return func(_ int, req fakellm.Request) fakellm.Response {
		switch req.Last().Text() {
		case "long":
			return slowAnswer()
		case "stall":
			if stalled.CompareAndSwap(false, true) {
				return fakellm.Response{Chunks: []string{"I ", "was ", "cut"}, StallAfter: 2, Stall: 10 * time.Minute}
			}
			return fakellm.Response{Content: "back"}
		}
		return fakellm.Echo(0, req)
	}
}

// streamsFor counts the streamed requests whose last message was text.
func streamsFor(s *stack, text string) int {
	n := 0
	for _, r := range s.llm.Requests() {
		if r.Stream && r.Last().Text() == text {
			n++
		}
	}
	return n
}

// TestLLMStreamIsCutOnSilenceNotLength: with a one-second idle timeout
// under a five-second cap on the wait for the first chunk, an answer that streams for 2.5 s is read once
// to its end, and one that goes quiet is cut after a second and asked
// again. With the old single timeout of one second (the cap alone), the
// same long answer is cut on every attempt.
func TestLLMStreamIsCutOnSilenceNotLength(t *testing.T) {
	t.Run("idle timeout under a cap", func(t *testing.T) {
		s := newStack(t, "sqlite:///:memory:", idleScript(),
			map[string]string{"LLM_TIMEOUT_SECONDS": "5", "LLM_IDLE_TIMEOUT_SECONDS": "1"})
		u := s.User("patient")

		start := time.Now()
		q := s.ask(u, "long")
		res := s.turnOutcome(apitest.ID(q))
		assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
		assert.Greater(t, time.Since(start), 2*time.Second, "the answer streamed past the idle timeout")
		assert.Equal(t, strings.Repeat("slowly ", 10), s.lastMessage(u)["content"])
		assert.Equal(t, 1, streamsFor(s, "long"), "answered in one request, not cut and asked again")

		start = time.Now()
		q = s.ask(u, "stall")
		res = s.turnOutcome(apitest.ID(q))
		assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
		assert.Equal(t, "back", s.lastMessage(u)["content"])
		assert.Equal(t, 2, streamsFor(s, "stall"), "the quiet stream was cut and asked again")
		assert.Less(t, time.Since(start), 4*time.Second, "cut by the idle timeout, before the 5 s cap")
	})

	t.Run("the cap alone, as before", func(t *testing.T) {
		s := newStack(t, "sqlite:///:memory:", idleScript(),
			map[string]string{"LLM_STREAM_MAX_SECONDS": "1", "LLM_IDLE_TIMEOUT_SECONDS": "1"})
		u := s.User("cut")
		q := s.ask(u, "long")
		res := s.turnOutcome(apitest.ID(q))
		assert.Equal(t, workflows.OutcomeLLMUnavailable, res.Outcome)
		require.NotZero(t, s.cfg.TurnLLMAttempts)
		assert.Equal(t, s.cfg.TurnLLMAttempts, streamsFor(s, "long"), "cut at one second on every attempt")
	})
}
