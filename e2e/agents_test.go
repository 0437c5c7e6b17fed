package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// agentsFile is a team's agents: a general entry agent on its own model
// with the knowledge base, and a billing specialist with the report tools.
func agentsFile(general string) []domain.AgentSpec {
	return []domain.AgentSpec{
		{Name: "general", Description: "General help", Instructions: general, Model: "general-model",
			Tools: domain.AgentTools{{Name: "search_knowledge"}, {Name: "handoff_to_human"}}, Transfers: []string{"billing"}, Entry: true},
		{Name: "billing", Description: "Invoices and refunds", Instructions: "You are the billing specialist.",
			Tools: domain.AgentTools{{Name: "list_reports"}, {Name: "create_report"}}},
	}
}

// With agents configured, a turn runs the entry agent: its instructions,
// its model and only its tools reach the LLM, its calls are counted under
// its name, and a change to it reaches the next turn while the running one
// finishes with the revision it started with.
func TestATurnRunsTheConfiguredEntryAgent(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var s *stack
		edited := make(chan error, 1)
		script := func(n int, req fakellm.Request) fakellm.Response {
			if strings.Contains(req.Last().Text(), "look it up") && req.Last().Role == "user" {
				// A new revision lands while the turn is between calls.
				_, err := domain.ApplyAgents(ctx, s.db, agentsFile("You are General, second edition."), s.knownTool, nil)
				edited <- err
				return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("k1", "search_knowledge", `{"query":"lockers"}`)}}
			}
			return fakellm.Response{Content: "ok"}
		}
		s = newStack(t, url, script, nil)
		_, err := domain.ApplyAgents(ctx, s.db, agentsFile("You are General."), s.knownTool, nil)
		require.NoError(t, err)

		user := s.User("gwen")
		q := s.ask(user, "hello")
		s.replyTo(user, apitest.ID(q), 30*time.Second)
		req := s.llm.Requests()[0]
		assert.True(t, strings.HasPrefix(req.Messages[0].Text(), "You are General."), req.Messages[0].Text())
		assert.Equal(t, "general-model", req.Model)
		assert.ElementsMatch(t, []string{"search_knowledge", "handoff_to_human"}, req.ToolNames(), "only the agent's tools")
		var call domain.LLMCall
		require.NoError(t, s.db.NewSelect().Model(&call).Where("purpose = ?", domain.PurposeReply).Limit(1).Scan(ctx))
		assert.Equal(t, "general", call.Agent)

		q = s.ask(user, "please look it up")
		s.replyTo(user, apitest.ID(q), 30*time.Second)
		require.NoError(t, <-edited)
		reqs := s.llm.Requests()
		require.Len(t, reqs, 3)
		assert.True(t, strings.HasPrefix(reqs[2].Messages[0].Text(), "You are General."),
			"the turn's second call runs the revision it started with: %s", reqs[2].Messages[0].Text())
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)

		q = s.ask(user, "and now?")
		s.replyTo(user, apitest.ID(q), 30*time.Second)
		reqs = s.llm.Requests()
		assert.True(t, strings.HasPrefix(reqs[len(reqs)-1].Messages[0].Text(), "You are General, second edition."),
			"the next turn runs the new revision")

		// Without agents, the built-in assistant answers as before.
		alone := agentsFile("You are General.")[0]
		alone.Transfers = nil
		_, err = domain.ReplaceAgent(ctx, s.db, alone, s.knownTool, nil)
		require.NoError(t, err)
		require.NoError(t, domain.DeleteAgent(ctx, s.db, "billing"))
		require.NoError(t, domain.DeleteAgent(ctx, s.db, "general"))
		q = s.ask(user, "still there?")
		s.replyTo(user, apitest.ID(q), 30*time.Second)
		reqs = s.llm.Requests()
		last := reqs[len(reqs)-1]
		assert.Contains(t, last.Messages[0].Text(), "You can help with reports")
		assert.Contains(t, last.ToolNames(), "list_reports")
	})
}

// knownTool is what agents may list on the stack's worker.
func (s *stack) knownTool(name string) bool {
	return activities.DefaultAgents(activities.AgentSettings{}).KnownTool(name)
}
