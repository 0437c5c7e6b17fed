// Package faketelegram is a Telegram Bot API server for tests: sendMessage,
// setWebhook and getFile in the wire format of the Bot API (form posts,
// {"ok": ...} answers, error_code and retry_after), with scripted
// failures, and the files getFile names (AddFile).
package faketelegram

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Sent is a message the bot sent.
type Sent struct {
	ChatID int64
	Text   string
}

// Response is the script's answer to the n-th sendMessage: zero is
// success; Code is an error (429 with RetryAfter seconds).
type Response struct {
	Code       int
	RetryAfter int
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	Token   string
	mu      sync.Mutex
	script  func(n int) Response
	calls   int
	sent    []Sent
	webhook map[string]string
	actions []Action
	// files are the files getFile knows (files.go), by file id.
	files map[string]File
}

// Start serves the fake for a bot token.
func Start(token string, script func(n int) Response) *Server {
	if script == nil {
		script = func(int) Response { return Response{} }
	}
	s := &Server{Token: token, script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Sent returns the messages sent.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Calls counts sendMessage requests.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Action is a chat action the bot showed (sendChatAction).
type Action struct {
	ChatID int64
	Action string
}

// Actions returns the chat actions shown.
func (s *Server) Actions() []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Action(nil), s.actions...)
}

// Webhook is what setWebhook last received.
func (s *Server) Webhook() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if filePath, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.Token+"/"); ok {
		s.download(w, r, filePath)
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+s.Token+"/")
	if !ok {
		answer(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	if err := r.ParseForm(); err != nil {
		answer(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "bad form"})
		return
	}
	switch method {
	case "getMe":
		answer(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{"id": 1, "is_bot": true, "username": "aimsg_test_bot"}})
	case "setWebhook":
		s.mu.Lock()
		s.webhook = map[string]string{}
		for k := range r.PostForm {
			s.webhook[k] = r.PostForm.Get(k)
		}
		s.mu.Unlock()
		answer(w, http.StatusOK, map[string]any{"ok": true, "result": true, "description": "Webhook was set"})
	case "sendMessage":
		s.send(w, r)
	case "getFile":
		s.getFile(w, r)
	case "sendChatAction":
		chatID, _ := strconv.ParseInt(r.PostForm.Get("chat_id"), 10, 64)
		s.mu.Lock()
		s.actions = append(s.actions, Action{ChatID: chatID, Action: r.PostForm.Get("action")})
		s.mu.Unlock()
		answer(w, http.StatusOK, map[string]any{"ok": true, "result": true})
	default:
		answer(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	chatID, _ := strconv.ParseInt(r.PostForm.Get("chat_id"), 10, 64)
	s.mu.Lock()
	resp := s.script(s.calls)
	s.calls++
	if resp.Code == 0 {
		s.sent = append(s.sent, Sent{ChatID: chatID, Text: r.PostForm.Get("text")})
	}
	id := len(s.sent)
	s.mu.Unlock()
	if resp.Code != 0 {
		body := map[string]any{"ok": false, "error_code": resp.Code, "description": "scripted failure"}
		if resp.RetryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": resp.RetryAfter}
		}
		answer(w, resp.Code, body)
		return
	}
	answer(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
		"message_id": id, "date": 0, "chat": map[string]any{"id": chatID, "type": "private"}, "text": r.PostForm.Get("text"),
	}})
}

func answer(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
