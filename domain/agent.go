package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Agents are configuration: the assistants a team defines (a billing
// specialist, an orders one, general help), each with its instructions,
// its model and the tools it may use, and the one that answers first.
// With none defined, the worker's built-in assistant answers, as before.
// Every change makes a new revision, kept, so a turn that started with an
// agent finishes with the same definition.

// Agent is an agent as it stands now.
type Agent struct {
	bun.BaseModel `bun:"table:agents,alias:ag"`

	ID int64 `bun:"id,pk,autoincrement" json:"-"`
	AgentSpec
	// Revision counts the agent's changes, from 1; the turns it answers
	// name the revision they run.
	Revision  int64  `bun:"revision,notnull" json:"revision"`
	UpdatedBy *int64 `bun:"updated_by" json:"updated_by"`
	Timestamps
}

// AgentSpec is what defines an agent: what a file, the API and a
// revision hold.
type AgentSpec struct {
	// Name is a slug: lower-case letters, digits and '_', starting with
	// a letter; "transfer_to_<name>" is how other agents reach it.
	Name        string `bun:"name,type:varchar(48),notnull,unique" json:"name" yaml:"name"`
	Description string `bun:"description,type:varchar(500),notnull" json:"description" yaml:"description"`
	// Instructions are the agent's system prompt.
	Instructions string `bun:"instructions,type:text,notnull" json:"instructions" yaml:"instructions"`
	// Model is the LLM model it asks; empty: LITELLM_MODEL.
	Model string `bun:"model,type:varchar(255),notnull" json:"model" yaml:"model,omitempty"`
	// Tools are the tools it may call, by name.
	Tools AgentTools `bun:"tools,type:text,notnull" json:"tools" yaml:"tools"`
	// Transfers are the agents it may hand the turn to.
	Transfers []string `bun:"transfers,type:text,notnull" json:"transfers" yaml:"transfers,omitempty"`
	// Entry marks the agent that answers a conversation first: exactly
	// one has it.
	Entry bool `bun:"is_entry,notnull" json:"entry" yaml:"entry,omitempty"`
}

// AgentTool is a tool an agent may call.
type AgentTool struct {
	Name string `json:"name" yaml:"name"`
	// Approval "required" makes a person approve each call before it runs.
	Approval string `json:"approval,omitempty" yaml:"approval,omitempty"`
}

// AgentTools are an agent's tools.
type AgentTools []AgentTool

// Names lists the tools' names.
func (ts AgentTools) Names() []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}

// ApprovalRequired is the approval a tool's call waits for.
const ApprovalRequired = "required"

// AgentRevision is one definition an agent had, kept for the turns that
// run it.
type AgentRevision struct {
	bun.BaseModel `bun:"table:agent_revisions,alias:ar"`

	ID       int64     `bun:"id,pk,autoincrement" json:"-"`
	Name     string    `bun:"name,type:varchar(48),notnull,unique:agent_revisions_name_revision_key" json:"name"`
	Revision int64     `bun:"revision,notnull,unique:agent_revisions_name_revision_key" json:"revision"`
	Spec     AgentSpec `bun:"spec,type:text,notnull" json:"spec"`
	Timestamps
}

// Limits of an agent.
const (
	maxAgentNameChars    = 48
	maxAgentDescChars    = 500
	maxInstructionsChars = 50_000
	maxAgentTools        = 64
)

var agentName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

// ToolKnown says whether a tool name is one agents may list: the
// worker's built-in tools, and the tools of the MCP servers it knows.
type ToolKnown func(name string) bool

