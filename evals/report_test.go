package evals

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleReport() *Report {
	return newReport("http://api", time.Unix(0, 0), 3*time.Second, []CaseResult{
		{Name: "locker", Passed: true, LatencyMS: 300, Tokens: 56, Turns: []Turn{{LatencyMS: 300, Tokens: 56}}},
		{Name: "refund", Failures: []string{`reply lacks "5 working days"`, "90 tokens, over max_tokens 60"}, LatencyMS: 100, Tokens: 90,
			Turns: []Turn{{Tokens: 10}, {LatencyMS: 100, Tokens: 90}}},
		{Name: "quiet", Failures: []string{"message 1: no reply within the case's timeout (2m0s)"}},
		{Name: "hours", Passed: true, LatencyMS: 200, Tokens: 28, Turns: []Turn{{LatencyMS: 200, Tokens: 28}}},
	})
}

func TestReportSumsUp(t *testing.T) {
	r := sampleReport()
	assert.Equal(t, 4, r.Total)
	assert.Equal(t, 2, r.Passed)
	assert.InDelta(t, 0.5, r.PassRate, 1e-9)
	assert.EqualValues(t, 56+10+90+28, r.Tokens, "every turn's")
	assert.Equal(t, Latency{P50: 200, P95: 300, Max: 300}, r.Latency, "over the cases with a reply")
	assert.EqualValues(t, 3000, r.DurationMS)
	assert.Zero(t, newReport("", time.Now(), 0, nil).PassRate)
}

func TestReportTable(t *testing.T) {
	var b strings.Builder
	require.NoError(t, sampleReport().WriteTable(&b))
	lines := strings.Split(b.String(), "\n")
	assert.Regexp(t, `^CASE +RESULT +LATENCY MS +TOKENS +WHY$`, lines[0])
	assert.Regexp(t, `^locker +pass +300 +56 *$`, lines[1])
	assert.Regexp(t, `^refund +FAIL +100 +90 +reply lacks "5 working days"; 90 tokens, over max_tokens 60$`, lines[2])
	assert.Regexp(t, `^quiet +FAIL +0 +0 +message 1: no reply`, lines[3])
	assert.Contains(t, b.String(), "\n2/4 passed (50%); latency p50 200 ms, p95 300 ms, max 300 ms; 184 tokens\n")
}

func TestReportJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := sampleReport()
	r.Suite = "s.yaml"
	require.NoError(t, r.WriteJSON(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "s.yaml", got["suite"])
	assert.InDelta(t, 0.5, got["pass_rate"], 1e-9)
	assert.Equal(t, map[string]any{"p50": 200.0, "p95": 300.0, "max": 300.0}, got["latency_ms"])
	cases := got["cases"].([]any)
	refund := cases[1].(map[string]any)
	assert.Equal(t, false, refund["passed"])
	assert.Equal(t, []any{`reply lacks "5 working days"`, "90 tokens, over max_tokens 60"}, refund["failures"])
	assert.EqualValues(t, 100, refund["latency_ms"])
	assert.EqualValues(t, 90, refund["tokens"])
}
