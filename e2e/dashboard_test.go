package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The Grafana dashboard (deploy/grafana/aimsg.json) and the alerting rules
// (deploy/prometheus/alerts.yml) name only series aimsg exports: once a
// stack, on either database, has done what makes each appear (a web turn
// rated up, an SMS Twilio refuses, an episode that ends, a webhook
// receiver that stays down until its subscription is disabled, a
// throttled login, a workflow task that fails), every metric their PromQL
// names is on the live /metrics, the Temporal SDK's included.
func TestDashboardAndAlertsUseExportedSeries(t *testing.T) {
	used := map[string][]string{} // metric name: where
	for _, e := range dashboardExprs(t) {
		for _, n := range metricNames(e) {
			used[n] = append(used[n], "aimsg.json")
		}
	}
	for alert, e := range alertExprs(t) {
		for _, n := range metricNames(e) {
			used[n] = append(used[n], alert)
		}
	}
	require.Contains(t, used, "aimsg_turns_completed_total", "the expressions were read")

	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStackWith(t, url, fakellm.Echo, func(n int) faketwilio.Response {
			if n == 0 {
				return faketwilio.Response{Status: http.StatusBadRequest, Code: 21211} // the first SMS reply: invalid number
			}
			return faketwilio.Response{}
		}, stackOptions{temporal: temporalServer, env: map[string]string{
			"CSAT_AFTER_MINUTES":    "0.05", // episodes end (and are counted) after 3 s of quiet
			"LOGIN_MAX_FAILURES":    "1",
			"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_MS": "100", "WEBHOOK_DISPATCH_MS": "50",
			"WEBHOOK_GIVE_UP_MINUTES": "0.05",
		}})
		h := metricsOf(s.stack)

		// A receiver down until its subscription is disabled: failed attempts,
		// a disabled subscription, a failed WebhookWorkflow.
		ops := s.superuser("ops")
		rcv := newReceiver(t)
		rcv.down.Store(true)
		s.subscribe(ops, rcv.URL, "report.created")

		// A web turn, its answer rated up, its episode ended by the quiet.
		u := s.User("dash")
		q := s.ask(u, "hello")
		answer := s.replyTo(u, apitest.ID(q), 30*time.Second)
		w := s.Call("POST", "/messages/"+itoa(apitest.ID(answer))+"/feedback", map[string]any{"rating": "up"}, u.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		require.Equal(t, http.StatusCreated, s.Call("POST", "/reports", map[string]any{"title": "a", "content": "b"}, u.AccessToken).Code)

		// An SMS whose reply Twilio refuses.
		require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000901", userPhone, "hi")).Code)

		// Wrong passwords until the throttle refuses.
		codes := []int{}
		for range 3 {
			codes = append(codes, s.Call("POST", "/auth/login", map[string]any{"username": "nobody", "password": "wrong"}, "").Code)
		}
		require.Contains(t, codes, http.StatusTooManyRequests, codes)

		// A workflow task that fails: a workflow no worker knows.
		id := "dashboard/" + s.cfg.TemporalTaskQueue
		_, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: s.cfg.TemporalTaskQueue}, "NoSuchWorkflow")
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.tc.TerminateWorkflow(context.Background(), id, "", "test over") })

		require.EventuallyWithT(t, func(c *assert.CollectT) {
			exported := exportedNames(c, h)
			var missing []string
			for name, where := range used {
				if !exported(name) {
					missing = append(missing, name+" (in "+strings.Join(slices.Compact(where), ", ")+")")
				}
			}
			slices.Sort(missing)
			assert.Empty(c, missing, "named by the dashboard or the alerts, not on /metrics")
		}, time.Minute, 200*time.Millisecond)

		// What the new series say here.
		assert.EqualValues(t, 1, scrape(t, h, "aimsg_webhook_subscriptions_disabled_total"))
		assert.GreaterOrEqual(t, scrape(t, h, "aimsg_webhook_attempts_total", `result="failed"`), 1.0)
		assert.GreaterOrEqual(t, scrape(t, h, "aimsg_login_throttled_total", `attempt="login"`), 1.0)
		assert.EqualValues(t, 0, scrape(t, h, "aimsg_login_throttled_total", `attempt="password_confirmation"`))
		assert.EqualValues(t, s.db.Stats().MaxOpenConnections, scrape(t, h, "go_sql_max_open_connections", `db_name="aimsg"`))
		assert.GreaterOrEqual(t, scrape(t, h, "go_sql_open_connections", `db_name="aimsg"`), 1.0, "the stack's pool")
		assert.EqualValues(t, 1, scrape(t, h, "aimsg_events_listener_connected"), "the stack's API listens (PostgreSQL) or polls")
		assert.EqualValues(t, 0, scrape(t, h, "aimsg_dispatch_backlog"), "the API dispatched every message itself")
	})
}

