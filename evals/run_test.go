package evals

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAPI answers the routes the runner calls the way aimsg does, with an
// assistant that answers at once: "echo: <text>" after two LLM calls of
// 28 tokens (general, then billing for a text about a bill); "silent"
// gets no answer; "person" is told one will come, and the conversation
// goes to a person shortly after, as the conversation's workflow does.
type fakeAPI struct {
	t        *testing.T
	noStream bool
	// registrations is how many the address may make (-1: no limit).
	registrations int
	// gate, when above one, holds every answer until that many users
	// were alive at once: a runner that does not run cases side by side
	// gets no answer.
	gate   int
	opened chan struct{}

	mu       sync.Mutex
	nextID   int64
	users    map[string]*fakeUser
	tokens   map[string]*fakeUser
	alive    int
	maxAlive int
	// outOfOrder counts messages sent before the one before was answered.
	outOfOrder int
}

type fakeUser struct {
	id          int64
	name, pw    string
	superuser   bool
	mode        string
	msgs        []message
	calls       []llmCall
	subscribers []chan message
}

func newFakeAPI(t *testing.T) (*fakeAPI, string) {
	f := &fakeAPI{t: t, registrations: -1, users: map[string]*fakeUser{}, tokens: map[string]*fakeUser{}, opened: make(chan struct{})}
	f.users["root"] = &fakeUser{id: 1, name: "root", pw: "root-password", superuser: true, mode: "ai"}
	f.users["plain"] = &fakeUser{id: 2, name: "plain", pw: "plain-password", mode: "ai"}
	f.nextID = 10
	srv := httptest.NewServer(f.routes())
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, map[string]string{"message": "hello"})
	})
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		u := f.users[r.FormValue("username")]
		if u == nil || u.pw != r.FormValue("password") {
			writeJSON(w, 401, map[string]string{"detail": "Incorrect username or password"})
			return
		}
		token := fmt.Sprintf("t%d", f.id())
		f.tokens[token] = u
		writeJSON(w, 200, map[string]any{"access_token": token, "user": map[string]any{"id": u.id}})
	})
	mux.HandleFunc("GET /auth/me", f.auth(func(w http.ResponseWriter, _ *http.Request, u *fakeUser) {
		writeJSON(w, 200, map[string]any{"id": u.id, "is_superuser": u.superuser})
	}))
	mux.HandleFunc("POST /auth/users", f.auth(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		if !u.superuser {
			writeJSON(w, 403, map[string]string{"detail": "Not enough permissions"})
			return
		}
		f.create(w, r)
	}))
	mux.HandleFunc("POST /auth/register", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.registrations == 0 {
			writeJSON(w, 429, map[string]string{"detail": "Too many registrations from this address; try again later"})
			return
		}
		f.registrations--
		f.create(w, r)
	})
	mux.HandleFunc("DELETE /auth/users/{id}", f.auth(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if !u.superuser || !f.drop(id) {
			writeJSON(w, 404, map[string]string{"detail": "Not found"})
			return
		}
		writeJSON(w, 200, map[string]string{"message": "deleted"})
	}))
	mux.HandleFunc("DELETE /auth/me", f.auth(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		var in struct{ Password string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.Password != u.pw || !f.drop(u.id) {
			writeJSON(w, 400, map[string]string{"detail": "Password is incorrect"})
			return
		}
		writeJSON(w, 200, map[string]string{"message": "deleted"})
	}))
	mux.HandleFunc("GET /auth/conversations", f.auth(func(w http.ResponseWriter, _ *http.Request, u *fakeUser) {
		writeJSON(w, 200, []map[string]any{{"is_assistant": true, "mode": u.mode}})
	}))
	mux.HandleFunc("GET /auth/me/export", f.auth(func(w http.ResponseWriter, _ *http.Request, u *fakeUser) {
		writeJSON(w, 200, map[string]any{"llm_calls": u.calls})
	}))
	mux.HandleFunc("POST /auth/conversations/{conv}/messages", f.own(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		var in struct{ Content string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if n := len(u.msgs); n > 0 && u.msgs[n-1].SenderID == u.id {
			f.outOfOrder++
		}
		m := message{ID: f.id(), SenderID: u.id, Content: in.Content}
		f.add(u, m)
		writeJSON(w, 201, m)
		go f.answer(u, m)
	}))
	mux.HandleFunc("GET /auth/conversations/{conv}/messages", f.own(func(w http.ResponseWriter, _ *http.Request, u *fakeUser) {
		out := []message{}
		for i := len(u.msgs) - 1; i >= 0; i-- {
			out = append(out, u.msgs[i])
		}
		writeJSON(w, 200, out)
	}))
	mux.HandleFunc("GET /auth/conversations/{conv}/events", f.own(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		if f.noStream {
			writeJSON(w, 429, map[string]string{"detail": "Too many open streams"})
			return
		}
		ch := make(chan message, 16)
		u.subscribers = append(u.subscribers, ch)
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = w.Write([]byte("retry: 2000\n\n"))
		w.(http.Flusher).Flush()
		f.mu.Unlock()
		defer f.mu.Lock() // own unlocks after the handler
		for {
			select {
			case m := <-ch:
				b, _ := json.Marshal(m)
				_, _ = fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, b)
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			}
		}
	}))
	return mux
}