// check validates a spec alone: its fields and tools.
func (s *AgentSpec) check(known ToolKnown) error {
	s.Name = strings.TrimSpace(s.Name)
	s.Description = strings.TrimSpace(s.Description)
	s.Instructions = strings.TrimSpace(s.Instructions)
	s.Model = strings.TrimSpace(s.Model)
	if s.Tools == nil {
		s.Tools = AgentTools{}
	}
	if s.Transfers == nil {
		s.Transfers = []string{}
	}
	switch {
	case !agentName.MatchString(s.Name):
		return invalid(fmt.Sprintf("agent name %q must be 1 to %d lower-case letters, digits or '_', starting with a letter", s.Name, maxAgentNameChars))
	case s.Instructions == "":
		return invalid(fmt.Sprintf("agent %s: instructions are required", s.Name))
	case utf8.RuneCountInString(s.Instructions) > maxInstructionsChars:
		return invalid(fmt.Sprintf("agent %s: instructions are longer than %d characters", s.Name, maxInstructionsChars))
	case utf8.RuneCountInString(s.Description) > maxAgentDescChars:
		return invalid(fmt.Sprintf("agent %s: description is longer than %d characters", s.Name, maxAgentDescChars))
	case len(s.Tools) > maxAgentTools:
		return invalid(fmt.Sprintf("agent %s: more than %d tools", s.Name, maxAgentTools))
	}
	for field, text := range map[string]string{"description": s.Description, "instructions": s.Instructions, "model": s.Model} {
		if err := checkStorable(field, text); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, t := range s.Tools {
		t.Name = strings.TrimSpace(t.Name)
		s.Tools[i].Name = t.Name
		switch {
		case seen[t.Name]:
			return invalid(fmt.Sprintf("agent %s: tool %q is listed twice", s.Name, t.Name))
		case strings.HasPrefix(t.Name, TransferToolPrefix):
			return invalid(fmt.Sprintf("agent %s: %q is not a tool: list the agent under transfers", s.Name, t.Name))
		case known == nil || !known(t.Name):
			return invalid(fmt.Sprintf("agent %s: unknown tool %q", s.Name, t.Name))
		case t.Approval != "" && t.Approval != ApprovalRequired:
			return invalid(fmt.Sprintf("agent %s: tool %s: approval must be %q or left out", s.Name, t.Name, ApprovalRequired))
		}
		seen[t.Name] = true
	}
	for _, to := range s.Transfers {
		if to == s.Name {
			return invalid(fmt.Sprintf("agent %s transfers to itself", s.Name))
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(s.Transfers)))) != len(s.Transfers) {
		return invalid(fmt.Sprintf("agent %s: a transfer target is listed twice", s.Name))
	}
	return nil
}

// TransferToolPrefix starts the name of the tool that hands a turn to
// another agent: transfer_to_<name>.
const TransferToolPrefix = "transfer_to_"

// checkAgents validates the agents as they would all be after a change:
// transfers name agents that exist, and exactly one is the entry.
func checkAgents(all []AgentSpec) error {
	if len(all) == 0 {
		return nil // the built-in assistant answers
	}
	names := map[string]bool{}
	var entries []string
	for _, a := range all {
		names[a.Name] = true
		if a.Entry {
			entries = append(entries, a.Name)
		}
	}
	for _, a := range all {
		for _, to := range a.Transfers {
			if !names[to] {
				return invalid(fmt.Sprintf("agent %s: unknown transfer target %q", a.Name, to))
			}
		}
	}
	switch len(entries) {
	case 0:
		return invalid("no entry agent: mark one agent entry: true")
	case 1:
		return nil
	}
	slices.Sort(entries) // the same message whatever order the agents were read in
	return invalid(fmt.Sprintf("more than one entry agent: %s", strings.Join(entries, ", ")))
}

// lockAgents serialises the changes of agents (one entry, transfers that
// resolve hold across writers).
func lockAgents(ctx context.Context, tx bun.Tx) error {
	return lockKeys(ctx, tx, "agents")
}

// ListAgents returns every agent, by name.
func ListAgents(ctx context.Context, db bun.IDB) ([]Agent, error) {
	agents := []Agent{}
	if err := db.NewSelect().Model(&agents).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	return agents, nil
}

