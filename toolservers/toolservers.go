// Package toolservers gives the worker the tools of the MCP servers named in
// MCP_SERVERS: it lists them (Discover, then Watch), says which exist
// (Tools, Known) and calls them (Call). The worker uses it; agents name
// these tools "<server>.<tool>".
//
// A tool's own failure comes back as a Result with IsError set, for the
// LLM to read; a Go error means the server could not be asked (down, too
// slow, refused the connection), for the caller's retry policy.
//
// One session per server is kept and reused; a server that lost it (a
// restart) is asked again on a new one. A server that cannot be listed
// keeps the tools it last listed, none before its first listing: a blip
// does not make agents' tools unknown, and a call to a server that is
// down fails on its own.
package toolservers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aimsg/aimsg/config"
)

// MaxResultBytes bounds the text of a call's result handed to the LLM.
const MaxResultBytes = 16 << 10

// RefreshEvery is how often Watch lists the servers' tools again.
const RefreshEvery = 5 * time.Minute

// ErrUnknownTool is a call of a name that is no enabled tool of a
// configured server.
var ErrUnknownTool = errors.New("unknown tool")

// Tool is a tool of an MCP server, as offered to the LLM.
type Tool struct {
	// Name is "<server>.<tool>".
	Name        string
	Server      string
	Description string
	// InputSchema is the JSON schema of its arguments (an object).
	InputSchema json.RawMessage
}

// Result is what a tool answered.
type Result struct {
	// Text is its content, text parts as they are, other parts described.
	Text string
	// IsError says the tool failed; Text says why.
	IsError bool
	// Truncated says Text was cut to MaxResultBytes.
	Truncated bool
}

// Servers are the configured MCP servers and the tools last listed from them.
type Servers struct {
	log     *slog.Logger
	servers map[string]*server

	mu    sync.RWMutex
	tools map[string]Tool // by Name, of every server
}

// server is one MCP server and its session.
type server struct {
	name    string
	url     string
	timeout time.Duration
	allowed map[string]bool // nil: every tool
	http    *http.Client
	client  *mcp.Client

	mu      sync.Mutex
	session *mcp.ClientSession
	tools   []Tool // last listed, enabled only
	listed  bool   // once listed
}

// New prepares the servers; it connects to none. Each header's value is
// read from the environment variable the configuration names: one that is
// unset is an error naming it.
func New(servers []config.MCPServer, getenv func(string) string, log *slog.Logger) (*Servers, error) {
	s := &Servers{log: log, servers: map[string]*server{}, tools: map[string]Tool{}}
	var errs []error
	for _, c := range servers {
		headers := http.Header{}
		for h, env := range c.Headers {
			v := strings.TrimSpace(getenv(env))
			if v == "" {
				errs = append(errs, fmt.Errorf("MCP server %s: header %s: environment variable %s is not set", c.Name, h, env))
				continue
			}
			headers.Set(h, v)
		}
		srv := &server{
			name:    c.Name,
			url:     c.URL,
			timeout: c.Timeout,
			http:    &http.Client{Transport: &withHeaders{base: http.DefaultTransport, headers: headers}},
			client:  mcp.NewClient(&mcp.Implementation{Name: "aimsg", Version: "1"}, nil),
		}
		if c.Tools != nil {
			srv.allowed = map[string]bool{}
			for _, t := range c.Tools {
				srv.allowed[t] = true
			}
		}
		s.servers[c.Name] = srv
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// Discover lists every server's tools now, all at once, each within its
// timeout, and returns when all have answered or timed out. A server that
// fails is logged and keeps its last list; it fails nothing else.
func (s *Servers) Discover(ctx context.Context) {
	var wg sync.WaitGroup
	for _, srv := range s.servers {
		wg.Go(func() {
			n, changed, err := srv.discover(ctx, s.log)
			switch {
			case err != nil && ctx.Err() != nil:
				// Stopping: not the server's failure.
			case err != nil:
				s.log.Warn("MCP server not listed; its tools stay as they were", "server", srv.name, "error", err)
			case changed:
				s.log.Info("MCP server's tools listed", "server", srv.name, "tools", n)
			default:
				s.log.Debug("MCP server's tools unchanged", "server", srv.name, "tools", n)
			}
		})
	}
	wg.Wait()
	tools := map[string]Tool{}
	for _, srv := range s.servers {
		srv.mu.Lock()
		for _, t := range srv.tools {
			tools[t.Name] = t
		}
		srv.mu.Unlock()
	}
	s.mu.Lock()
	s.tools = tools
	s.mu.Unlock()
}

// Watch runs Discover every interval (RefreshEvery in production) until
// ctx ends, so that tools added to a server, and servers that were down,
// appear without a restart. It does not discover at once: call Discover
// first.
func (s *Servers) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Discover(ctx)
		}
	}
}

