package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/uptrace/bun"
	"go.yaml.in/yaml/v3"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
)

// Agents from the command line: list them, show one, apply a file of
// them. A file, here or as AGENTS_FILE when serve and dev start, creates
// and updates agents by name and never deletes one (the API does).

func newAgentsCmd(p *program) *cobra.Command {
	list := &cobra.Command{
		Use:   "list",
		Short: "The agents, by name, with their revision, tools and transfers",
		Args:  positional(cobra.NoArgs),
		RunE:  p.needs(config.NoTokens, agentsList),
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "An agent's definition as YAML, with its revision",
		Args:  positional(cobra.ExactArgs(1)),
		RunE:  p.needs(config.NoTokens, agentsShow),
	}
	apply := &cobra.Command{
		Use:   "apply FILE",
		Short: "Create or update the agents of a YAML file",
		Long: `Create or update the agents of FILE, a YAML file with a top-level agents:
list of definitions (see docs/agents.md), in one transaction: either every
agent is applied or none. Agents are matched by name; one the file leaves
out stays. It prints what became of each: created, updated or unchanged,
with its revision.`,
		Args: positional(cobra.ExactArgs(1)),
		RunE: p.needs(config.NoTokens, agentsApply),
	}
	return group(&cobra.Command{
		Use:     "agents",
		Short:   "List, show and apply the agents that answer",
		GroupID: groupAdmin,
	}, list, show, apply)
}

// agentsFile is a file of agents: a top-level agents: list.
type agentsFile struct {
	Agents []domain.AgentSpec `yaml:"agents"`
}

// readAgentsFile reads a file of agents strictly: a misspelt field is an
// error, not a setting silently left out.
func readAgentsFile(path string) ([]domain.AgentSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the agents file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f agentsFile
	switch err := dec.Decode(&f); {
	case errors.Is(err, io.EOF):
		return nil, fmt.Errorf("%s is empty: expected a top-level agents: list", path)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: one YAML document expected, with a top-level agents: list", path)
	}
	if len(f.Agents) == 0 {
		return nil, fmt.Errorf("%s defines no agents: expected a top-level agents: list", path)
	}
	return f.Agents, nil
}

// knownTools are the tool names an agent may list: the worker's built-in
// tools, as this configuration builds them.
func knownTools(cfg config.Config) domain.ToolKnown {
	return activities.KnownTools(activities.DefaultAgents(activities.AgentSettings{KnowledgeLanguage: cfg.KnowledgeLanguage}), cfg.MCPServers)
}

// applyAgentsFile applies cfg's AGENTS_FILE, if any, and logs what
// changed. serve and dev call it as they start: a file that cannot be
// read or applied stops the start rather than leave agents unlike it.
func applyAgentsFile(ctx context.Context, cfg config.Config, db bun.IDB, log *slog.Logger) error {
	if cfg.AgentsFile == "" {
		return nil
	}
	specs, err := readAgentsFile(cfg.AgentsFile)
	if err != nil {
		return fmt.Errorf("AGENTS_FILE: %w", err)
	}
	changes, err := domain.ApplyAgents(ctx, db, specs, knownTools(cfg), nil)
	if err != nil {
		return fmt.Errorf("AGENTS_FILE: apply %s: %w", cfg.AgentsFile, err)
	}
	changed := 0
	for _, c := range changes {
		if c.Change == "unchanged" {
			continue
		}
		changed++
		log.Info("agent "+c.Change, "agent", c.Name, "revision", c.Revision, "file", cfg.AgentsFile)
	}
	log.Info("agents file applied", "file", cfg.AgentsFile, "agents", len(changes), "changed", changed)
	return nil
}

// agentsApply applies a file of agents and prints what became of each.
func agentsApply(ctx context.Context, e *env, args []string) error {
	specs, err := readAgentsFile(args[0])
	if err != nil {
		return err
	}
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	changes, err := domain.ApplyAgents(ctx, db, specs, knownTools(cfg), nil)
	if err != nil {
		return fmt.Errorf("apply %s: %w", args[0], err)
	}
	counts := map[string]int{}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, c := range changes {
		counts[c.Change]++
		fmt.Fprintf(w, "%s\t%s\trevision %d\n", c.Change, c.Name, c.Revision)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%d created, %d updated, %d unchanged\n", counts["created"], counts["updated"], counts["unchanged"])
	return err
}

// agentsList prints a line per agent.
func agentsList(ctx context.Context, e *env, _ []string) error {
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	agents, err := domain.ListAgents(ctx, db)
	if err != nil {
		return err
	}
	if len(agents) == 0 {
		_, err := fmt.Fprintln(e.stdout, "no agents: the built-in assistant answers")
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tREVISION\tENTRY\tMODEL\tTOOLS\tTRANSFERS")
	for _, a := range agents {
		model := a.Model
		if model == "" {
			model = "(LITELLM_MODEL)"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", a.Name, a.Revision, yesNo(a.Entry), model,
			orDash(strings.Join(a.Tools.Names(), ",")), orDash(strings.Join(a.Transfers, ",")))
	}
	return w.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shownAgent is what show prints: the definition, as a file holds it,
// and its revision.
type shownAgent struct {
	domain.AgentSpec `yaml:",inline"`
	Revision         int64 `yaml:"revision"`
}

// agentsShow prints an agent's definition as YAML.
func agentsShow(ctx context.Context, e *env, args []string) error {
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := domain.AgentByName(ctx, db, args[0])
	if errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("no agent %q", args[0])
	}
	if err != nil {
		return err
	}
	enc := yaml.NewEncoder(e.stdout)
	enc.SetIndent(2)
	if err := enc.Encode(shownAgent{AgentSpec: a.AgentSpec, Revision: a.Revision}); err != nil {
		return err
	}
	return enc.Close()
}