// auth runs h as the bearer token's user, with the lock held.
func (f *fakeAPI) auth(h func(http.ResponseWriter, *http.Request, *fakeUser)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		u := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if u == nil {
			writeJSON(w, 401, map[string]string{"detail": "Could not validate credentials"})
			return
		}
		h(w, r, u)
	}
}

// own is auth for the user's own conversation with the assistant.
func (f *fakeAPI) own(h func(http.ResponseWriter, *http.Request, *fakeUser)) http.HandlerFunc {
	return f.auth(func(w http.ResponseWriter, r *http.Request, u *fakeUser) {
		if r.PathValue("conv") != "ai:"+strconv.FormatInt(u.id, 10) {
			writeJSON(w, 404, map[string]string{"detail": "Conversation not found"})
			return
		}
		h(w, r, u)
	})
}

func (f *fakeAPI) id() int64 { f.nextID++; return f.nextID }

// create makes a user; the lock is held.
func (f *fakeAPI) create(w http.ResponseWriter, r *http.Request) {
	var in account
	_ = json.NewDecoder(r.Body).Decode(&in)
	if f.users[in.Username] != nil || len(in.Password) < 8 || !strings.Contains(in.Email, "@") {
		writeJSON(w, 409, map[string]string{"detail": "taken"})
		return
	}
	u := &fakeUser{id: f.id(), name: in.Username, pw: in.Password, mode: "ai"}
	f.users[u.name] = u
	f.alive++
	if f.alive > f.maxAlive {
		f.maxAlive = f.alive
		if f.maxAlive == f.gate {
			close(f.opened)
		}
	}
	writeJSON(w, 201, map[string]any{"id": u.id})
}

// drop deletes a user; the lock is held.
func (f *fakeAPI) drop(id int64) bool {
	for name, u := range f.users {
		if u.id == id {
			delete(f.users, name)
			f.alive--
			return true
		}
	}
	return false
}

// add stores a message and pushes it to the streams; the lock is held.
func (f *fakeAPI) add(u *fakeUser, m message) {
	u.msgs = append(u.msgs, m)
	for _, ch := range u.subscribers {
		select {
		case ch <- m:
		default:
		}
	}
}

func (f *fakeAPI) answer(u *fakeUser, in message) {
	if in.Content == "silent" {
		return
	}
	if f.gate > 1 {
		<-f.opened
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	turn := "turn/" + strconv.FormatInt(in.ID, 10)
	agents := []string{"general", "general"}
	if strings.Contains(in.Content, "bill") {
		agents[1] = "billing"
	}
	for _, a := range agents {
		u.calls = append(u.calls, llmCall{ID: f.id(), TurnID: turn, Agent: a, TotalTokens: 28})
	}
	parent := in.ID
	reply := message{ID: f.id(), SenderID: 3, ParentID: &parent, Content: "echo: " + in.Content}
	if strings.Contains(in.Content, "person") {
		reply.Content = "A person will answer you here."
		time.AfterFunc(50*time.Millisecond, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			u.mode = "human"
		})
	}
	f.add(u, reply)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func mustParse(t *testing.T, yaml string) *Suite {
	t.Helper()
	s, err := Parse([]byte(yaml))
	require.NoError(t, err)
	return s
}

var root = &Credentials{Username: "root", Password: "root-password"}

func TestRunPlaysEachCaseInAFreshConversationAtMostParallelAtOnce(t *testing.T) {
	for _, stream := range []bool{true, false} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			f, url := newFakeAPI(t)
			f.noStream, f.gate = !stream, 2
			var yaml strings.Builder
			for i := range 6 {
				fmt.Fprintf(&yaml, "- name: c%d\n  messages: [hello, about my bill]\n  expect: {contains: \"ECHO: about\", transfers_to: billing, max_tokens: 56}\n", i)
			}
			report, err := Run(context.Background(), mustParse(t, yaml.String()),
				Options{API: url + "/", Admin: root, Parallel: 2, Poll: 20 * time.Millisecond, Timeout: 10 * time.Second})
			require.NoError(t, err)
			assert.Equal(t, 6, report.Total)
			assert.Equal(t, 6, report.Passed)
			assert.InDelta(t, 1.0, report.PassRate, 1e-9)
			assert.EqualValues(t, 6*2*56, report.Tokens)
			users := map[string]bool{}
			for i, c := range report.Cases {
				assert.Equal(t, fmt.Sprintf("c%d", i), c.Name, "in the suite's order")
				assert.True(t, c.Passed, c.Failures)
				require.Len(t, c.Turns, 2)
				assert.Equal(t, "echo: hello", c.Turns[0].Reply)
				assert.Equal(t, []string{"general", "billing"}, c.Turns[1].Agents)
				assert.EqualValues(t, 56, c.Tokens)
				users[c.User] = true
			}
			assert.Len(t, users, 6, "a user per case")
			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Equal(t, 2, f.maxAlive, "at most --parallel cases at once")
			assert.Zero(t, f.alive, "every throwaway user deleted")
			assert.Zero(t, f.outOfOrder, "each message waits for the reply to the one before")
		})
	}
}

