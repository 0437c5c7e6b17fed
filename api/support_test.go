package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// agent registers a user and gives them the built-in agent role.
func (hs *harness) agent(username string) tokens {
	hs.t.Helper()
	tk := hs.user(username)
	testenv.MakeAgent(hs.t, hs.db, tk.UserID())
	return tk
}

// Every /support route: users are refused, agents and superusers served,
// strangers asked to sign in. Agents do not administer users or roles.
func TestSupportPermissionMatrix(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		agent := hs.agent("dana")
		hs.send(c.alice, assistantID(hs), "hello AI")
		conv := "/support/conversations/" + domain.AIConversationID(c.aliceID)
		people := []tokens{c.bob, agent, c.root, {}}
		names := []string{"user", "agent", "superuser", "anonymous"}
		for _, tc := range []struct {
			method, path string
			body         any
			want         []int // user, agent, superuser, anonymous
		}{
			{"GET", "/support/conversations", nil, []int{403, 200, 200, 401}},
			{"GET", "/support/conversations?mode=human", nil, []int{403, 200, 200, 401}},
			{"GET", conv + "/messages", nil, []int{403, 200, 200, 401}},
			{"POST", conv + "/messages", map[string]any{"content": "a person here"}, []int{403, 201, 201, 401}},
			{"POST", conv + "/takeover", nil, []int{403, 202, 202, 401}},
			{"POST", conv + "/resume", map[string]any{"reason": "done"}, []int{403, 202, 202, 401}},
			{"GET", "/auth/users", nil, []int{403, 403, 200, 401}},
			{"GET", "/auth/roles", nil, []int{403, 403, 200, 401}},
			{"PUT", "/auth/users/" + itoa(c.bobID) + "/roles", map[string]any{"role_ids": []int64{}}, []int{403, 403, 200, 401}},
		} {
			for i, tk := range people {
				w := hs.call(tc.method, tc.path, tc.body, tk.AccessToken)
				assert.Equal(t, tc.want[i], w.Code, "%s %s as %s: %s", tc.method, tc.path, names[i], w.Body.String())
			}
		}
		for i, want := range [][]any{{}, {"support", "triage_reports", "knowledge"}, {"support", "triage_reports", "knowledge"}} {
			w := hs.call("GET", "/auth/me/permissions", nil, people[i].AccessToken)
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, map[string]any{"permissions": want}, decode(t, w), names[i])
		}
		// The streams (answered before any event: the status is the point).
		for i, tk := range people {
			want := []int{403, 200, 200, 401}[i]
			for _, path := range []string{"/support/events", conv + "/events"} {
				w := hs.stream(path, tk.AccessToken)
				assert.Equal(t, want, w, "GET %s as %s", path, names[i])
			}
		}
	})
}

// What the routes send the conversation's workflow, and what they refuse.
func TestSupportRoutesSignalTheConversation(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	tp := &fakeTemporal{}
	hs.h = newAPI(t, hs.cfg, hs.db, apiParts{temporal: tp})
	c := newCast(hs)
	agent := hs.agent("dana")
	conv := domain.AIConversationID(c.aliceID)
	base := "/support/conversations/" + conv

	w := hs.call("POST", base+"/takeover", map[string]any{"reason": "angry customer"}, agent.AccessToken)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, map[string]any{"conversation_id": conv, "mode": "human", "agent_id": float64(userID(agent))}, decode(t, w))
	w = hs.call("POST", base+"/messages", map[string]any{"content": "Hello, I am Dana."}, agent.AccessToken)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	reply := decode(t, w)
	assert.EqualValues(t, userID(agent), reply["agent_id"])
	assert.EqualValues(t, c.aliceID, reply["recipient_id"])
	assert.Equal(t, "web", reply["channel"], "alice never wrote from elsewhere")
	require.Equal(t, http.StatusAccepted, hs.call("POST", base+"/resume", nil, agent.AccessToken).Code)

	got := tp.otherSignals()
	require.Len(t, got, 3, "each request signalled before it was answered, in order")
	wf := workflows.ConversationWorkflowID(conv)
	assert.Equal(t, signal{name: workflows.ModeSignal, workflowID: wf,
		arg: workflows.ModeRequest{Mode: "human", Reason: "angry customer", AgentID: userID(agent)}}, got[0])
	assert.Equal(t, signal{name: workflows.AgentReplySignal, workflowID: wf,
		arg: workflows.AgentReply{MessageID: id(reply), AgentID: userID(agent)}}, got[1])
	assert.Equal(t, signal{name: workflows.ModeSignal, workflowID: wf,
		arg: workflows.ModeRequest{Mode: "ai", Reason: "handed back by a person", AgentID: userID(agent)}}, got[2])

	// The user's view: the reply is in their conversation with the assistant.
	w = hs.call("GET", "/auth/conversations/"+conv+"/messages", nil, c.alice.AccessToken)
	assert.Equal(t, "Hello, I am Dana.", decodeList(t, w)[0]["content"])

	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/support/conversations/" + domain.DirectConversationID(c.aliceID, c.bobID) + "/takeover", nil, 404},
		{"POST", "/support/conversations/ai:424242/messages", map[string]any{"content": "x"}, 404},
		{"POST", "/support/conversations/nonsense/takeover", nil, 422},
		{"POST", base + "/messages", map[string]any{"content": ""}, 422},
		{"POST", base + "/messages", map[string]any{"content": strings.Repeat("x", 10001)}, 422},
		{"POST", base + "/takeover", map[string]any{"reason": strings.Repeat("x", 501)}, 422},
		{"GET", "/support/conversations?mode=robot", nil, 422},
	} {
		w := hs.call(tc.method, tc.path, tc.body, agent.AccessToken)
		assert.Equal(t, tc.want, w.Code, "%s %s: %s", tc.method, tc.path, w.Body.String())
	}
	assert.Len(t, tp.otherSignals(), 3, "refused requests signal nothing")
	n, err := hs.db.NewSelect().Model((*domain.Message)(nil)).Where("agent_id IS NOT NULL").Count(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "refused answers store nothing")

	tp.mu.Lock()
	tp.down = assert.AnError
	tp.mu.Unlock()
	w = hs.call("POST", base+"/takeover", nil, agent.AccessToken)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "Temporal unreachable: try again")
}

