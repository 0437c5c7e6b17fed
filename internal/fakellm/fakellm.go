// Package fakellm is an OpenAI-compatible chat completions server for tests
// and benchmarks: it speaks the real wire format (tool_calls included, and
// streaming: SSE "data:" chunks, the usage chunk, "[DONE]") and answers
// from a script, so the real client library is exercised end to end.
package fakellm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Message is one message of a request, as the client sent it.
type Message struct {
	Role       string     `json:"role"`
	Content    any        `json:"content"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
}

// Text is the content as a string (the client may send parts).
func (m Message) Text() string {
	switch c := m.Content.(type) {
	case string:
		return c
	case nil:
		return ""
	default:
		b, _ := json.Marshal(c)
		return string(b)
	}
}

// ToolCall is a function call, in requests and responses.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// Call builds a tool call.
func Call(id, name, args string) ToolCall {
	tc := ToolCall{ID: id, Type: "function"}
	tc.Function.Name, tc.Function.Arguments = name, args
	return tc
}

// Request is a chat completion request as received.
type Request struct {
	Model         string    `json:"model"`
	Messages      []Message `json:"messages"`
	Stream        bool      `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
}

// Last is the request's last message.
func (r Request) Last() Message { return r.Messages[len(r.Messages)-1] }

// ToolNames are the names of the tools offered.
func (r Request) ToolNames() []string {
	out := make([]string, 0, len(r.Tools))
	for _, t := range r.Tools {
		out = append(out, t.Function.Name)
	}
	return out
}

// Response is what the script answers: a status other than 200 is an API
// error; otherwise content or tool calls.
type Response struct {
	Status    int
	Content   string
	ToolCalls []ToolCall
	Delay     time.Duration
	// Chunks is how a streamed answer's content is cut (the whole content
	// in one chunk when empty); ChunkDelay comes before each chunk.
	Chunks     []string
	ChunkDelay time.Duration
	// Cut ends a streamed answer after this many chunks without finishing
	// it (the connection closes), when above zero.
	Cut int
	// Stall pauses a streamed answer, when above zero, after its first
	// StallAfter chunks of content (0: before the first; their number or
	// more: before the finish), with the connection open and silent.
	StallAfter int
	Stall      time.Duration
}

// Script decides the answer to the n-th request (from 0).
type Script func(n int, req Request) Response

// Server is a running fake.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	script   Script
	requests []Request
	onChunk  func(req Request, i int)
	// audio answers /v1/audio/transcriptions (transcriptions.go).
	audio transcriber
}

// OnChunk calls f as each piece of a streamed answer's content is about
// to be sent (i from 0), for measuring what the client sees against it.
func (s *Server) OnChunk(f func(req Request, i int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChunk = f
}

// Start serves script until the test ends; BaseURL goes to LITELLM_BASEURL.
func Start(script Script) *Server {
	s := &Server{script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// BaseURL is the OpenAI-style base URL of the fake.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// SetScript replaces the script.
func (s *Server) SetScript(script Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = script
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == transcriptionsPath {
		s.audio.handle(w, r)
		return
	}
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var req Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	script := s.script
	s.mu.Unlock()

	resp := script(n, req)
	if resp.Delay > 0 {
		select {
		case <-time.After(resp.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if resp.Status != 0 && resp.Status != http.StatusOK {
		writeError(w, resp.Status, "server_error", fmt.Sprintf("scripted failure %d", resp.Status))
		return
	}
	if req.Stream {
		s.stream(w, r, n, req, resp)
		return
	}
	finish := "stop"
	msg := map[string]any{"role": "assistant", "content": resp.Content}
	if len(resp.ToolCalls) > 0 {
		finish = "tool_calls"
		msg["content"] = nil
		msg["tool_calls"] = resp.ToolCalls
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": time.Now().Unix(),
		"model":   req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   usage,
	})
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

// Echo answers every request with "echo: " and the last message.
func Echo(_ int, req Request) Response {
	return Response{Content: "echo: " + req.Last().Text()}
}

// usage is what every answer reports it cost.
var usage = map[string]any{"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}

// stream answers as the API does with "stream": true: one chunk per piece
// of content, the tool calls, the finish reason, the usage when asked,
// then [DONE].
func (s *Server) stream(w http.ResponseWriter, r *http.Request, n int, req Request, resp Response) {
	s.mu.Lock()
	onChunk := s.onChunk
	s.mu.Unlock()
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	id, created := fmt.Sprintf("chatcmpl-%d", n), time.Now().Unix()
	send := func(choices []any, extra map[string]any) {
		chunk := map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": req.Model, "choices": choices}
		for k, v := range extra {
			chunk[k] = v
		}
		b, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "finish_reason": finish}}
	}
	send(delta(map[string]any{"role": "assistant", "content": ""}, nil), nil)
	chunks := resp.Chunks
	if len(chunks) == 0 && resp.Content != "" {
		chunks = []string{resp.Content}
	}
	// wait pauses for d; false when the client went away meanwhile.
	wait := func(d time.Duration) bool {
		if d <= 0 {
			return true
		}
		select {
		case <-time.After(d):
			return true
		case <-r.Context().Done():
			return false
		}
	}
	for i, c := range chunks {
		if resp.Cut > 0 && i == resp.Cut {
			return
		}
		if resp.Stall > 0 && i == resp.StallAfter && !wait(resp.Stall) {
			return
		}
		if !wait(resp.ChunkDelay) {
			return
		}
		if onChunk != nil {
			onChunk(req, i)
		}
		send(delta(map[string]any{"content": c}, nil), nil)
	}
	if resp.Stall > 0 && resp.StallAfter >= len(chunks) && !wait(resp.Stall) {
		return
	}
	finish := "stop"
	if len(resp.ToolCalls) > 0 {
		finish = "tool_calls"
		calls := make([]any, 0, len(resp.ToolCalls))
		for i, tc := range resp.ToolCalls {
			calls = append(calls, map[string]any{"index": i, "id": tc.ID, "type": "function",
				"function": map[string]any{"name": tc.Function.Name, "arguments": tc.Function.Arguments}})
		}
		send(delta(map[string]any{"tool_calls": calls}, nil), nil)
	}
	send(delta(map[string]any{}, finish), nil)
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		send([]any{}, map[string]any{"usage": usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}
