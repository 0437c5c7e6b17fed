package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// RunToolInput is one tool call, made on behalf of the conversation's user.
type RunToolInput struct {
	UserID int64    `json:"user_id"`
	Agent  string   `json:"agent"`
	Call   ToolCall `json:"call"`
	// AgentRevision is the configured agent's revision (0: built-in).
	AgentRevision int64 `json:"agent_revision,omitempty"`
	// FirstSource is the number the first passage a tool shows gets: the
	// passages of one turn are numbered on from the earlier calls', so
	// that every [n] of the reply names one (0 counts from 1).
	FirstSource int `json:"first_source,omitempty"`
}

// RunTool runs a tool as the conversation's user. A call the user may not
// make, a malformed one or an unknown tool comes back as an error result for
// the LLM to explain; only failures of the system itself (the database)
// fail the activity, to be retried.
func (a *Activities) RunTool(ctx context.Context, in RunToolInput) (ToolResult, error) {
	defer heartbeat(ctx, heartbeatEvery)()
	tool, actor, refusal, err := a.toolFor(ctx, in)
	if refusal != nil || err != nil {
		return deref(refusal), err
	}
	if tool.Run == nil {
		return UnknownTool(in.Call), nil
	}
	refuse := func(msg string) (ToolResult, error) { return Refusal(in.Call, msg), nil }
	out, err := tool.Run(ctx, a.DB, actor, json.RawMessage(in.Call.Arguments))
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return refuse("not found (or not yours to see)")
	case errors.Is(err, domain.ErrForbidden):
		return refuse("not allowed: " + domain.Reason(err))
	case errors.Is(err, domain.ErrConflict):
		return refuse(domain.Reason(err))
	case errors.Is(err, domain.ErrInvalid):
		return refuse(domain.Reason(err))
	case err != nil:
		return ToolResult{}, fmt.Errorf("tool %s: %w", tool.Name, err)
	}
	if p, ok := out.(Passages); ok {
		text, sources := p.numbered(max(in.FirstSource, 1))
		return ToolResult{CallID: in.Call.ID, Content: text, Sources: sources}, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return ToolResult{}, fmt.Errorf("encode %s result: %w", tool.Name, err)
	}
	return ToolResult{CallID: in.Call.ID, Content: string(b)}, nil
}

// toolFor finds the tool a call names among those of the turn's agent,
// and the user it acts for: a refusal for the LLM when the agent has no
// such tool, the user is disabled or lacks the tool's permission.
func (a *Activities) toolFor(ctx context.Context, in RunToolInput) (Tool, *domain.User, *ToolResult, error) {
	refuse := func(msg string) (Tool, *domain.User, *ToolResult, error) {
		r := Refusal(in.Call, msg)
		return Tool{}, nil, &r, nil
	}
	agent, err := a.agent(ctx, in.Agent, in.AgentRevision)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == ErrUnknownAgent {
		return refuse(err.Error())
	}
	if err != nil {
		return Tool{}, nil, nil, err
	}
	tool, ok := agent.Tool(in.Call.Name)
	if !ok {
		r := UnknownTool(in.Call)
		return Tool{}, nil, &r, nil
	}
	actor, err := domain.UserByID(ctx, a.DB, in.UserID)
	if err != nil {
		return Tool{}, nil, nil, fmt.Errorf("load user: %w", err)
	}
	if !actor.IsActive {
		return refuse("the user's account is disabled")
	}
	if tool.Requires != "" {
		ok, err := domain.Can(ctx, a.DB, actor, tool.Requires)
		if err != nil {
			return Tool{}, nil, nil, fmt.Errorf("check permission: %w", err)
		}
		if !ok {
			return refuse("only support staff may use " + tool.Name)
		}
	}
	return tool, actor, nil, nil
}

// Refusal is the result of a call that cannot be made, worded for the LLM.
// Workflows call it: JSON of a one-key map is the same on every replay
// (encoding/json sorts map keys), which workflowcheck cannot tell.
//
//workflowcheck:ignore
func Refusal(call ToolCall, msg string) ToolResult {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return ToolResult{CallID: call.ID, Content: string(b), IsError: true}
}

// UnknownTool is the result of a call to a tool that does not exist.
func UnknownTool(call ToolCall) ToolResult {
	return Refusal(call, fmt.Sprintf("there is no tool named %q", call.Name))
}
