package domain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// knownTools are the tools these tests' agents may list.
func knownTools(name string) bool {
	return name == "list_reports" || name == "search_knowledge" || name == "handoff_to_human" || name == "billing.refund"
}

func spec(name string, entry bool, transfers ...string) domain.AgentSpec {
	return domain.AgentSpec{Name: name, Description: name + " help", Instructions: "You help with " + name + ".",
		Tools: domain.AgentTools{{Name: "search_knowledge"}}, Transfers: transfers, Entry: entry}
}

// Agents are applied by name in one transaction, never deleted by a file
// that leaves one out, checked as a whole, and every change is a revision
// a running turn can still read.
func TestAgentsAreConfigurationWithRevisions(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		_, err := domain.EntryAgent(ctx, db)
		assert.ErrorIs(t, err, domain.ErrNotFound, "none defined: the built-in assistant answers")

		billing := spec("billing", false)
		billing.Tools = append(billing.Tools, domain.AgentTool{Name: "billing.refund", Approval: domain.ApprovalRequired})
		changes, err := domain.ApplyAgents(ctx, db, []domain.AgentSpec{spec("general", true, "billing"), billing}, knownTools, nil)
		require.NoError(t, err)
		assert.Equal(t, []domain.AgentChange{{Name: "general", Change: "created", Revision: 1}, {Name: "billing", Change: "created", Revision: 1}}, changes)
		entry, err := domain.EntryAgent(ctx, db)
		require.NoError(t, err)
		assert.Equal(t, "general", entry.Name)
		got, err := domain.AgentByName(ctx, db, "billing")
		require.NoError(t, err)
		assert.Equal(t, billing.Tools, got.Tools)

		// Applying the same file again changes nothing; an edit is revision 2.
		changes, err = domain.ApplyAgents(ctx, db, []domain.AgentSpec{billing}, knownTools, nil)
		require.NoError(t, err)
		assert.Equal(t, "unchanged", changes[0].Change)
		billing.Instructions = "You help with invoices and refunds."
		changes, err = domain.ApplyAgents(ctx, db, []domain.AgentSpec{billing}, knownTools, nil)
		require.NoError(t, err)
		assert.Equal(t, domain.AgentChange{Name: "billing", Change: "updated", Revision: 2}, changes[0])
		old, err := domain.AgentAt(ctx, db, "billing", 1)
		require.NoError(t, err)
		assert.Equal(t, "You help with billing.", old.Instructions, "revision 1 is kept for the turns that run it")
		list, err := domain.ListAgents(ctx, db)
		require.NoError(t, err)
		assert.Len(t, list, 2, "a file without general did not delete it")

		// Bad definitions are refused whole.
		for name, specs := range map[string][]domain.AgentSpec{
			"unknown tool":     {{Name: "orders", Instructions: "x", Tools: domain.AgentTools{{Name: "drop_tables"}}}},
			"unknown transfer": {spec("orders", false, "shipping")},
			"two entries":      {spec("orders", true)},
			"bad name":         {spec("Orders!", false)},
			"no instructions":  {{Name: "orders"}},
			"twice":            {spec("orders", false), spec("orders", false)},
			"self transfer":    {spec("orders", false, "orders")},
			"bad approval":     {{Name: "orders", Instructions: "x", Tools: domain.AgentTools{{Name: "list_reports", Approval: "maybe"}}}},
			"transfer as tool": {{Name: "orders", Instructions: "x", Tools: domain.AgentTools{{Name: "transfer_to_billing"}}}},
		} {
			_, err := domain.ApplyAgents(ctx, db, specs, knownTools, nil)
			assert.ErrorIs(t, err, domain.ErrInvalid, name)
		}
		_, err = domain.ApplyAgents(ctx, db, []domain.AgentSpec{spec("orders", false), spec("general", false)}, knownTools, nil)
		assert.ErrorIs(t, err, domain.ErrInvalid, "no entry agent left")
		list, err = domain.ListAgents(ctx, db)
		require.NoError(t, err)
		assert.Len(t, list, 2, "nothing partly saved")

		_, err = domain.CreateAgent(ctx, db, spec("billing", false), knownTools, nil)
		assert.ErrorIs(t, err, domain.ErrConflict)
		_, err = domain.ReplaceAgent(ctx, db, spec("orders", false), knownTools, nil)
		assert.ErrorIs(t, err, domain.ErrNotFound)

		// Deleting what others depend on is a conflict; a deleted name
		// goes on from its last revision when it comes back.
		assert.ErrorIs(t, domain.DeleteAgent(ctx, db, "billing"), domain.ErrConflict, "general transfers to it")
		assert.ErrorIs(t, domain.DeleteAgent(ctx, db, "general"), domain.ErrConflict, "the entry agent, with billing left")
		_, err = domain.ReplaceAgent(ctx, db, spec("general", true), knownTools, nil)
		require.NoError(t, err)
		require.NoError(t, domain.DeleteAgent(ctx, db, "billing"))
		assert.ErrorIs(t, domain.DeleteAgent(ctx, db, "billing"), domain.ErrNotFound)
		back, err := domain.CreateAgent(ctx, db, spec("billing", false), knownTools, nil)
		require.NoError(t, err)
		assert.EqualValues(t, 3, back.Revision)
		require.NoError(t, domain.DeleteAgent(ctx, db, "billing"))
		require.NoError(t, domain.DeleteAgent(ctx, db, "general"), "the last agent may go: the built-in one answers")
	})
}
