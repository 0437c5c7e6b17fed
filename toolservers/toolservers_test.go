package toolservers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
)

// testServer is a real MCP server on a local port, built with the SDK. It
// can be restarted (its sessions lost) and made to answer 503 (down).
type testServer struct {
	*httptest.Server
	protocols []string // the versions it speaks; nil: the SDK's

	mu       sync.Mutex
	mcp      *mcp.Server
	handler  http.Handler
	headers  []string // Authorization of every request
	notFound int      // 404s answered (sessions it did not know)
	down     atomic.Bool
}

type addArgs struct {
	A float64 `json:"a" jsonschema:"the first number"`
	B float64 `json:"b" jsonschema:"the second number"`
}

type echoArgs struct {
	Text string `json:"text"`
}

func startServer(t *testing.T, protocols ...string) *testServer {
	t.Helper()
	ts := &testServer{protocols: protocols}
	ts.restart()
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ts.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		ts.mu.Lock()
		ts.headers = append(ts.headers, r.Header.Get("Authorization"))
		h := ts.handler
		ts.mu.Unlock()
		rec := &status{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.code == http.StatusNotFound {
			ts.mu.Lock()
			ts.notFound++
			ts.mu.Unlock()
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// restart replaces the server as a new process would: same address, no
// sessions.
func (ts *testServer) restart() {
	s := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"},
		&mcp.ServerOptions{SupportedProtocolVersions: ts.protocols})
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Adds two numbers."},
		func(_ context.Context, _ *mcp.CallToolRequest, in addArgs) (*mcp.CallToolResult, any, error) {
			return textResult(strconv.FormatFloat(in.A+in.B, 'f', -1, 64)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Says the text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoArgs) (*mcp.CallToolResult, any, error) {
			return textResult(in.Text), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "fail"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return nil, nil, errors.New("card declined")
		})
	mcp.AddTool(s, &mcp.Tool{Name: "big"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			// 3-byte runes, so that the cap falls inside one.
			return textResult(strings.Repeat("€", 100<<10/3)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "picture"},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{
				&mcp.TextContent{Text: "here it is"},
				&mcp.ImageContent{MIMEType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}},
			}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "sleep"},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			return textResult("woke up"), nil, nil
		})
	ts.mu.Lock()
	ts.mcp = s
	ts.handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	ts.mu.Unlock()
}

func textResult(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

type status struct {
	http.ResponseWriter
	code int
}

func (s *status) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *status) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func newServers(t *testing.T, env map[string]string, servers ...config.MCPServer) *Servers {
	t.Helper()
	for i := range servers {
		if servers[i].Timeout == 0 {
			servers[i].Timeout = 10 * time.Second
		}
	}
	s, err := New(servers, func(k string) string { return env[k] }, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func call(t *testing.T, s *Servers, name, args string) Result {
	t.Helper()
	r, err := s.Call(t.Context(), name, json.RawMessage(args))
	require.NoError(t, err)
	return r
}

func TestDiscoverListsToolsWithTheirSchemas(t *testing.T) {
	ts := startServer(t)
	s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL})
	assert.Empty(t, s.Tools(), "nothing before discovery")
	s.Discover(t.Context())

	var names []string
	for _, tool := range s.Tools() {
		names = append(names, tool.Name)
		assert.Equal(t, "calc", tool.Server)
	}
	assert.Equal(t, []string{"calc.add", "calc.big", "calc.echo", "calc.fail", "calc.picture", "calc.sleep"}, names)
	assert.True(t, s.Known("calc.add"))
	assert.False(t, s.Known("calc.nope"))
	assert.False(t, s.Known("add"))

	add := s.Tools()[0]
	assert.Equal(t, "Adds two numbers.", add.Description)
	var schema struct {
		Type       string                    `json:"type"`
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	require.NoError(t, json.Unmarshal(add.InputSchema, &schema))
	assert.Equal(t, "object", schema.Type)
	assert.Equal(t, "number", schema.Properties["a"]["type"])
	assert.Equal(t, "the first number", schema.Properties["a"]["description"])
	assert.ElementsMatch(t, []string{"a", "b"}, schema.Required)
}

func TestToolsFilterHidesTheOthers(t *testing.T) {
	ts := startServer(t)
	s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL, Tools: []string{"add", "echo", "missing"}})
	s.Discover(t.Context())

	var names []string
	for _, tool := range s.Tools() {
		names = append(names, tool.Name)
	}
	assert.Equal(t, []string{"calc.add", "calc.echo"}, names, "a listed tool the server lacks is left out")
	assert.False(t, s.Known("calc.fail"))
	_, err := s.Call(t.Context(), "calc.fail", nil)
	assert.ErrorIs(t, err, ErrUnknownTool, "a disabled tool cannot be called")
	_, err = s.Call(t.Context(), "other.add", nil)
	assert.ErrorIs(t, err, ErrUnknownTool)
	assert.Equal(t, "3.5", call(t, s, "calc.add", `{"a": 1, "b": 2.5}`).Text)
}

