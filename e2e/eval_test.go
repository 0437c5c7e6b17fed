package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/evals"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
)

// evalModel is a small, deterministic stand-in for a real model behind
// the agents of agentsFile: General greets, hands a person who asks for
// one over, transfers charges and invoices to billing and looks anything
// else up in the help centre, answering with the first sentence of the
// passage that shares most words with the question, cited; billing
// promises the refund.
func evalModel(_ int, req fakellm.Request) fakellm.Response {
	var question string
	for _, m := range req.Messages {
		if m.Role == "user" {
			question = strings.ToLower(m.Text())
		}
	}
	last := req.Last()
	switch {
	case strings.HasPrefix(req.Messages[0].Text(), "You are the billing specialist"):
		return fakellm.Response{Content: "Sorry about that: the second charge is refunded to your card within 5 working days."}
	case last.Role == "tool":
		return fakellm.Response{Content: bestSentence(question, last.Text())}
	case strings.Contains(question, "person") || strings.Contains(question, "human"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("h1", "handoff_to_human", `{"reason":"the user asked for a person"}`)}}
	case (strings.Contains(question, "charged") || strings.Contains(question, "invoice")) && slices.Contains(req.ToolNames(), "transfer_to_billing"):
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("t1", "transfer_to_billing", `{}`)}}
	case strings.HasPrefix(question, "hi") || strings.HasPrefix(question, "hello"):
		return fakellm.Response{Content: "Hello! What can I help you with?"}
	}
	args, _ := json.Marshal(map[string]string{"query": question})
	return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("k1", "search_knowledge", string(args))}}
}

// bestSentence answers from search_knowledge's passages ("[n] title —
// heading", the text, "URL: ..."): the first sentence of the one whose
// heading and text share most words of four letters or more with the
// question, with its number.
func bestSentence(question, passages string) string {
	var words []string
	for _, w := range strings.FieldsFunc(question, func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
		if len(w) >= 4 {
			words = append(words, w)
		}
	}
	best, bestScore, answer := "", 0, ""
	lines := strings.Split(passages, "\n")
	for i, line := range lines {
		n, title, ok := strings.Cut(strings.TrimPrefix(line, "["), "] ")
		if !strings.HasPrefix(line, "[") || !ok || i+1 >= len(lines) {
			continue
		}
		_, heading, _ := strings.Cut(title, " — ")
		text := strings.ToLower(heading + " " + lines[i+1])
		score := 0
		for _, w := range words {
			if strings.Contains(text, w) {
				score++
			}
		}
		if score > bestScore {
			sentence, _, _ := strings.Cut(lines[i+1], ". ")
			best, bestScore, answer = n, score, strings.TrimSuffix(sentence, ".")
		}
	}
	if best == "" {
		return "I could not find that in the help articles."
	}
	return answer + " [" + best + "]."
}

// The example suite passes against the assistant with the help centre
// and the agents it was written for: every case in a fresh conversation,
// the turns' tokens and agents read back; the throwaway users are gone
// afterwards. A suite with expectations broken on purpose fails through
// the command: exit code 1, the reasons in the table and the report.
func TestAnEvalSuitePassesAndABrokenOneFails(t *testing.T) {
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	bin := buildAimsg(t)
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := newStack(t, url, evalModel, nil)
		importHelpCentre(t, s)
		_, err := domain.ApplyAgents(ctx, s.db, agentsFile("You are General."), s.knownTool, nil)
		require.NoError(t, err)
		s.superuser("evalbot")
		srv := httptest.NewServer(s.H)
		t.Cleanup(srv.Close)

		suite, err := evals.Load(filepath.Join(root, "evals", "examples", "assistant.yaml"))
		require.NoError(t, err)
		report, err := evals.Run(ctx, suite, evals.Options{API: srv.URL, Admin: &evals.Credentials{Username: "evalbot", Password: "evalbot-password"},
			Parallel: 3, Timeout: time.Minute, Settle: time.Second})
		require.NoError(t, err)
		byName := map[string]evals.CaseResult{}
		for _, c := range report.Cases {
			assert.True(t, c.Passed, "%s: %v (turns %+v)", c.Name, c.Failures, c.Turns)
			byName[c.Name] = c
		}
		assert.Equal(t, len(suite.Cases), report.Total)
		assert.InDelta(t, 1.0, report.PassRate, 1e-9)
		// The fake reports 28 tokens a call: a search and an answer.
		assert.EqualValues(t, 56, byName["locker-pickup-window"].Tokens)
		assert.Equal(t, []string{"general", "billing"}, byName["double-charge-goes-to-billing"].Turns[0].Agents)
		assert.Len(t, byName["phone-line-on-saturday"].Turns, 2)
		handed := byName["wants-a-person"].HandedOff
		require.NotNil(t, handed)
		assert.True(t, *handed)
		assert.Positive(t, report.Latency.Max)
		n, err := s.db.NewSelect().Model((*domain.User)(nil)).Where("username LIKE 'eval-%'").Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "the throwaway users are deleted")

		broken := filepath.Join(t.TempDir(), "broken.yaml")
		require.NoError(t, os.WriteFile(broken, []byte(`
- name: locker-pickup-window
  messages: ["how long does a locker keep my parcel?"]
  expect:
    contains: "48 hours"
- name: refund-on-a-budget
  messages: ["when will the refund reach my card?"]
  expect:
    contains: "5 working days"
    max_tokens: 30
- name: still-fine
  messages: ["is the support line open on a saturday?"]
  expect:
    cites: "Opening hours"
`), 0o644))
		jsonPath := filepath.Join(t.TempDir(), "report.json")
		cmd := exec.Command(bin, "eval", broken, "--api", srv.URL, "--user", "evalbot", "--password-env", "EVAL_PASSWORD",
			"--json", jsonPath, "--timeout", "1m")
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "EVAL_PASSWORD=evalbot-password"}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "the command fails: %v\n%s\n%s", err, stdout.String(), stderr.String())
		assert.Equal(t, 1, exit.ExitCode(), stderr.String())
		assert.Contains(t, stderr.String(), "pass rate 0.33 is below --min-pass 1.00")
		assert.Regexp(t, `locker-pickup-window +FAIL .*reply lacks "48 hours"`, stdout.String())
		assert.Regexp(t, `still-fine +pass`, stdout.String())

		var got evals.Report
		b, err := os.ReadFile(jsonPath)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, 3, got.Total)
		assert.Equal(t, 1, got.Passed)
		assert.InDelta(t, 1.0/3, got.PassRate, 1e-9)
		assert.Equal(t, []string{`reply lacks "48 hours"`}, got.Cases[0].Failures)
		assert.Equal(t, []string{"56 tokens, over max_tokens 30"}, got.Cases[1].Failures)
		assert.True(t, got.Cases[2].Passed)
	})
}
