package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// agentSpec is an agent's definition as a client sends it.
func agentSpec(name string, entry bool, tools []string, transfers ...string) map[string]any {
	ts := []map[string]any{}
	for _, t := range tools {
		ts = append(ts, map[string]any{"name": t})
	}
	if transfers == nil {
		transfers = []string{}
	}
	return map[string]any{"name": name, "description": "The " + name + " agent",
		"instructions": "You are the " + name + " agent. Answer briefly.", "tools": ts, "transfers": transfers, "entry": entry}
}

// agentRows counts the agents and their kept revisions: a refused
// request leaves both as they were.
func agentRows(t *testing.T, hs *harness) [2]int {
	t.Helper()
	ctx := context.Background()
	agents, err := hs.db.NewSelect().Model((*domain.Agent)(nil)).Count(ctx)
	require.NoError(t, err)
	revisions, err := hs.db.NewSelect().Model((*domain.AgentRevision)(nil)).Count(ctx)
	require.NoError(t, err)
	return [2]int{int(agents), int(revisions)}
}

// problemOf is what a refusal says: its detail, or its fields' messages.
func problemOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	switch d := decode(t, w)["detail"].(type) {
	case string:
		return d
	case []any:
		var msgs []string
		for _, e := range d {
			msgs = append(msgs, e.(map[string]any)["msg"].(string))
		}
		return strings.Join(msgs, "; ")
	}
	return w.Body.String()
}

// Support staff read the agents; only superusers define them; users and
// strangers neither.
func TestAgentsPermissionMatrix(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		user, agent, root := hs.user("uma"), hs.agent("kim"), hs.superuser("root")
		w := hs.call("POST", "/agents", agentSpec("general", true, []string{"search_knowledge"}), root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

		people := []tokens{user, agent, root, {}}
		names := []string{"user", "agent", "superuser", "anonymous"}
		billing := agentSpec("billing", false, []string{"list_reports"})
		for _, tc := range []struct {
			method, path string
			body         any
			want         []int // user, agent, superuser, anonymous
		}{
			{"GET", "/agents", nil, []int{403, 200, 200, 401}},
			{"GET", "/agents/general", nil, []int{403, 200, 200, 401}},
			{"POST", "/agents", billing, []int{403, 403, 201, 401}},
			{"PUT", "/agents/billing", billing, []int{403, 403, 200, 401}},
			{"DELETE", "/agents/billing", nil, []int{403, 403, 200, 401}},
		} {
			for i, tk := range people {
				w := hs.call(tc.method, tc.path, tc.body, tk.AccessToken)
				assert.Equal(t, tc.want[i], w.Code, "%s %s as %s: %s", tc.method, tc.path, names[i], w.Body.String())
			}
		}
	})
}