func TestCallResults(t *testing.T) {
	ts := startServer(t)
	s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL})
	s.Discover(t.Context())

	assert.Equal(t, Result{Text: "5"}, call(t, s, "calc.add", `{"a": 2, "b": 3}`))
	assert.Equal(t, Result{Text: "héllo"}, call(t, s, "calc.echo", `{"text": "héllo"}`))
	assert.Equal(t, Result{Text: "here it is\n[image: image/png]"}, call(t, s, "calc.picture", ``))

	r := call(t, s, "calc.fail", `{}`)
	assert.True(t, r.IsError, "the tool's error is a result, not a Go error")
	assert.Contains(t, r.Text, "card declined")

	r = call(t, s, "calc.add", `{"a": "two"}`)
	assert.True(t, r.IsError, "arguments the server refuses are the LLM's to fix")
	r = call(t, s, "calc.add", `[1, 2]`)
	assert.True(t, r.IsError)
	assert.Contains(t, r.Text, "JSON object")

	// A tool the server stopped offering since it was listed.
	ts.mcp.RemoveTools("echo")
	r = call(t, s, "calc.echo", `{"text": "hi"}`)
	assert.True(t, r.IsError)
	assert.Contains(t, r.Text, "echo")
}

func TestBigResultIsCut(t *testing.T) {
	ts := startServer(t)
	s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL})

	r := call(t, s, "calc.big", `{}`)
	assert.True(t, r.Truncated)
	assert.False(t, r.IsError)
	assert.LessOrEqual(t, len(r.Text), MaxResultBytes)
	assert.Greater(t, len(r.Text), MaxResultBytes-100)
	assert.True(t, utf8.ValidString(r.Text), "cut between runes")
	assert.True(t, strings.HasPrefix(r.Text, "€€€"))
	assert.Contains(t, r.Text[len(r.Text)-100:], "[cut: the result was 102399 bytes")

	assert.False(t, call(t, s, "calc.add", `{"a": 1, "b": 1}`).Truncated)
}

func TestServerDownDoesNotHideTheOthers(t *testing.T) {
	up := startServer(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	s := newServers(t, nil,
		config.MCPServer{Name: "billing", URL: gone.URL},
		config.MCPServer{Name: "calc", URL: up.URL})

	s.Discover(t.Context())
	assert.True(t, s.Known("calc.add"))
	for _, tool := range s.Tools() {
		assert.Equal(t, "calc", tool.Server)
	}
	_, err := s.Call(t.Context(), "billing.refund", json.RawMessage(`{"order": 7}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MCP server billing")
	assert.Equal(t, "2", call(t, s, "calc.add", `{"a": 1, "b": 1}`).Text)
}

func TestServerUpLaterIsListedAndKeepsItsToolsThroughAnOutage(t *testing.T) {
	ts := startServer(t)
	ts.down.Store(true)
	s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL})
	s.Discover(t.Context())
	assert.Empty(t, s.Tools())

	ts.down.Store(false)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go s.Watch(ctx, 50*time.Millisecond)
	require.Eventually(t, func() bool { return s.Known("calc.add") }, 5*time.Second, 20*time.Millisecond)

	ts.down.Store(true)
	s.Discover(t.Context())
	assert.True(t, s.Known("calc.add"), "a failed listing keeps the last one")
	_, err := s.Call(t.Context(), "calc.add", json.RawMessage(`{"a": 1, "b": 1}`))
	assert.ErrorContains(t, err, "MCP server calc")

	ts.down.Store(false)
	assert.Equal(t, "2", call(t, s, "calc.add", `{"a": 1, "b": 1}`).Text, "back after the outage")
}

func TestRestartedServerStillAnswers(t *testing.T) {
	for name, protocols := range map[string][]string{
		"current protocol":      nil,
		"sessions (2025-11-25)": {"2025-11-25"},
	} {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, protocols...)
			s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL})
			s.Discover(t.Context())
			assert.Equal(t, "2", call(t, s, "calc.add", `{"a": 1, "b": 1}`).Text)

			ts.restart()
			assert.Equal(t, "3", call(t, s, "calc.add", `{"a": 1, "b": 2}`).Text)
			s.Discover(t.Context())
			assert.True(t, s.Known("calc.add"))
			if protocols != nil {
				ts.mu.Lock()
				defer ts.mu.Unlock()
				assert.Positive(t, ts.notFound, "the old session was refused, then replaced")
			}
		})
	}
}

func TestHeadersComeFromTheEnvironment(t *testing.T) {
	ts := startServer(t)
	s := newServers(t, map[string]string{"CALC_TOKEN": "Bearer s3cret\n"},
		config.MCPServer{Name: "calc", URL: ts.URL, Headers: map[string]string{"Authorization": "CALC_TOKEN"}})
	s.Discover(t.Context())
	call(t, s, "calc.add", `{"a": 1, "b": 1}`)

	ts.mu.Lock()
	defer ts.mu.Unlock()
	require.NotEmpty(t, ts.headers)
	for _, h := range ts.headers {
		assert.Equal(t, "Bearer s3cret", h)
	}
}

func TestMissingHeaderVariableIsAStartError(t *testing.T) {
	_, err := New([]config.MCPServer{{Name: "calc", URL: "http://127.0.0.1:1/mcp", Timeout: time.Second,
		Headers: map[string]string{"Authorization": "CALC_TOKEN"}}},
		func(string) string { return "" }, slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CALC_TOKEN")
	assert.Contains(t, err.Error(), "calc")
}

func TestSlowToolTimesOut(t *testing.T) {
	ts := startServer(t)
	s := newServers(t, nil, config.MCPServer{Name: "calc", URL: ts.URL, Timeout: time.Second})
	s.Discover(t.Context())

	start := time.Now()
	_, err := s.Call(t.Context(), "calc.sleep", nil)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Contains(t, err.Error(), "MCP server calc")
	assert.Contains(t, err.Error(), "no answer within 1s")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	assert.Equal(t, "2", call(t, s, "calc.add", `{"a": 1, "b": 1}`).Text, "the server is still usable")
}
