package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// billingServer is a team's own system behind an MCP server: it refunds
// orders, one of its tools always fails, one the agents are not given.
type billingServer struct {
	*httptest.Server
	listed, badToken atomic.Int32
}

func startBillingServer(t *testing.T, token string) *billingServer {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "billing", Version: "1"}, nil)
	type refundArgs struct {
		OrderID string  `json:"order_id" jsonschema:"the order to refund"`
		Amount  float64 `json:"amount" jsonschema:"how much, in euros"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "refund", Description: "Refunds an order."},
		func(_ context.Context, _ *mcp.CallToolRequest, in refundArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{
				Text: fmt.Sprintf("refund R-%s of %.2f EUR issued", in.OrderID, in.Amount)}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "freeze", Description: "Freezes the account."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "the payment system says no"}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "wipe", Description: "Deletes every order."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "wiped"}}}, nil, nil
		})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	b := &billingServer{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Billing-Token") != token {
			b.badToken.Add(1)
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"tools/list"`)) {
			b.listed.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

// mcpAgent calls the tool the user names and answers with its result.
func mcpAgent(_ int, req fakellm.Request) fakellm.Response {
	last := req.Last()
	switch {
	case last.Role == "tool":
		return fakellm.Response{Content: "Done: " + last.Text()}
	case strings.Contains(last.Text(), "refund"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("m1", "billing__refund", `{"order_id":"42","amount":9.5}`)}}
	case strings.Contains(last.Text(), "freeze"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("m2", "billing__freeze", `{}`)}}
	case strings.Contains(last.Text(), "wipe"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("m3", "billing__wipe", `{}`)}}
	}
	return fakellm.Response{Content: "How can I help?"}
}

// An agent's MCP tools reach the model and run against the real server:
// a result comes back, a tool's error is told to the model, a tool the
// agent is not given is neither offered nor run, and a server that is
// down stops nothing.
func TestAnAgentCallsToolsOfAnMCPServer(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		billing := startBillingServer(t, "s3cret")
		t.Setenv("E2E_BILLING_TOKEN", "s3cret")
		servers, err := json.Marshal([]map[string]any{
			{"name": "billing", "url": billing.URL, "headers": map[string]string{"X-Billing-Token": "E2E_BILLING_TOKEN"}, "timeout_seconds": 5},
			{"name": "down", "url": "http://127.0.0.1:1/mcp", "timeout_seconds": 1},
		})
		require.NoError(t, err)
		s := newStack(t, url, mcpAgent, map[string]string{"MCP_SERVERS": string(servers)})
		_, err = domain.ApplyAgents(ctx, s.db, []domain.AgentSpec{{Name: "general", Instructions: "You help.", Entry: true,
			Tools: domain.AgentTools{{Name: "billing.refund"}, {Name: "billing.freeze"}}}},
			func(n string) bool { return strings.HasPrefix(n, "billing.") }, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return billing.listed.Load() > 0 }, 20*time.Second, 20*time.Millisecond,
			"the worker lists the server's tools")
		time.Sleep(200 * time.Millisecond) // the answer reaches the worker's cache

		user := s.User("mia")
		q := s.ask(user, "please refund my order")
		reply := s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, "Done: refund R-42 of 9.50 EUR issued", reply["content"])
		reqs := s.llm.Requests()
		assert.ElementsMatch(t, []string{"billing__refund", "billing__freeze"}, reqs[0].ToolNames(), "the agent's MCP tools only")
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)
		assert.Equal(t, []string{"local:TurnPolicy", "local:LoadHistory", "CallLLM", "tool.mcp", "CallLLM",
			"local:SaveReply", "upsert:AimsgOutcome"}, s.history(workflows.TurnWorkflowID(apitest.ID(q))))
		assert.Zero(t, billing.badToken.Load(), "the header from the environment reached the server")

		q = s.ask(user, "freeze my account")
		reply = s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, "Done: the payment system says no", reply["content"], "the tool's error is the model's to explain")
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)

		q = s.ask(user, "wipe everything")
		reply = s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Contains(t, reply["content"], `there is no tool named \"billing__wipe\"`, "never run: not the agent's")
	})
}
