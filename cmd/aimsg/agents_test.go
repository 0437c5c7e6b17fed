package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// agentsYAML is a file of two agents: a general entry agent that hands
// billing questions to a billing agent.
const agentsYAML = `agents:
  - name: general
    description: General help
    instructions: |
      You answer questions about the service.
      Hand billing questions to the billing agent.
    tools:
      - name: search_knowledge
      - name: handoff_to_human
    transfers: [billing]
    entry: true
  - name: billing
    description: Invoices and refunds
    instructions: You answer billing questions.
    model: openai/gpt-4o
    tools:
      - name: list_reports
      - name: create_report
        approval: required
`

func TestAgentsCommands(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		env := testEnv(t, url, nil)
		require.NoError(t, runWith(ctx, env, &output{}, "migrate", "up"))
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"agents.yaml": agentsYAML})
		file := filepath.Join(dir, "agents.yaml")

		var out output
		require.NoError(t, runWith(ctx, env, &out, "agents", "list"))
		assert.Equal(t, "no agents: the built-in assistant answers\n", out.String())

		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "agents", "apply", file))
		assert.Regexp(t, `(?m)^created +general +revision 1\ncreated +billing +revision 1\n2 created, 0 updated, 0 unchanged\n$`, out.String())
		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "agents", "apply", file))
		assert.Contains(t, out.String(), "0 created, 0 updated, 2 unchanged\n", "the same file changes nothing")

		// A changed agent gets a new revision; one the file leaves out stays.
		writeFiles(t, dir, map[string]string{"billing.yaml": `agents:
  - name: billing
    description: Invoices, refunds and payments
    instructions: You answer billing questions.
    tools: [{name: list_reports}]
`})
		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "agents", "apply", filepath.Join(dir, "billing.yaml")))
		assert.Regexp(t, `(?m)^updated +billing +revision 2\n0 created, 1 updated, 0 unchanged\n$`, out.String())

		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "agents", "list"))
		assert.Regexp(t, `(?m)^NAME +REVISION +ENTRY +MODEL +TOOLS +TRANSFERS\n`+
			`billing +2 +no +\(LITELLM_MODEL\) +list_reports +-\n`+
			`general +1 +yes +\(LITELLM_MODEL\) +search_knowledge,handoff_to_human +billing\n$`, out.String())

		// show prints the definition as a file holds it, with its revision.
		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "agents", "show", "general"))
		assert.Contains(t, out.String(), "revision: 1\n")
		assert.Contains(t, out.String(), "instructions: |-\n  You answer questions about the service.\n")
		var shown shownAgent
		require.NoError(t, yaml.Unmarshal([]byte(out.String()), &shown))
		assert.Equal(t, domain.AgentSpec{Name: "general", Description: "General help",
			Instructions: "You answer questions about the service.\nHand billing questions to the billing agent.",
			Tools:        domain.AgentTools{{Name: "search_knowledge"}, {Name: "handoff_to_human"}},
			Transfers:    []string{"billing"}, Entry: true}, shown.AgentSpec)
		assert.EqualValues(t, 1, shown.Revision)
		require.ErrorContains(t, runWith(ctx, env, &output{}, "agents", "show", "nobody"), `no agent "nobody"`)

		// A file that is not right is refused whole, saying why.
		before := agentState(t, env)
		for name, tc := range map[string]struct{ file, says string }{
			"misspelt field": {"agents:\n  - name: billing\n    instructions: x\n    tool: [{name: list_reports}]\n",
				"field tool not found"},
			"unknown tool": {"agents:\n  - name: billing\n    instructions: x\n    tools: [{name: launch_rockets}]\n",
				`agent billing: unknown tool "launch_rockets"`},
			"unknown transfer target": {"agents:\n  - name: billing\n    instructions: x\n    transfers: [refunds]\n",
				`agent billing: unknown transfer target "refunds"`},
			"two entry agents": {"agents:\n  - name: billing\n    instructions: x\n    entry: true\n",
				"more than one entry agent: billing, general"},
			"bad name":      {"agents:\n  - name: Billing Team\n    instructions: x\n", `agent name "Billing Team" must be`},
			"twice":         {"agents:\n  - {name: billing, instructions: x}\n  - {name: billing, instructions: y}\n", "agent billing is defined twice"},
			"no agents key": {"- name: billing\n  instructions: x\n", "cannot unmarshal"},
			"no agents":     {"agents: []\n", "defines no agents"},
			"empty":         {"", "is empty"},
			"not YAML":      {"agents: [\n", "did not find expected"},
		} {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			writeFiles(t, dir, map[string]string{filepath.Base(path): tc.file})
			out := output{}
			err := runWith(ctx, env, &out, "agents", "apply", path)
			require.Error(t, err, name)
			assert.Contains(t, err.Error(), tc.says, name)
			assert.Contains(t, err.Error(), path, "%s: the error names the file", name)
			assert.Empty(t, out.String(), name)
		}
		require.ErrorContains(t, runWith(ctx, env, &output{}, "agents", "apply", filepath.Join(dir, "missing.yaml")), "no such file")
		assert.Equal(t, before, agentState(t, env), "refused files change nothing")
	})
}