const testTimeout = 5 * time.Second

func assistantID(hs *harness) int64 {
	a, err := domain.Assistant(context.Background(), hs.db)
	require.NoError(hs.t, err)
	return a.ID
}

// stream opens an event stream over a real connection and returns the
// status it was answered with.
func (hs *harness) stream(path, token string) int {
	hs.t.Helper()
	if hs.loopback == "" {
		hs.loopback = serveOnLoopback(hs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", hs.loopback+path, nil)
	require.NoError(hs.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(hs.t, err)
	defer resp.Body.Close()
	return resp.StatusCode
}

// Staff conversations with the assistant stay among those who run the
// service: an agent neither lists, reads, answers, takes over nor follows
// a superuser's or another agent's conversation (not found, as for one
// that does not exist); a superuser reaches every one.
func TestAgentsDoNotReachStaffConversations(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		dana, erin := hs.agent("dana"), hs.agent("erin")
		ai := assistantID(hs)
		for _, tk := range []tokens{c.alice, c.root, erin, dana} {
			hs.send(tk, ai, "hello AI")
		}
		inbox := func(tk tokens) []any {
			w := hs.call("GET", "/support/conversations", nil, tk.AccessToken)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var convs []any
			for _, e := range decodeList(t, w) {
				convs = append(convs, e["conversation_id"])
			}
			return convs
		}
		assert.Equal(t, []any{domain.AIConversationID(c.aliceID)}, inbox(dana), "an agent's inbox holds people's conversations")
		assert.Len(t, inbox(c.root), 4, "a superuser's holds every one")

		for _, owner := range []int64{c.root.UserID(), erin.UserID(), dana.UserID()} {
			conv := "/support/conversations/" + domain.AIConversationID(owner)
			for _, tc := range []struct {
				method, path string
				body         any
			}{
				{"GET", conv + "/messages", nil},
				{"POST", conv + "/messages", map[string]any{"content": "a person here"}},
				{"POST", conv + "/takeover", nil},
				{"POST", conv + "/resume", nil},
			} {
				w := hs.call(tc.method, tc.path, tc.body, dana.AccessToken)
				assert.Equal(t, http.StatusNotFound, w.Code, "%s %s as an agent: %s", tc.method, tc.path, w.Body.String())
			}
			assert.Equal(t, http.StatusNotFound, hs.stream(conv+"/events", dana.AccessToken))
			assert.Equal(t, http.StatusOK, hs.call("GET", conv+"/messages", nil, c.root.AccessToken).Code, "a superuser reads it")
		}
		conv := "/support/conversations/" + domain.AIConversationID(c.aliceID)
		assert.Equal(t, http.StatusAccepted, hs.call("POST", conv+"/takeover", nil, dana.AccessToken).Code)
	})
}
