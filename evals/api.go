package evals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/aimsg/aimsg/internal/sse"
)

// The API as the runner uses it: the routes of docs/api.md a signed-in
// user (and, to make throwaway users, a superuser) may call.

// apiClient talks to one aimsg API.
type apiClient struct {
	base string
	hc   *http.Client
}

// session is a signed-in user. It signs in again once when its token
// stops working (a run may outlast an access token).
type session struct {
	api                *apiClient
	username, password string
	userID             int64

	mu    sync.Mutex
	token string
}

// apiError is an answer the runner did not want.
type apiError struct {
	method, path string
	status       int
	detail       string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.detail)
}

// message is a stored message as the API lists it.
type message struct {
	ID        int64      `json:"id"`
	SenderID  int64      `json:"sender_id"`
	Content   string     `json:"content"`
	ParentID  *int64     `json:"parent_id"`
	Citations []Citation `json:"citations"`
}

// llmCall is an LLM call of the user's export.
type llmCall struct {
	ID          int64  `json:"id"`
	TurnID      string `json:"turn_id"`
	Agent       string `json:"agent"`
	TotalTokens int64  `json:"total_tokens"`
}

// login signs a user in with the OAuth2 password form.
func (a *apiClient) login(ctx context.Context, username, password string) (*session, error) {
	s := &session{api: a, username: username, password: password}
	if err := s.signIn(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *session) signIn(ctx context.Context) error {
	form := url.Values{"username": {s.username}, "password": {s.password}}
	var out struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	err := s.api.call(ctx, "", http.MethodPost, "/auth/login", strings.NewReader(form.Encode()),
		"application/x-www-form-urlencoded", &out, http.StatusOK)
	if err != nil {
		return fmt.Errorf("sign in as %s: %w", s.username, err)
	}
	s.mu.Lock()
	s.token, s.userID = out.AccessToken, out.User.ID
	s.mu.Unlock()
	return nil
}

// do calls the API as the session's user, with a JSON body when body is
// not nil, and decodes a JSON answer into out when out is not nil.
func (s *session) do(ctx context.Context, method, path string, body, out any, want int) error {
	for attempt := 0; ; attempt++ {
		var r io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return err
			}
			r = bytes.NewReader(b)
		}
		s.mu.Lock()
		token := s.token
		s.mu.Unlock()
		err := s.api.call(ctx, token, method, path, r, "application/json", out, want)
		if e, ok := err.(*apiError); ok && e.status == http.StatusUnauthorized && attempt == 0 {
			if err := s.signIn(ctx); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// call makes one request and checks its status.
func (a *apiClient) call(ctx context.Context, token, method, path string, body io.Reader, contentType string, out any, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return &apiError{method: method, path: path, status: resp.StatusCode, detail: detail(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// detail is the API's {"detail": ...} of an error, or the start of the body.
func detail(b []byte) string {
	var e struct {
		Detail any `json:"detail"`
	}
	if json.Unmarshal(b, &e) == nil && e.Detail != nil {
		if s, ok := e.Detail.(string); ok {
			return s
		}
		d, _ := json.Marshal(e.Detail)
		return string(d)
	}
	const max = 200
	if len(b) > max {
		b = b[:max]
	}
	return strings.TrimSpace(string(b))
}

// account is what makes a user: the admin route or registration.
type account struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type created struct {
	ID int64 `json:"id"`
}

// createUser makes a user as a superuser (POST /auth/users).
func (s *session) createUser(ctx context.Context, a account) (int64, error) {
	var u created
	err := s.do(ctx, http.MethodPost, "/auth/users", a, &u, http.StatusCreated)
	return u.ID, err
}

// register makes a user as anyone may (POST /auth/register).
func (a *apiClient) register(ctx context.Context, acc account) (int64, error) {
	b, err := json.Marshal(acc)
	if err != nil {
		return 0, err
	}
	var u created
	err = a.call(ctx, "", http.MethodPost, "/auth/register", bytes.NewReader(b), "application/json", &u, http.StatusCreated)
	return u.ID, err
}

// deleteUser erases a user as a superuser.
func (s *session) deleteUser(ctx context.Context, id int64) error {
	return s.do(ctx, http.MethodDelete, "/auth/users/"+strconv.FormatInt(id, 10), nil, nil, http.StatusOK)
}

// deleteSelf erases the session's own account.
func (s *session) deleteSelf(ctx context.Context) error {
	return s.do(ctx, http.MethodDelete, "/auth/me", map[string]string{"password": s.password}, nil, http.StatusOK)
}

// conversation is the id of the user's conversation with the assistant.
func (s *session) conversation() string { return "ai:" + strconv.FormatInt(s.userID, 10) }

// send writes into the conversation with the assistant.
func (s *session) send(ctx context.Context, text string) (message, error) {
	var m message
	err := s.do(ctx, http.MethodPost, "/auth/conversations/"+s.conversation()+"/messages",
		map[string]string{"content": text}, &m, http.StatusCreated)
	return m, err
}

// recent lists the newest messages of the conversation with the assistant.
func (s *session) recent(ctx context.Context) ([]message, error) {
	var list []message
	err := s.do(ctx, http.MethodGet, "/auth/conversations/"+s.conversation()+"/messages?limit=20", nil, &list, http.StatusOK)
	return list, err
}

// mode says who answers the conversation with the assistant: ai, or
// human (a person).
func (s *session) mode(ctx context.Context) (string, error) {
	var list []struct {
		IsAssistant bool   `json:"is_assistant"`
		Mode        string `json:"mode"`
	}
	if err := s.do(ctx, http.MethodGet, "/auth/conversations?limit=1", nil, &list, http.StatusOK); err != nil {
		return "", err
	}
	if len(list) == 0 || !list[0].IsAssistant {
		return "", fmt.Errorf("GET /auth/conversations: no conversation with the assistant listed first")
	}
	return list[0].Mode, nil
}

// llmCalls are the user's LLM calls, from their export: the one place the
// API shows a user what each turn cost and which agent made each call.
func (s *session) llmCalls(ctx context.Context) ([]llmCall, error) {
	var export struct {
		LLMCalls []llmCall `json:"llm_calls"`
	}
	err := s.do(ctx, http.MethodGet, "/auth/me/export", nil, &export, http.StatusOK)
	return export.LLMCalls, err
}

// follow opens the conversation's event stream and sends each "message"
// event on the channel it returns, until ctx ends or the stream does
// (then the channel closes). It returns once the server has subscribed
// the stream: a message sent after that is on it.
func (s *session) follow(ctx context.Context) (<-chan message, error) {
	path := "/auth/conversations/" + s.conversation() + "/events"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api.base+path, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	req.Header.Set("Authorization", "Bearer "+s.token)
	s.mu.Unlock()
	req.Header.Set("Accept", "text/event-stream")
	resp, err := s.api.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &apiError{method: http.MethodGet, path: path, status: resp.StatusCode, detail: detail(b)}
	}
	out := make(chan message, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		_ = sse.Read(resp.Body, func(ev sse.Event) {
			var m message
			if ev.Name != "message" || json.Unmarshal(ev.Data, &m) != nil {
				return
			}
			select {
			case out <- m:
			case <-ctx.Done():
			}
		})
	}()
	return out, nil
}