// agentState is each agent's revision, by name.
func agentState(t *testing.T, env map[string]string) map[string]int64 {
	t.Helper()
	db := testenv.Open(t, env["DATABASE_URL"])
	agents, err := domain.ListAgents(context.Background(), db)
	require.NoError(t, err)
	out := map[string]int64{}
	for _, a := range agents {
		out[a.Name] = a.Revision
	}
	return out
}

// AGENTS_FILE is applied as serve starts, and logged; a file that cannot
// be applied stops the start, naming the problem.
func TestAgentsFileAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"agents.yaml": agentsYAML,
		"bad.yaml": "agents:\n  - name: general\n    instructions: x\n    tools: [{name: launch_rockets}]\n    entry: true\n"})

	t.Run("applied", func(t *testing.T) {
		testenv.EachDatabase(t, func(t *testing.T, url string) {
			db := testenv.Migrated(t, url)
			var logged bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logged, nil))
			require.NoError(t, applyAgentsFile(ctx, config.Config{}, db, log), "no AGENTS_FILE: nothing to do")
			assert.Empty(t, logged.String())

			cfg := config.Config{AgentsFile: filepath.Join(dir, "agents.yaml"), KnowledgeLanguage: "english"}
			require.NoError(t, applyAgentsFile(ctx, cfg, db, log))
			assert.Contains(t, logged.String(), `msg="agent created" agent=general revision=1`)
			assert.Contains(t, logged.String(), `msg="agent created" agent=billing revision=1`)
			assert.Contains(t, logged.String(), `msg="agents file applied"`)
			entry, err := domain.EntryAgent(ctx, db)
			require.NoError(t, err)
			assert.Equal(t, "general", entry.Name)

			// Again, at the next start: nothing changes.
			logged.Reset()
			require.NoError(t, applyAgentsFile(ctx, cfg, db, log))
			assert.NotContains(t, logged.String(), "agent created")
			assert.Contains(t, logged.String(), "agents=2 changed=0")

			cfg.AgentsFile = filepath.Join(dir, "bad.yaml")
			require.ErrorContains(t, applyAgentsFile(ctx, cfg, db, log), `unknown tool "launch_rockets"`)
		})
	})

	t.Run("by serve", func(t *testing.T) {
		env := testEnv(t, "sqlite:///:memory:", map[string]string{"SECRET_KEY": testSecret,
			"AGENTS_FILE": filepath.Join(dir, "bad.yaml")})
		var out output
		require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
		err := runWith(ctx, env, &out, "serve")
		require.ErrorContains(t, err, "AGENTS_FILE: apply "+filepath.Join(dir, "bad.yaml")+`: agent general: unknown tool "launch_rockets"`)
		env["AGENTS_FILE"] = filepath.Join(dir, "missing.yaml")
		require.ErrorContains(t, runWith(ctx, env, &out, "serve"), "AGENTS_FILE: read the agents file")
		assert.Empty(t, agentState(t, env))

		env["AGENTS_FILE"] = filepath.Join(dir, "agents.yaml")
		_, stop := startCmd(t, env, &out, "serve")
		require.NoError(t, stop())
		assert.Contains(t, out.String(), `"msg":"agent created","agent":"general","revision":1`)
		assert.Equal(t, map[string]int64{"general": 1, "billing": 1}, agentState(t, env))
	})
}