// AgentByName reads an agent.
func AgentByName(ctx context.Context, db bun.IDB, name string) (*Agent, error) {
	a := new(Agent)
	err := db.NewSelect().Model(a).Where("name = ?", name).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read agent %s: %w", name, err)
	}
	return a, nil
}

// EntryAgent is the agent that answers first, or ErrNotFound when no
// agent is defined.
func EntryAgent(ctx context.Context, db bun.IDB) (*Agent, error) {
	a := new(Agent)
	err := db.NewSelect().Model(a).Where("is_entry = ?", true).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read the entry agent: %w", err)
	}
	return a, nil
}

// AgentAt reads the definition an agent had at a revision.
func AgentAt(ctx context.Context, db bun.IDB, name string, revision int64) (*AgentSpec, error) {
	r := new(AgentRevision)
	err := db.NewSelect().Model(r).Where("name = ? AND revision = ?", name, revision).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read agent %s revision %d: %w", name, revision, err)
	}
	return &r.Spec, nil
}

// AgentWasDefined says whether an agent of that name was ever defined
// (it has a revision), deleted since or not.
func AgentWasDefined(ctx context.Context, db bun.IDB, name string) (bool, error) {
	ok, err := db.NewSelect().Model((*AgentRevision)(nil)).Where("name = ?", name).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("was agent %s defined: %w", name, err)
	}
	return ok, nil
}

// AgentChange is what ApplyAgents did to one agent.
type AgentChange struct {
	Name string `json:"name"`
	// Change is "created", "updated" or "unchanged".
	Change   string `json:"change"`
	Revision int64  `json:"revision"`
}