// Tools are the enabled tools last listed, by name.
func (s *Servers) Tools() []Tool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Tool, 0, len(s.tools))
	for _, name := range slices.Sorted(maps.Keys(s.tools)) {
		out = append(out, s.tools[name])
	}
	return out
}

// Known says whether name is an enabled tool last listed by its server;
// s.Known fits domain.ToolKnown.
func (s *Servers) Known(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.tools[name]
	return ok
}

// Call calls the tool name ("<server>.<tool>") with args (a JSON object)
// within the server's timeout. The tool need not have been listed, but
// its server must be configured and the tool enabled there.
func (s *Servers) Call(ctx context.Context, name string, args json.RawMessage) (Result, error) {
	serverName, tool, _ := strings.Cut(name, ".")
	srv := s.servers[serverName]
	if srv == nil || tool == "" || (srv.allowed != nil && !srv.allowed[tool]) {
		return Result{}, fmt.Errorf("call %q: %w", name, ErrUnknownTool)
	}
	// Bad arguments are the LLM's to fix, so they come back as the tool's error.
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("{}")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(args, &obj); err != nil {
		return Result{IsError: true, Text: "the arguments must be a JSON object: " + err.Error()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, srv.timeout)
	defer cancel()
	var res *mcp.CallToolResult
	err := srv.do(ctx, func(cs *mcp.ClientSession) (err error) {
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		return err
	})
	var refused *refusal
	if errors.As(err, &refused) {
		return cut(Result{IsError: true, Text: "MCP server " + srv.name + " refused the call: " + refused.Error()}), nil
	}
	if err != nil {
		return Result{}, srv.failed(ctx, "call "+tool, err)
	}
	return cut(Result{Text: text(res), IsError: res.IsError}), nil
}

// Close ends the sessions with the servers.
func (s *Servers) Close() error {
	var errs []error
	for _, srv := range s.servers {
		srv.mu.Lock()
		cs := srv.session
		srv.session = nil
		srv.mu.Unlock()
		if cs != nil {
			if err := cs.Close(); err != nil {
				errs = append(errs, fmt.Errorf("MCP server %s: close: %w", srv.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// toolName is the form the MCP specification gives tool names; others
// could not be named by agents nor passed to an LLM.
var toolName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// discover lists the server's tools into srv.tools, counts them and says
// whether their names changed.
func (srv *server) discover(ctx context.Context, log *slog.Logger) (int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, srv.timeout)
	defer cancel()
	var listed []*mcp.Tool
	err := srv.do(ctx, func(cs *mcp.ClientSession) error {
		listed = nil
		for t, err := range cs.Tools(ctx, nil) {
			if err != nil {
				return err
			}
			listed = append(listed, t)
		}
		return nil
	})
	if err != nil {
		return 0, false, srv.failed(ctx, "list tools", err)
	}
	var tools []Tool
	seen := map[string]bool{}
	for _, t := range listed {
		switch {
		case !toolName.MatchString(t.Name):
			log.Warn("MCP tool skipped: its name is not one the MCP specification allows", "server", srv.name, "tool", t.Name)
			continue
		case srv.allowed != nil && !srv.allowed[t.Name]:
			continue
		}
		schema := json.RawMessage(`{"type":"object"}`)
		if t.InputSchema != nil {
			b, err := json.Marshal(t.InputSchema)
			if err != nil {
				return 0, false, fmt.Errorf("MCP server %s: tool %s: input schema: %w", srv.name, t.Name, err)
			}
			schema = b
		}
		seen[t.Name] = true
		tools = append(tools, Tool{Name: srv.name + "." + t.Name, Server: srv.name, Description: t.Description, InputSchema: schema})
	}
	for t := range srv.allowed {
		if !seen[t] {
			log.Warn("MCP tool enabled in MCP_SERVERS is not offered by its server", "server", srv.name, "tool", t)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	changed := !srv.listed || !slices.EqualFunc(srv.tools, tools, func(a, b Tool) bool { return a.Name == b.Name })
	srv.tools, srv.listed = tools, true
	return len(tools), changed, nil
}

// do runs f on the server's session, connecting first if there is none.
// A session the server no longer knows (it restarted) is replaced and f
// runs again: the server turned the request away unread, so a tool runs
// at most once.
func (srv *server) do(ctx context.Context, f func(*mcp.ClientSession) error) error {
	for try := 0; ; try++ {
		cs, err := srv.connect(ctx)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		err = f(cs)
		if err == nil {
			return nil
		}
		if r := answer(ctx, err); r != nil {
			return r
		}
		// Any other failure may have left the session broken: the next
		// request starts a new one.
		srv.drop(cs)
		if !errors.Is(err, mcp.ErrSessionMissing) || try > 0 {
			return err
		}
	}
}

// connect returns the server's session, opening one if there is none.
func (srv *server) connect(ctx context.Context) (*mcp.ClientSession, error) {
	srv.mu.Lock()
	cs := srv.session
	srv.mu.Unlock()
	if cs != nil {
		return cs, nil
	}
	// Connected without the lock, so a slow server does not hold up
	// callers whose context ends sooner.
	cs, err := srv.client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   srv.url,
		HTTPClient: srv.http,
		// Only answers to our requests are needed: no stream kept open.
		DisableStandaloneSSE: true,
	}, nil)
	if err != nil {
		return nil, err
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.session != nil {
		go cs.Close()
		return srv.session, nil
	}
	srv.session = cs
	return cs, nil
}

// drop forgets cs, if it is still the server's session, and closes it.
func (srv *server) drop(cs *mcp.ClientSession) {
	srv.mu.Lock()
	if srv.session == cs {
		srv.session = nil
	}
	srv.mu.Unlock()
	// Closing tells the server, which may be the one not answering.
	go cs.Close()
}

// failed wraps a failure to reach the server, naming it.
func (srv *server) failed(ctx context.Context, what string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("MCP server %s: %s: no answer within %s: %w", srv.name, what, srv.timeout, err)
	}
	return fmt.Errorf("MCP server %s: %s: %w", srv.name, what, err)
}

// codeRejected is the JSON-RPC code the SDK gives a request its transport
// could not deliver or the server's HTTP layer turned away.
const codeRejected = -32005

// refusal is the server's JSON-RPC error answer to a request (an unknown
// tool, invalid arguments): the server works, the request does not.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// answer is err as a refusal if it is the server's answer, else nil.
func answer(ctx context.Context, err error) *refusal {
	var we *jsonrpc.Error
	if ctx.Err() != nil || errors.Is(err, &jsonrpc.Error{Code: codeRejected}) ||
		errors.Is(err, mcp.ErrConnectionClosed) || !errors.As(err, &we) {
		return nil
	}
	return &refusal{msg: we.Message}
}

// text joins the content parts of a result, describing those that are
// not text; a result with only structured content gives its JSON.
func text(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, c.Text)
		case *mcp.ImageContent:
			parts = append(parts, "[image: "+c.MIMEType+"]")
		case *mcp.AudioContent:
			parts = append(parts, "[audio: "+c.MIMEType+"]")
		case *mcp.ResourceLink:
			parts = append(parts, "[resource: "+c.URI+"]")
		case *mcp.EmbeddedResource:
			if r := c.Resource; r != nil && r.Text != "" {
				parts = append(parts, r.Text)
			} else if r != nil {
				parts = append(parts, "[resource: "+r.URI+"]")
			}
		default:
			parts = append(parts, fmt.Sprintf("[%T]", c))
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			return string(b)
		}
	}
	return strings.Join(parts, "\n")
}

// cut shortens r.Text to MaxResultBytes, note included, at a rune's start.
func cut(r Result) Result {
	if len(r.Text) <= MaxResultBytes {
		return r
	}
	note := fmt.Sprintf("\n[cut: the result was %d bytes, only the first part is shown]", len(r.Text))
	end := MaxResultBytes - len(note)
	for end > 0 && !utf8.RuneStart(r.Text[end]) {
		end--
	}
	r.Text = r.Text[:end] + note
	r.Truncated = true
	return r
}

// withHeaders adds the configured headers to every request to a server.
type withHeaders struct {
	base    http.RoundTripper
	headers http.Header
}

func (t *withHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.headers) == 0 {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	for h, v := range t.headers {
		req.Header[h] = v
	}
	return t.base.RoundTrip(req)
}

// Configured says whether name ("server.tool") may be a tool of one of
// servers, by the configuration alone: its server is configured and, if
// the server lists its tools, the tool is among them. It checks agents'
// definitions where the servers are not reachable (the API, the CLI).
func Configured(servers []config.MCPServer, name string) bool {
	server, tool, ok := strings.Cut(name, ".")
	if !ok || tool == "" {
		return false
	}
	for _, s := range servers {
		if s.Name == server {
			return s.Tools == nil || slices.Contains(s.Tools, tool)
		}
	}
	return false
}
