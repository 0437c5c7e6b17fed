package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/openai/openai-go/v3/shared"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// Tool is a function the LLM may call. Run acts as the conversation's user
// and goes through domain/, so a tool can do exactly what that user could
// do through the REST API, and nothing more.
type Tool struct {
	Name        string
	Description string
	Parameters  shared.FunctionParameters
	// Requires, when set, offers the tool only to holders of that
	// permission (domain/ checks again).
	Requires domain.Permission
	// Run is the tool's work; nil for a tool the turn's workflow carries
	// out itself (HandoffTool) and for an MCP server's.
	Run func(ctx context.Context, db bun.IDB, actor *domain.User, args json.RawMessage) (any, error)
	// MCPName is an MCP server's tool's name ("server.tool"); Name is
	// then what the LLM sees (LLMToolName).
	MCPName string
}

// HandoffTool hands the conversation to a person. It is not an activity:
// the turn ends with the acknowledgement and its conversation changes mode.
const HandoffTool = "handoff_to_human"

// HandoffReason is the reason a handoff call gives, or a plain one when it
// gives none. Workflows call it: decoding one string field is the same on
// every replay, which workflowcheck cannot tell.
//
//workflowcheck:ignore
func HandoffReason(call ToolCall) string {
	var args struct {
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil || strings.TrimSpace(args.Reason) == "" {
		return "the user asked for a person"
	}
	return strings.TrimSpace(args.Reason)
}

// Agent is a system prompt and the tools that go with it.
type Agent struct {
	Name         string
	Instructions string
	Tools        []Tool
	// Model is the LLM model it asks; empty: the endpoint's.
	Model string
}

// Prompt is the system message for a conversation with u.
func (a *Agent) Prompt(u *domain.User, p domain.Permissions) string {
	role := "a user"
	switch {
	case u.IsSuperuser:
		role = "a superuser (support staff)"
	case p.Has(domain.PermTriageReports):
		role = "a support agent (staff)"
	}
	name := u.Username
	if u.FullName != nil && *u.FullName != "" {
		name = *u.FullName
	}
	return a.Instructions + fmt.Sprintf("\n\nYou are talking with %s, who is %s.", name, role)
}

// ToolsFor lists the tools offered to someone with permissions p.
func (a *Agent) ToolsFor(p domain.Permissions) []Tool {
	var out []Tool
	for _, t := range a.Tools {
		if t.Requires == "" || p.Has(t.Requires) {
			out = append(out, t)
		}
	}
	return out
}

// Tool finds a tool by name.
func (a *Agent) Tool(name string) (Tool, bool) {
	for _, t := range a.Tools {
		if t.Name == name {
			return t, true
		}
	}
	return Tool{}, false
}

// Registry holds the agents by name.
type Registry map[string]*Agent

// DefaultAgent answers every conversation.
const DefaultAgent = "report_agent"

// Get finds an agent.
func (r Registry) Get(name string) (*Agent, error) {
	a, ok := r[name]
	if !ok {
		return nil, fmt.Errorf("unknown agent %q", name)
	}
	return a, nil
}

// BuiltinTool finds a tool of the worker's built-in agents by name.
func (r Registry) BuiltinTool(name string) (Tool, bool) {
	for _, a := range r {
		if t, ok := a.Tool(name); ok {
			return t, true
		}
	}
	return Tool{}, false
}

// KnownTool says whether a configured agent may list name: a built-in
// tool of this worker.
func (r Registry) KnownTool(name string) bool {
	_, ok := r.BuiltinTool(name)
	return ok
}

// agent is the agent a turn runs: a configured agent's revision, or, at
// revision 0, the worker's built-in agent of that name. A configured
// agent's tools are the built-in ones it lists; one this worker does not
// have (an older worker) is left out.
func (a *Activities) agent(ctx context.Context, name string, revision int64) (*Agent, error) {
	if revision == 0 {
		ag, err := a.Agents.Get(name)
		if err != nil {
			return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownAgent, err)
		}
		return ag, nil
	}
	spec, err := domain.AgentAt(ctx, a.DB, name, revision)
	if errors.Is(err, domain.ErrNotFound) {
		err = fmt.Errorf("agent %s has no revision %d", name, revision)
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownAgent, err)
	}
	if err != nil {
		return nil, err
	}
	ag := a.fromSpec(spec)
	if len(spec.Transfers) > 0 {
		// Each agent it may transfer to is a tool, described by the
		// target's own description (the model picks by it).
		described := map[string]string{}
		all, err := domain.ListAgents(ctx, a.DB)
		if err != nil {
			return nil, err
		}
		for _, other := range all {
			described[other.Name] = other.Description
		}
		for _, to := range spec.Transfers {
			ag.Tools = append(ag.Tools, transferTool(to, described[to]))
		}
	}
	return ag, nil
}