// ApplyAgents creates or updates the agents of specs, by name, in one
// transaction, and never deletes one that is not there (a file that
// forgets an agent leaves it). The result must hold together: known
// tools, transfers to agents that exist, one entry agent; else
// ErrInvalid and nothing changes. An agent whose definition is the same
// keeps its revision.
func ApplyAgents(ctx context.Context, db bun.IDB, specs []AgentSpec, known ToolKnown, by *int64) ([]AgentChange, error) {
	names := map[string]bool{}
	for i := range specs {
		if err := specs[i].check(known); err != nil {
			return nil, err
		}
		if names[specs[i].Name] {
			return nil, invalid(fmt.Sprintf("agent %s is defined twice", specs[i].Name))
		}
		names[specs[i].Name] = true
	}
	var changes []AgentChange
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockAgents(ctx, tx); err != nil {
			return err
		}
		current, err := ListAgents(ctx, tx)
		if err != nil {
			return err
		}
		byName := map[string]*Agent{}
		for i := range current {
			byName[current[i].Name] = &current[i]
		}
		final := map[string]AgentSpec{}
		for _, a := range current {
			final[a.Name] = a.AgentSpec
		}
		for _, s := range specs {
			final[s.Name] = s
		}
		if err := checkAgents(slices.Collect(maps.Values(final))); err != nil {
			return err
		}
		for _, s := range specs {
			c, err := putAgent(ctx, tx, byName[s.Name], s, by)
			if err != nil {
				return err
			}
			changes = append(changes, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// putAgent writes one agent (old is its current row, nil for a new one)
// and its revision.
func putAgent(ctx context.Context, tx bun.Tx, old *Agent, s AgentSpec, by *int64) (AgentChange, error) {
	if old != nil && sameSpec(old.AgentSpec, s) {
		return AgentChange{Name: s.Name, Change: "unchanged", Revision: old.Revision}, nil
	}
	a := &Agent{AgentSpec: s, UpdatedBy: by}
	change := "created"
	if old == nil {
		// A name used before goes on from its last revision: a turn
		// still running the old agent keeps reading its own.
		var last sql.NullInt64
		if err := tx.NewSelect().Model((*AgentRevision)(nil)).ColumnExpr("max(revision)").
			Where("name = ?", s.Name).Scan(ctx, &last); err != nil {
			return AgentChange{}, fmt.Errorf("last revision of %s: %w", s.Name, err)
		}
		a.Revision = last.Int64 + 1
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return AgentChange{}, fmt.Errorf("create agent %s: %w", s.Name, err)
		}
	} else {
		change = "updated"
		a.ID, a.Revision, a.CreatedAt = old.ID, old.Revision+1, old.CreatedAt
		if _, err := tx.NewUpdate().Model(a).WherePK().Exec(ctx); err != nil {
			return AgentChange{}, fmt.Errorf("update agent %s: %w", s.Name, err)
		}
	}
	rev := &AgentRevision{Name: s.Name, Revision: a.Revision, Spec: s}
	if _, err := tx.NewInsert().Model(rev).Exec(ctx); err != nil {
		return AgentChange{}, fmt.Errorf("keep revision %d of agent %s: %w", a.Revision, s.Name, err)
	}
	return AgentChange{Name: s.Name, Change: change, Revision: a.Revision}, nil
}

func sameSpec(a, b AgentSpec) bool {
	return a.Name == b.Name && a.Description == b.Description && a.Instructions == b.Instructions &&
		a.Model == b.Model && slices.Equal(a.Tools, b.Tools) && slices.Equal(a.Transfers, b.Transfers) && a.Entry == b.Entry
}

// CreateAgent adds one agent; a taken name is a conflict.
func CreateAgent(ctx context.Context, db bun.IDB, s AgentSpec, known ToolKnown, by *int64) (*Agent, error) {
	return writeAgent(ctx, db, s, known, by, false)
}

// ReplaceAgent rewrites the agent of that name; ErrNotFound when none.
func ReplaceAgent(ctx context.Context, db bun.IDB, s AgentSpec, known ToolKnown, by *int64) (*Agent, error) {
	return writeAgent(ctx, db, s, known, by, true)
}

func writeAgent(ctx context.Context, db bun.IDB, s AgentSpec, known ToolKnown, by *int64, replace bool) (*Agent, error) {
	if err := s.check(known); err != nil {
		return nil, err
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockAgents(ctx, tx); err != nil {
			return err
		}
		current, err := ListAgents(ctx, tx)
		if err != nil {
			return err
		}
		var old *Agent
		final := []AgentSpec{s}
		for i := range current {
			if current[i].Name == s.Name {
				old = &current[i]
				continue
			}
			final = append(final, current[i].AgentSpec)
		}
		switch {
		case replace && old == nil:
			return ErrNotFound
		case !replace && old != nil:
			return conflict(fmt.Sprintf("agent %q already exists", s.Name))
		}
		if err := checkAgents(final); err != nil {
			return err
		}
		_, err = putAgent(ctx, tx, old, s, by)
		return err
	})
	if err != nil {
		return nil, err
	}
	return AgentByName(ctx, db, s.Name)
}

// DeleteAgent removes an agent. Its revisions stay for the turns that
// run them. An agent others transfer to, or the entry agent while others
// remain, is a conflict: the rest would not hold together.
func DeleteAgent(ctx context.Context, db bun.IDB, name string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockAgents(ctx, tx); err != nil {
			return err
		}
		current, err := ListAgents(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(current, func(a Agent) bool { return a.Name == name })
		if i < 0 {
			return ErrNotFound
		}
		var rest []AgentSpec
		for j, a := range current {
			if j == i {
				continue
			}
			if slices.Contains(a.Transfers, name) {
				return conflict(fmt.Sprintf("agent %s transfers to %s: change it first", a.Name, name))
			}
			rest = append(rest, a.AgentSpec)
		}
		if err := checkAgents(rest); err != nil {
			return conflict(fmt.Sprintf("deleting %s would leave %s", name, Reason(err)))
		}
		if _, err := tx.NewDelete().Model((*Agent)(nil)).Where("name = ?", name).Exec(ctx); err != nil {
			return fmt.Errorf("delete agent %s: %w", name, err)
		}
		return nil
	})
}
