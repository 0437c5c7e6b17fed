package e2e_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/internal/apitest"
)

// metricsToken is the stacks' METRICS_TOKEN: their APIs serve /metrics
// to its bearer, as to a Prometheus that scrapes the API's port.
const metricsToken = "e2e-metrics-token-0123456789abcdef"

// scrape reads /metrics from an API of a stack, with metricsToken, and
// sums the series called name that carry every given label
// (`key="value"`); -1 when there is none.
func scrape(t testing.TB, h http.Handler, name string, labels ...string) float64 {
	t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", api.MetricsPath, nil)
	r.Header.Set("Authorization", "Bearer "+metricsToken)
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code)
	sum, found := 0.0, false
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		line := sc.Text()
		series, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if n, _, _ := strings.Cut(series, "{"); n != name {
			continue
		}
		match := true
		for _, l := range labels {
			match = match && strings.Contains(series, l)
		}
		if v, err := strconv.ParseFloat(value, 64); match && err == nil {
			sum, found = sum+v, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

func TestMetricsAfterATurn(t *testing.T) {
	s := newStack(t, "sqlite:///:memory:", reportsAgent, nil)
	u := s.User("measured")
	q := s.ask(u, "list my reports")
	s.replyTo(u, apitest.ID(q), 30*time.Second)
	s.turnOutcome(apitest.ID(q))

	assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_inbound_messages_total", `channel="web"`))
	assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_http_requests_total",
		`route="/auth/conversations/:id/messages"`, `method="POST"`, `status="201"`))
	assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_http_request_duration_seconds_count",
		`route="/auth/conversations/:id/messages"`, `method="POST"`))
	// The OpenTelemetry GenAI client metrics, under their Prometheus names.
	chat := []string{`gen_ai_operation_name="chat"`, `gen_ai_provider_name="openai"`, `gen_ai_request_model="openai/gpt-4o-mini"`,
		`gen_ai_agent_name="report_agent"`}
	assert.EqualValues(t, 2, scrape(t, s.H, "gen_ai_client_operation_duration_seconds_count", append(chat, `error_type=""`)...),
		"two LLM calls: tool, then answer")
	assert.EqualValues(t, 2, scrape(t, s.H, "gen_ai_client_token_usage_count", append(chat, `gen_ai_token_type="input"`)...))
	assert.EqualValues(t, 40, scrape(t, s.H, "gen_ai_client_token_usage_sum", append(chat, `gen_ai_token_type="input"`)...),
		"20 input tokens a call, as the fake reports")
	assert.EqualValues(t, 16, scrape(t, s.H, "gen_ai_client_token_usage_sum", append(chat, `gen_ai_token_type="output"`)...))
	assert.EqualValues(t, 1, scrape(t, s.H, "aimsg_deliveries_total", `channel="web"`, `result="ok"`))
	// Workflow metrics go through the SDK's handler, which flushes every second.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.EqualValues(c, 1, scrape(t, s.H, "aimsg_turns_started_total", `channel="web"`))
		assert.EqualValues(c, 1, scrape(t, s.H, "aimsg_turns_completed_total", `outcome="replied"`))
		assert.EqualValues(c, 1, scrape(t, s.H, "temporal_workflow_completed_total", `workflow_type="TurnWorkflow"`),
			"the SDK's own worker metrics")
	}, 10*time.Second, 100*time.Millisecond)
}
