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
		assert.ElementsMatch(t, []string{"search_knowledge", "handoff_to_human", "transfer_to_billing"}, req.ToolNames(),
			"only the agent's tools")
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

// routingAgent answers as each configured agent would: General sends
// invoices to billing, billing answers; in a "ping-pong" both transfer
// to each other until they may not, then say who is left.
func routingAgent(_ int, req fakellm.Request) fakellm.Response {
	system, last := req.Messages[0].Text(), req.Last()
	var user string
	for _, m := range req.Messages {
		if m.Role == "user" {
			user = m.Text()
		}
	}
	general := strings.HasPrefix(system, "You are General")
	switch {
	case last.Role == "tool" && strings.Contains(last.Text(), "no more transfers"):
		return fakellm.Response{Content: "Stuck with " + map[bool]string{true: "general", false: "billing"}[general] + "."}
	case strings.Contains(user, "ping-pong") && general:
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("t", "transfer_to_billing", `{}`)}}
	case strings.Contains(user, "ping-pong"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("t", "transfer_to_general", `{}`)}}
	case general && strings.Contains(user, "invoice"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("t", "transfer_to_billing", `{}`)}}
	case general:
		return fakellm.Response{Content: "General here."}
	}
	return fakellm.Response{Content: "Billing here."}
}

// A message is routed from the entry agent to a specialist: the next
// request carries the specialist's instructions and tools only, the
// conversation stays with the specialist for its next turn (and shows
// it), and transfers back and forth stop at TURN_MAX_TRANSFERS.
func TestAMessageIsRoutedToASpecialistWhoKeepsTheConversation(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := newStack(t, url, routingAgent, nil)
		agents := agentsFile("You are General.")
		agents[1].Transfers = []string{"general"}
		_, err := domain.ApplyAgents(ctx, s.db, agents, s.knownTool, nil)
		require.NoError(t, err)

		user := s.User("ivan")
		q := s.ask(user, "Where is my invoice?")
		reply := s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, "Billing here.", reply["content"])
		reqs := s.llm.Requests()
		require.Len(t, reqs, 2)
		assert.ElementsMatch(t, []string{"search_knowledge", "handoff_to_human", "transfer_to_billing"}, reqs[0].ToolNames())
		assert.True(t, strings.HasPrefix(reqs[1].Messages[0].Text(), "You are the billing specialist."))
		assert.ElementsMatch(t, []string{"list_reports", "create_report", "transfer_to_general"}, reqs[1].ToolNames(),
			"the specialist's tools only")
		res := s.turnOutcome(apitest.ID(q))
		assert.Equal(t, "billing", res.Agent)
		assert.Equal(t, 1, res.Transfers)
		assert.Equal(t, []string{"local:TurnPolicy", "local:LoadHistory", "CallLLM", "local:TurnPolicy", "CallLLM",
			"local:SaveReply", "upsert:AimsgOutcome"}, s.history(workflows.TurnWorkflowID(apitest.ID(q))))
		s.saveHistories(workflows.TurnWorkflowID(apitest.ID(q)))

		// The next turn starts with billing, and everyone can see it.
		q = s.ask(user, "Thanks, and what about last month?")
		reply = s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, "Billing here.", reply["content"])
		reqs = s.llm.Requests()
		assert.True(t, strings.HasPrefix(reqs[len(reqs)-1].Messages[0].Text(), "You are the billing specialist."))
		w := s.Call("GET", "/auth/conversations", nil, user.AccessToken)
		assert.Equal(t, "billing", apitest.DecodeList(t, w)[0]["agent"])
		staff := s.agent("sue")
		w = s.Call("GET", "/support/conversations", nil, staff.AccessToken)
		assert.Equal(t, "billing", apitest.DecodeList(t, w)[0]["agent"])
		v, err := s.tc.QueryWorkflow(ctx, workflows.ConversationWorkflowID(domain.AIConversationID(user.UserID())), "", workflows.ModeQuery)
		require.NoError(t, err)
		var mode workflows.ConversationMode
		require.NoError(t, v.Get(&mode))
		assert.Equal(t, "billing", mode.Agent, "the conversation's state")
		desc, err := s.tc.DescribeWorkflow(ctx, workflows.TurnWorkflowID(apitest.ID(q)), "")
		require.NoError(t, err)
		agent, ok := desc.TypedSearchAttributes.GetKeyword(workflows.AgentKey)
		assert.True(t, ok)
		assert.Equal(t, "billing", agent)

		// Back and forth: three transfers, then whoever has it answers.
		q = s.ask(user, "ping-pong")
		reply = s.replyTo(user, apitest.ID(q), 30*time.Second)
		res = s.turnOutcome(apitest.ID(q))
		assert.Equal(t, 3, res.Transfers)
		assert.Equal(t, "Stuck with "+res.Agent+".", reply["content"])
		assert.Equal(t, "general", res.Agent, "billing, general, billing, general")
	})
}