func TestACaseWithoutAReplyFailsAlone(t *testing.T) {
	_, url := newFakeAPI(t)
	report, err := Run(context.Background(), mustParse(t, `
- {name: quiet, messages: [hello, silent, never sent]}
- {name: fine, messages: [hello]}
`), Options{API: url, Admin: root, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, []string{"message 2: no reply within the case's timeout (300ms)"}, report.Cases[0].Failures)
	assert.Len(t, report.Cases[0].Turns, 1)
	assert.True(t, report.Cases[1].Passed)
	assert.InDelta(t, 0.5, report.PassRate, 1e-9)
}

func TestHandsOffIsReadFromTheConversationsMode(t *testing.T) {
	_, url := newFakeAPI(t)
	report, err := Run(context.Background(), mustParse(t, `
- {name: wanted, messages: [a person please], expect: {hands_off: true}}
- {name: unwanted, messages: [a person please], expect: {hands_off: false}}
- {name: none, messages: [hello], expect: {hands_off: false}}
- {name: missing, messages: [hello], expect: {hands_off: true}}
`), Options{API: url, Admin: root, Settle: 300 * time.Millisecond, Timeout: time.Second})
	require.NoError(t, err)
	want := map[string][]string{"wanted": nil, "unwanted": {"handed off to a person"}, "none": nil,
		"missing": {"not handed off to a person"}}
	for _, c := range report.Cases {
		assert.Equal(t, want[c.Name], c.Failures, c.Name)
		require.NotNil(t, c.HandedOff, c.Name)
	}
}

func TestRunNeedsASuperuserOrRegistration(t *testing.T) {
	f, url := newFakeAPI(t)
	suite := mustParse(t, `[{name: a, messages: [hello]}, {name: b, messages: [hello]}]`)
	_, err := Run(context.Background(), suite, Options{API: url, Admin: &Credentials{Username: "plain", Password: "plain-password"}})
	assert.ErrorContains(t, err, "plain is not a superuser")
	_, err = Run(context.Background(), suite, Options{API: url, Admin: &Credentials{Username: "root", Password: "wrong"}})
	assert.ErrorContains(t, err, "sign in as root: POST /auth/login: 401 Incorrect username or password")
	_, err = Run(context.Background(), suite, Options{API: url + "/nothing-here", Admin: root})
	assert.ErrorContains(t, err, "the API at "+url+"/nothing-here does not answer: GET /: 404")

	// Registered users delete themselves; past the address's limit a
	// case says why it could not run.
	f.registrations = 1
	report, err := Run(context.Background(), suite, Options{API: url, Parallel: 1})
	require.NoError(t, err)
	assert.True(t, report.Cases[0].Passed, report.Cases[0].Failures)
	require.Len(t, report.Cases[1].Failures, 1)
	assert.Contains(t, report.Cases[1].Failures[0], "no user for the case: POST /auth/register: 429 Too many registrations")
	assert.Contains(t, report.Cases[1].Failures[0], "REGISTRATIONS_PER_ADDRESS")
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Zero(t, f.alive)
}

func TestASessionSignsInAgainWhenItsTokenStops(t *testing.T) {
	f, url := newFakeAPI(t)
	s, err := (&apiClient{base: url, hc: http.DefaultClient}).login(context.Background(), "root", "root-password")
	require.NoError(t, err)
	f.mu.Lock()
	clear(f.tokens) // expired
	f.mu.Unlock()
	require.NoError(t, s.do(context.Background(), "GET", "/auth/me", nil, nil, 200))
}