// metricsOf is the stack's /metrics: its registry's handler itself,
// wherever the process serves it.
func metricsOf(s *stack) http.Handler { return s.metrics.Handler() }

// exportedNames reads /metrics once and says whether a series is on it:
// a sample's name, or a histogram's or summary's _bucket, _sum or _count
// of a family it declares.
func exportedNames(t require.TestingT, h http.Handler) func(name string) bool {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, w.Code)
	samples, types := map[string]bool{}, map[string]string{}
	sc := bufio.NewScanner(w.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			types[f[2]] = f[3]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		samples[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return func(name string) bool {
		if samples[name] {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && (types[base] == "histogram" || types[base] == "summary") {
				return suffix != "_bucket" || types[base] == "histogram"
			}
		}
		return false
	}
}

// dashboardExprs are the PromQL expressions of the dashboard's panels.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "aimsg.json"))
	require.NoError(t, err)
	var dash any
	require.NoError(t, json.Unmarshal(b, &dash))
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok {
				exprs = append(exprs, e)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(dash)
	require.NotEmpty(t, exprs)
	return exprs
}

// alertExprs are the expressions of the alerting rules, by alert.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alerts.yml"))
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &rules))
	exprs := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs[r.Alert] = r.Expr
		}
	}
	require.NotEmpty(t, exprs)
	return exprs
}

// grafanaVariable is a dashboard variable in an expression: $name or ${name}.
var grafanaVariable = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// promqlAggregations are PromQL's aggregation operators, which may be
// followed by by/without before their parenthesis.
var promqlAggregations = map[string]bool{"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true,
	"stdvar": true, "count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true}

// promqlKeywords are PromQL's other words; those taking a list of labels
// are true.
var promqlKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "and": false, "or": false, "unless": false, "offset": false, "bool": false, "atan2": false,
	"inf": false, "nan": false}

// metricNames are the metric names a PromQL expression selects, once
// Grafana's variables are given values: the identifiers that are not a
// function, an aggregation, a keyword, a label (in {}, or a by/on list) or
// part of a string, duration or number.
func metricNames(expr string) []string {
	expr = grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		if strings.HasPrefix(strings.Trim(v, "${}"), "__") {
			return "5m" // $__rate_interval, $__range, $__interval
		}
		return "1"
	})
	ident := func(c byte) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	// str returns the index of the end of the string opened at i.
	str := func(i int) int {
		q := expr[i]
		for i++; i < len(expr) && expr[i] != q; i++ {
			if expr[i] == '\\' && q != '`' {
				i++
			}
		}
		return i
	}
	// skip returns the index after the group opened at i, strings inside
	// it taken whole.
	skip := func(i int, open, close byte) int {
		depth := 0
		for ; i < len(expr); i++ {
			switch c := expr[i]; c {
			case '"', '\'', '`':
				i = str(i)
			case open:
				depth++
			case close:
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	next := func(i int) byte {
		for ; i < len(expr); i++ {
			if c := expr[i]; c != ' ' && c != '\t' && c != '\n' {
				return c
			}
		}
		return 0
	}
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = str(i) + 1
		case c == '{':
			i = skip(i, '{', '}')
		case c == '[':
			i = skip(i, '[', ']')
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && (ident(expr[i]) || expr[i] == '.') {
				i++
			}
		case ident(c):
			start := i
			for i < len(expr) && ident(expr[i]) {
				i++
			}
			word := expr[start:i]
			lower := strings.ToLower(word)
			if labels, ok := promqlKeywords[lower]; ok {
				if labels && next(i) == '(' {
					i = skip(strings.IndexByte(expr[i:], '(')+i, '(', ')')
				}
				continue
			}
			if promqlAggregations[lower] || next(i) == '(' {
				continue
			}
			if !slices.Contains(names, word) {
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func TestDashboardExpressionsNameTheirMetrics(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (le, route) (rate(aimsg_http_request_duration_seconds_bucket{route=~"/a|b"}[$__rate_interval]))`: {"aimsg_http_request_duration_seconds_bucket"},
		`histogram_quantile(0.95, sum without (instance) (rate(x_bucket{a="{b}"}[5m]))) > 1e6`:                   {"x_bucket"},
		`a / on (channel) group_left(reason) b > bool 0.9 * c offset 1h`:                                         {"a", "b", "c"},
		`sum(increase(d[1h])) - sum(increase(e[1h])) > 5 and f unless g or absent(h{x="y"})`:                     {"d", "e", "f", "g", "h"},
		`topk(5, count by (x) (y)) > count_values("v", z)`:                                                       {"y", "z"},
		`label_replace(up, "dst", "$1", "src", "(.*)") * $input_price / 1e6 + ${other}`:                          {"up"},
		`max(temporal_workflow_endtoend_latency_seconds{quantile="0.95"}) > 120 # the slow ones`:                 {"temporal_workflow_endtoend_latency_seconds"},
	} {
		assert.Equal(t, want, metricNames(expr), expr)
	}
}
