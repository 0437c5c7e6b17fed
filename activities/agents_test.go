package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
)

// The policy step resolves the agent a turn runs: the one asked for, the
// entry agent for the built-in name or one deleted since, with its
// transfers and approvals; with every agent deleted, the built-in one.
func TestTurnPolicyResolvesTheConfiguredAgent(t *testing.T) {
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelWeb, "")
	ctx := context.Background()
	known := activities.DefaultAgents(activities.AgentSettings{}).KnownTool
	_, err := domain.ApplyAgents(ctx, f.db, []domain.AgentSpec{
		{Name: "general", Instructions: "x", Entry: true, Tools: domain.AgentTools{{Name: "search_knowledge"}}, Transfers: []string{"billing"}},
		{Name: "billing", Instructions: "y", Tools: domain.AgentTools{{Name: "create_report", Approval: domain.ApprovalRequired}, {Name: "list_reports"}}},
	}, known, nil)
	require.NoError(t, err)

	policy := func(agent string) activities.TurnPolicy {
		var p activities.TurnPolicy
		require.NoError(t, run(t, f.acts.TurnPolicy, agent, &p))
		return p
	}
	p := policy(activities.DefaultAgent)
	assert.Equal(t, "general", p.Agent, "the built-in name asks for the entry agent")
	assert.EqualValues(t, 1, p.AgentRevision)
	assert.ElementsMatch(t, []string{"search_knowledge", "transfer_to_billing"}, p.Tools)
	p = policy("billing")
	assert.ElementsMatch(t, []string{"create_report", "list_reports"}, p.Tools)
	assert.Equal(t, []string{"create_report"}, p.Approvals)

	_, err = domain.ReplaceAgent(ctx, f.db, domain.AgentSpec{Name: "general", Instructions: "x", Entry: true}, known, nil)
	require.NoError(t, err)
	require.NoError(t, domain.DeleteAgent(ctx, f.db, "billing"))
	p = policy("billing")
	assert.Equal(t, "general", p.Agent, "a deleted agent's conversation goes to the entry agent")
	assert.EqualValues(t, 2, p.AgentRevision)

	require.NoError(t, domain.DeleteAgent(ctx, f.db, "general"))
	p = policy("general")
	assert.Empty(t, p.Agent, "none configured: the built-in agent")
	assert.Contains(t, p.Tools, "list_reports")
}
