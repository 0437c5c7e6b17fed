package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/aimsg/aimsg/internal/testenv"
)

// The alerting rules of deploy/prometheus, checked and unit-tested by
// Prometheus's own promtool (Debian's prometheus package; .ci/run
// installs it), and the queries of the Grafana dashboard in
// deploy/grafana parsed by it.

// promtool is the path of promtool; the test fails without it in CI and
// is skipped elsewhere.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed; .ci/run installs it (apt-get install prometheus)")
		}
		t.Skip("promtool not installed (apt-get install prometheus)")
	}
	return path
}

func rulesDir(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	return filepath.Join(root, "deploy", "prometheus")
}

func TestAlertRulesAreValid(t *testing.T) {
	out, errs, err := run(t, promtool(t), "check", "rules", filepath.Join(rulesDir(t), "alerts.yml"))
	require.NoError(t, err, out+errs)
	assert.Contains(t, out, "SUCCESS")
}

func TestAlertRulesPassTheirUnitTests(t *testing.T) {
	cmd := exec.Command(promtool(t), "test", "rules", "alerts_test.yml")
	cmd.Dir = rulesDir(t) // rule_files are relative to the test file
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "SUCCESS")
}

// alertRules is the part of alerts.yml the conventions are about.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// ruleTests is the part of alerts_test.yml that says which alerts are
// tested how.
type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Every alert waits (for), says how bad it is, what is wrong, and where
// its runbook is: a section of docs/operations.md; and alerts_test.yml
// has a case where it fires and one where it does not.
func TestEveryAlertHasARunbookAndTests(t *testing.T) {
	dir := rulesDir(t)
	var rules alertRules
	b, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &rules))
	var tests ruleTests
	b, err = os.ReadFile(filepath.Join(dir, "alerts_test.yml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &tests))
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	anchors := operationsAnchors(t)

	const runbooks = "https://github.com/aimsg/aimsg/blob/main/docs/operations.md#"
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert, "group %s: recording rules belong elsewhere", g.Name)
			assert.False(t, seen[r.Alert], "%s twice", r.Alert)
			seen[r.Alert] = true
			assert.NotEmpty(t, r.For, "%s: for", r.Alert)
			assert.Contains(t, []string{"critical", "warning"}, r.Labels["severity"], "%s: severity", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], "%s: summary", r.Alert)
			url := r.Annotations["runbook_url"]
			if assert.True(t, strings.HasPrefix(url, runbooks), "%s: runbook_url %q", r.Alert, url) {
				anchor := strings.TrimPrefix(url, runbooks)
				assert.Equal(t, strings.ToLower(r.Alert), anchor, "%s: its runbook is the section named after it", r.Alert)
				assert.True(t, anchors[anchor], "%s: docs/operations.md has no section #%s", r.Alert, anchor)
			}
			assert.True(t, fires[r.Alert], "%s: alerts_test.yml has no case where it fires", r.Alert)
			assert.True(t, quiet[r.Alert], "%s: alerts_test.yml has no case where it stays quiet", r.Alert)
		}
	}
	for name := range fires {
		assert.True(t, seen[name], "alerts_test.yml tests %s, which alerts.yml does not have", name)
	}
}

// operationsAnchors are the anchors GitHub gives the headings of
// docs/operations.md.
func operationsAnchors(t *testing.T) map[string]bool {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	require.NoError(t, err)
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	anchors := map[string]bool{}
	code := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "```") {
			code = !code
		}
		if code || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		anchors[strings.ReplaceAll(drop.ReplaceAllString(title, ""), " ", "-")] = true
	}
	return anchors
}

// Every query of the dashboard is PromQL Prometheus parses, once
// Grafana's variables have values: promtool checks them as recording
// rules.
func TestDashboardQueriesAreValidPromQL(t *testing.T) {
	tool := promtool(t)
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "aimsg.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title      string `json:"title"`
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	variable := regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for _, p := range dash.Panels {
		for i, target := range p.Targets {
			assert.Equal(t, "${DS_PROMETHEUS}", p.Datasource.UID, "%s: the data source is the dashboard's input", p.Title)
			expr := variable.ReplaceAllStringFunc(target.Expr, func(v string) string {
				if strings.HasPrefix(strings.Trim(v, "${}"), "__") {
					return "5m" // $__rate_interval, $__range
				}
				return "1"
			})
			rules = append(rules, rule{Record: fmt.Sprintf("panel_%d_%d", len(rules), i), Expr: expr})
		}
	}
	require.Greater(t, len(rules), 20)
	out, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "dashboard.yml")
	require.NoError(t, os.WriteFile(file, out, 0o644))
	stdout, errs, err := run(t, tool, "check", "rules", file)
	require.NoError(t, err, stdout+errs)
}