// transferTool hands the turn to another agent; the workflow carries it
// out, like the handoff to a person.
func transferTool(to, description string) Tool {
	d := "Transfer the conversation to the " + to + " agent"
	if description != "" {
		d += ": " + description
	}
	return Tool{Name: domain.TransferToolPrefix + to, Description: d + ". It answers from then on.",
		Parameters: object(nil, map[string]any{})}
}

// fromSpec is the agent a configured definition describes.
func (a *Activities) fromSpec(spec *domain.AgentSpec) *Agent {
	ag := &Agent{Name: spec.Name, Instructions: spec.Instructions, Model: spec.Model}
	for _, t := range spec.Tools {
		if tool, ok := a.Agents.BuiltinTool(t.Name); ok {
			ag.Tools = append(ag.Tools, tool)
		} else if tool, ok := a.mcpTool(t.Name); ok {
			ag.Tools = append(ag.Tools, tool)
		}
	}
	return ag
}

// ToolNames lists every tool of every agent that runs as an activity of
// its own name, sorted.
func (r Registry) ToolNames() []string {
	seen := map[string]bool{}
	for _, a := range r {
		for _, t := range a.Tools {
			if t.Run != nil {
				seen[t.Name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// AgentSettings are what the configuration says of the agents' tools.
type AgentSettings struct {
	// KnowledgeLanguage is KNOWLEDGE_LANGUAGE: the text search
	// configuration questions to the knowledge base are read with.
	KnowledgeLanguage string
}

// DefaultAgents is aimsg's registry.
func DefaultAgents(s AgentSettings) Registry {
	return Registry{DefaultAgent: reportAgent(s)}
}

const reportInstructions = `You are the assistant of a messaging service, answering by chat, SMS or Telegram.
Keep answers short and plain: they may be read on a phone.
You can help with reports (support tickets): list the user's reports, show one, file a new one, and change one that is still open.
Use the tools for anything about reports; never invent a report, an id or a status.
For questions about the service itself (how something works, rules, prices, delivery, accounts), call search_knowledge first and answer from the passages it returns, citing each fact with its number in brackets, like [1]. If the passages do not answer the question, say you could not find it in the help articles rather than guess.
When a tool answers with an error, explain it simply.
Replies starting with [written by a person on the support team] were written by staff while a person had the conversation; carry on from them.
When the user asks for a person, or you cannot help and a person could, call handoff_to_human with a short reason.
For anything else, answer directly without tools.`

func object(required []string, props map[string]any) shared.FunctionParameters {
	return shared.FunctionParameters{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

var (
	reportIDParam = map[string]any{"type": "integer", "description": "the report's id", "minimum": 1}
	statusParam   = map[string]any{"type": "string", "enum": []string{"open", "in_progress", "resolved"}}
)

// decodeArgs reads a tool's JSON arguments strictly: unknown fields and
// wrong types are the LLM's mistake, told back to it.
func decodeArgs(raw json.RawMessage, dst any) error {
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("arguments are not valid: %v: %w", err, domain.ErrInvalid)
	}
	return nil
}

func reportAgent(s AgentSettings) *Agent {
	return &Agent{Name: DefaultAgent, Instructions: reportInstructions, Tools: []Tool{
		knowledgeTool(s.KnowledgeLanguage),
		{
			Name:        "list_reports",
			Description: "List the user's own reports, newest first, optionally by status. Support staff may set all to list everyone's.",
			Parameters:  object(nil, map[string]any{"status": statusParam, "all": map[string]any{"type": "boolean"}}),
			Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
				var args struct {
					Status *string `json:"status"`
					All    bool    `json:"all"`
				}
				if err := decodeArgs(raw, &args); err != nil {
					return nil, err
				}
				f := domain.ReportFilter{Page: domain.Page{Limit: 20}}
				if args.Status != nil {
					st, err := domain.ParseReportStatus(*args.Status)
					if err != nil {
						return nil, err
					}
					f.Status = &st
				}
				list := domain.ListMyReports
				if args.All {
					list = domain.ListAllReports
				}
				reports, total, err := list(ctx, db, actor, f)
				if err != nil {
					return nil, err
				}
				return map[string]any{"total": total, "reports": reports}, nil
			},
		},
		{
			Name:        "get_report",
			Description: "Show one report by id.",
			Parameters:  object([]string{"report_id"}, map[string]any{"report_id": reportIDParam}),
			Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
				var args struct {
					ReportID int64 `json:"report_id"`
				}
				if err := decodeArgs(raw, &args); err != nil {
					return nil, err
				}
				return domain.GetReport(ctx, db, actor, args.ReportID)
			},
		},
		{
			Name:        "create_report",
			Description: "File a new report for the user.",
			Parameters: object([]string{"title", "content"}, map[string]any{
				"title":   map[string]any{"type": "string", "maxLength": domain.MaxReportTitle},
				"content": map[string]any{"type": "string"},
			}),
			Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
				var args struct {
					Title   string `json:"title"`
					Content string `json:"content"`
				}
				if err := decodeArgs(raw, &args); err != nil {
					return nil, err
				}
				return domain.CreateReport(ctx, db, actor, args.Title, args.Content)
			},
		},
		{
			Name:        "update_report",
			Description: "Change the title or content of one of the user's reports while it is open.",
			Parameters: object([]string{"report_id"}, map[string]any{
				"report_id": reportIDParam,
				"title":     map[string]any{"type": "string", "maxLength": domain.MaxReportTitle},
				"content":   map[string]any{"type": "string"},
			}),
			Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
				var args struct {
					ReportID int64   `json:"report_id"`
					Title    *string `json:"title"`
					Content  *string `json:"content"`
				}
				if err := decodeArgs(raw, &args); err != nil {
					return nil, err
				}
				return domain.UpdateReport(ctx, db, actor, args.ReportID, domain.ReportUpdate{Title: args.Title, Content: args.Content})
			},
		},
		{
			Name:        "comment_report",
			Description: "Support staff: comment on a report, optionally starting work on it (open -> in_progress).",
			Requires:    domain.PermTriageReports,
			Parameters: object([]string{"report_id", "comment"}, map[string]any{
				"report_id":  reportIDParam,
				"comment":    map[string]any{"type": "string"},
				"start_work": map[string]any{"type": "boolean"},
			}),
			Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
				var args struct {
					ReportID  int64  `json:"report_id"`
					Comment   string `json:"comment"`
					StartWork bool   `json:"start_work"`
				}
				if err := decodeArgs(raw, &args); err != nil {
					return nil, err
				}
				return domain.CommentReport(ctx, db, actor, args.ReportID, args.Comment, args.StartWork)
			},
		},
		{
			Name:        "resolve_report",
			Description: "Support staff: resolve a report, with an optional closing comment.",
			Requires:    domain.PermTriageReports,
			Parameters: object([]string{"report_id"}, map[string]any{
				"report_id": reportIDParam,
				"comment":   map[string]any{"type": "string"},
			}),
			Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
				var args struct {
					ReportID int64   `json:"report_id"`
					Comment  *string `json:"comment"`
				}
				if err := decodeArgs(raw, &args); err != nil {
					return nil, err
				}
				return domain.ResolveReport(ctx, db, actor, args.ReportID, args.Comment)
			},
		},
		{
			Name: HandoffTool,
			Description: "Hand the conversation to a person on the support team: the user is told a person will answer, " +
				"and you stop answering until the team hands it back.",
			Parameters: object([]string{"reason"}, map[string]any{
				"reason": map[string]any{"type": "string", "maxLength": 500, "description": "why a person should take over, in a few words"},
			}),
		},
	}}
}