// A superuser defines, reads, changes and deletes agents; every change
// makes a revision, the same definition keeps it; each write is audited.
func TestAgentsThroughTheAPI(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root, agent := hs.superuser("root"), hs.agent("kim")

		w := hs.call("GET", "/agents", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, decodeList(t, w), "no agent: the built-in assistant answers")

		general := agentSpec("general", true, []string{"search_knowledge", "handoff_to_human"})
		w = hs.call("POST", "/agents", general, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		got := decode(t, w)
		assert.EqualValues(t, 1, got["revision"])
		assert.EqualValues(t, root.UserID(), got["updated_by"])
		assert.Equal(t, true, got["entry"])
		assert.Equal(t, "", got["model"])
		assert.Equal(t, []any{map[string]any{"name": "search_knowledge"}, map[string]any{"name": "handoff_to_human"}}, got["tools"])

		billing := agentSpec("billing", false, []string{"list_reports", "create_report"})
		billing["model"] = "openai/gpt-4o"
		billing["tools"] = []map[string]any{{"name": "list_reports"}, {"name": "create_report", "approval": "required"}}
		w = hs.call("POST", "/agents", billing, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

		// The entry agent transfers to billing: a new revision.
		general["transfers"] = []string{"billing"}
		w = hs.call("PUT", "/agents/general", general, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.EqualValues(t, 2, decode(t, w)["revision"])
		w = hs.call("PUT", "/agents/general", general, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.EqualValues(t, 2, decode(t, w)["revision"], "the same definition keeps its revision")

		// Staff read them, by name.
		w = hs.call("GET", "/agents", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		list := decodeList(t, w)
		require.Len(t, list, 2)
		assert.Equal(t, "billing", list[0]["name"])
		assert.Equal(t, "openai/gpt-4o", list[0]["model"])
		assert.Equal(t, "general", list[1]["name"])
		w = hs.call("GET", "/agents/general", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		got = decode(t, w)
		assert.Equal(t, []any{"billing"}, got["transfers"])
		assert.Equal(t, "You are the general agent. Answer briefly.", got["instructions"])
		assert.Equal(t, http.StatusNotFound, hs.call("GET", "/agents/nobody", nil, agent.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("GET", "/agents/%00", nil, agent.AccessToken).Code)

		// An agent another transfers to stays, and so does the entry agent
		// while others remain.
		before := agentRows(t, hs)
		w = hs.call("DELETE", "/agents/billing", nil, root.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, w.Body.String())
		assert.Contains(t, decode(t, w)["detail"], "general transfers to billing")
		w = hs.call("DELETE", "/agents/general", nil, root.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, w.Body.String())
		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", "/agents/nobody", nil, root.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("PUT", "/agents/nobody", agentSpec("nobody", false, nil), root.AccessToken).Code)
		assert.Equal(t, before, agentRows(t, hs))

		// Without the transfer, billing goes, then general; their
		// revisions stay for the turns that ran them.
		general["transfers"] = []string{}
		require.Equal(t, http.StatusOK, hs.call("PUT", "/agents/general", general, root.AccessToken).Code)
		w = hs.call("DELETE", "/agents/billing", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		w = hs.call("DELETE", "/agents/general", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, [2]int{0, 4}, agentRows(t, hs))
		assert.Equal(t, http.StatusNotFound, hs.call("GET", "/agents/general", nil, root.AccessToken).Code)

		// A name used before goes on from its last revision.
		w = hs.call("POST", "/agents", general, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		assert.EqualValues(t, 4, decode(t, w)["revision"])

		// Every write is in the audit log.
		for action, want := range map[string][]string{
			"agent.create":  {"general", "billing", "general"},
			"agent.replace": {"general", "general", "general"},
			"agent.delete":  {"general", "billing"},
		} {
			w := hs.call("GET", "/auth/audit?action="+action, nil, root.AccessToken)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var targets []string
			for _, e := range decodeList(t, w) {
				assert.Equal(t, "agent", e["target_type"])
				assert.EqualValues(t, root.UserID(), e["actor_id"])
				targets = append(targets, e["target_id"].(string))
			}
			assert.ElementsMatch(t, want, targets, action)
		}
	})
}

// What does not hold together is refused, 422 (409 for a taken name),
// with a message that says why, and nothing is saved.
func TestAgentsRefuseWhatDoesNotHoldTogether(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")

		// The first agent must be the entry agent.
		w := hs.call("POST", "/agents", agentSpec("billing", false, []string{"list_reports"}), root.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
		assert.Contains(t, problemOf(t, w), "no entry agent")
		assert.Equal(t, [2]int{0, 0}, agentRows(t, hs))

		require.Equal(t, http.StatusCreated, hs.call("POST", "/agents",
			agentSpec("general", true, []string{"search_knowledge"}), root.AccessToken).Code)
		before := agentRows(t, hs)

		renamed := agentSpec("other", true, nil)
		withField := func(field string, v any) map[string]any {
			s := agentSpec("billing", false, []string{"list_reports"})
			s[field] = v
			return s
		}
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			says               string
		}{
			{"unknown tool", "POST", "/agents", agentSpec("billing", false, []string{"launch_rockets"}), 422, `unknown tool "launch_rockets"`},
			{"unknown transfer target", "POST", "/agents", agentSpec("billing", false, nil, "refunds"), 422, `unknown transfer target "refunds"`},
			{"transfer to itself", "POST", "/agents", agentSpec("billing", false, nil, "billing"), 422, "transfers to itself"},
			{"two entry agents", "POST", "/agents", agentSpec("billing", true, nil), 422, "more than one entry agent"},
			{"no entry agent", "PUT", "/agents/general", agentSpec("general", false, nil), 422, "no entry agent"},
			{"bad name", "POST", "/agents", agentSpec("Billing Team", false, nil), 422, "agent name \"Billing Team\" must be"},
			{"name mismatch", "PUT", "/agents/general", renamed, 422, "name must be the agent's name in the path"},
			{"no instructions", "POST", "/agents", withField("instructions", "  "), 422, "instructions are required"},
			{"bad approval", "POST", "/agents", withField("tools", []map[string]any{{"name": "list_reports", "approval": "maybe"}}), 422, "approval must be"},
			{"a tool twice", "POST", "/agents", withField("tools", []map[string]any{{"name": "list_reports"}, {"name": "list_reports"}}), 422, "listed twice"},
			{"misspelt field", "POST", "/agents", withField("transfer", []string{"general"}), 422, `unknown field "transfer"`},
			{"misspelt tool field", "POST", "/agents", withField("tools", []map[string]any{{"name": "list_reports", "aproval": "required"}}), 422, `unknown field "aproval"`},
			{"wrong type", "POST", "/agents", withField("entry", "yes"), 422, "Input should be a valid bool"},
			{"malformed JSON", "POST", "/agents", `{"name": "billing",`, 422, "JSON decode error"},
			{"no body", "POST", "/agents", nil, 422, "Field required"},
			{"duplicate name", "POST", "/agents", agentSpec("general", false, nil), 409, `agent "general" already exists`},
		} {
			w := hs.call(tc.method, tc.path, tc.body, root.AccessToken)
			assert.Equal(t, tc.status, w.Code, "%s: %s", tc.name, w.Body.String())
			assert.Contains(t, problemOf(t, w), tc.says, tc.name)
			assert.Equal(t, before, agentRows(t, hs), "%s left rows behind", tc.name)
		}
		w = hs.call("GET", "/agents/general", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		got := decode(t, w)
		assert.EqualValues(t, 1, got["revision"], "refused changes leave the agent as it was")
		assert.Equal(t, true, got["entry"])

		// A long definition is refused whole.
		w = hs.call("POST", "/agents", withField("instructions", strings.Repeat("word ", 12_000)), root.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
		assert.Equal(t, before, agentRows(t, hs))
	})
}
