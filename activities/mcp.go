package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/openai/openai-go/v3/shared"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/toolservers"
)

// Tools of MCP servers are named "server.tool" in agents' definitions.
// The LLM cannot take a dot in a function name: it sees
// "server__tool", and every such call runs as the one activity
// MCPToolActivity, which finds the tool through the turn's agent.

// MCPSeparator joins a server's name and its tool's in the name the LLM
// sees; the built-in tools have none.
const MCPSeparator = "__"

// MCPToolActivity is the activity every MCP tool call runs as.
const MCPToolActivity = "tool.mcp"

// ToolActivity is the activity a call of the named tool runs as.
func ToolActivity(name string) string {
	if strings.Contains(name, MCPSeparator) {
		return MCPToolActivity
	}
	return ToolActivityName(name)
}

var notFunctionName = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// LLMToolName is the name the LLM sees for the MCP tool "server.tool".
func LLMToolName(mcpName string) string {
	server, tool, _ := strings.Cut(mcpName, ".")
	name := server + MCPSeparator + notFunctionName.ReplaceAllString(tool, "_")
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// KnownTools says which tools agents may list: the built-in ones, and the
// tools the configuration allows of the MCP servers.
func KnownTools(r Registry, servers []config.MCPServer) domain.ToolKnown {
	return func(name string) bool {
		return r.KnownTool(name) || toolservers.Configured(servers, name)
	}
}

// mcpTool is the tool an agent offers for an MCP tool the worker's
// servers listed; false when they did not (its server is down, or it is
// gone): the agent goes without it.
func (a *Activities) mcpTool(name string) (Tool, bool) {
	if a.MCP == nil {
		return Tool{}, false
	}
	for _, t := range a.MCP.Tools() {
		if t.Name != name {
			continue
		}
		params := shared.FunctionParameters{"type": "object", "properties": map[string]any{}}
		if len(t.InputSchema) > 0 {
			var schema map[string]any
			if err := json.Unmarshal(t.InputSchema, &schema); err == nil && schema["type"] == "object" {
				params = schema
			}
		}
		return Tool{Name: LLMToolName(name), Description: t.Description, Parameters: params, MCPName: name}, true
	}
	return Tool{}, false
}

// RunMCPTool runs a call of an MCP tool as the conversation's user: the
// turn's agent must offer it, the user must be active. The tool's own
// error, an unknown tool and a call the user may not make come back as
// results for the LLM; a server down or too slow fails the activity, to
// be retried, and after the retries the turn tells the LLM the tool
// failed.
func (a *Activities) RunMCPTool(ctx context.Context, in RunToolInput) (ToolResult, error) {
	defer heartbeat(ctx, heartbeatEvery)()
	tool, actor, refusal, err := a.toolFor(ctx, in)
	if refusal != nil || err != nil {
		return deref(refusal), err
	}
	if tool.MCPName == "" || a.MCP == nil {
		return UnknownTool(in.Call), nil
	}
	res, err := a.MCP.Call(ctx, tool.MCPName, json.RawMessage(in.Call.Arguments))
	if errors.Is(err, toolservers.ErrUnknownTool) {
		return UnknownTool(in.Call), nil
	}
	if err != nil {
		return ToolResult{}, fmt.Errorf("tool %s for user %d: %w", tool.MCPName, actor.ID, err)
	}
	return ToolResult{CallID: in.Call.ID, Content: res.Text, IsError: res.IsError}, nil
}

func deref(r *ToolResult) ToolResult {
	if r == nil {
		return ToolResult{}
	}
	return *r
}
