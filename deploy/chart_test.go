// Package deploy_test checks the Helm chart under deploy/helm/aimsg with
// the real helm (make helm builds it into ./bin): it lints, and what it
// renders is what a cluster would run.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/aimsg/aimsg/internal/testenv"
)

// object is one rendered Kubernetes object, as YAML decodes it.
type object map[string]any

// get walks a path of map keys and list indexes.
func (o object) get(path ...any) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func chart(t *testing.T) (helm, dir string) {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	helm = filepath.Join(root, "bin", "helm")
	_, err = os.Stat(helm)
	require.NoError(t, err, "make helm builds ./bin/helm")
	return helm, filepath.Join(root, "deploy", "helm", "aimsg")
}

// run runs helm and returns what it printed and what it reported.
func run(t *testing.T, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err = cmd.Run()
	return out.String(), errs.String(), err
}

// render runs helm template with the given --set values and returns the
// objects by "Kind/name".
func render(t *testing.T, sets ...string) map[string]object {
	t.Helper()
	helm, dir := chart(t)
	args := []string{"template", "prod", dir, "--namespace", "msg"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, errs, err := run(t, helm, args...)
	require.NoError(t, err, errs)
	objs := map[string]object{}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var m map[string]any // nested mappings decode as map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if m == nil {
			continue
		}
		o := object(m)
		kind, _ := o.get("kind").(string)
		name, _ := o.get("metadata", "name").(string)
		require.NotEmpty(t, kind, "%v", o)
		objs[kind+"/"+name] = o
	}
	return objs
}

// envOf is a container's environment, by name.
func envOf(c object) map[string]any {
	env := map[string]any{}
	for _, e := range c.get("env").([]any) {
		env[e.(map[string]any)["name"].(string)] = e.(map[string]any)["value"]
	}
	return env
}

func TestChartLints(t *testing.T) {
	helm, dir := chart(t)
	out, errs, err := run(t, helm, "lint", "--strict", dir, "--set", "existingSecret=aimsg-secrets")
	require.NoError(t, err, out+errs)
	assert.Contains(t, out, "1 chart(s) linted, 0 chart(s) failed")

	_, errs, err = run(t, helm, "template", "prod", dir)
	require.Error(t, err, "no Secret named")
	assert.Contains(t, errs, "existingSecret must name a Secret holding SECRET_KEY and DATABASE_URL")
}

func TestChartRendersTheProductionShape(t *testing.T) {
	objs := render(t, "existingSecret=aimsg-secrets", "image.tag=1.2.3")
	names := make([]string, 0, len(objs))
	for k := range objs {
		names = append(names, k)
	}
	assert.ElementsMatch(t, []string{"ConfigMap/prod-aimsg", "Deployment/prod-aimsg-api", "Service/prod-aimsg-api",
		"HorizontalPodAutoscaler/prod-aimsg-api", "PodDisruptionBudget/prod-aimsg-api", "Deployment/prod-aimsg-worker",
		"PodDisruptionBudget/prod-aimsg-worker", "Job/prod-aimsg-migrate"}, names, "no Secret: secrets are never values")

	cm := objs["ConfigMap/prod-aimsg"]
	assert.Equal(t, "temporal-frontend:7233", cm.get("data", "TEMPORAL_ADDRESS"))
	assert.Equal(t, "60", cm.get("data", "LLM_TIMEOUT_SECONDS"))

	api := objs["Deployment/prod-aimsg-api"]
	c := object(api.get("spec", "template", "spec", "containers", 0).(map[string]any))
	assert.Equal(t, "ghcr.io/aimsg/aimsg:1.2.3", c.get("image"))
	assert.Equal(t, []any{"serve"}, c.get("args"))
	assert.Equal(t, "prod-aimsg", c.get("envFrom", 0, "configMapRef", "name"))
	assert.Equal(t, "aimsg-secrets", c.get("envFrom", 1, "secretRef", "name"))
	assert.Equal(t, "/health", c.get("readinessProbe", "httpGet", "path"))
	assert.Equal(t, "/health", c.get("startupProbe", "httpGet", "path"))
	assert.Equal(t, "http", c.get("livenessProbe", "tcpSocket", "port"), "liveness does not hang on the dependencies")
	assert.Equal(t, "250m", c.get("resources", "requests", "cpu"))
	assert.Equal(t, true, c.get("securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, "/home/nonroot/logs", c.get("volumeMounts", 0, "mountPath"))
	assert.Equal(t, true, api.get("spec", "template", "spec", "securityContext", "runAsNonRoot"))
	assert.Nil(t, api.get("spec", "replicas"), "the autoscaler owns the replicas")
	// The API's metrics: on a port of the pod of their own, scraped there.
	assert.Equal(t, "0.0.0.0:9464", envOf(c)["METRICS_ADDR"], "on the pod's address, not only its loopback")
	assert.Equal(t, "metrics", c.get("ports", 1, "name"))
	assert.Equal(t, 9464, c.get("ports", 1, "containerPort"))
	assert.Equal(t, "true", api.get("spec", "template", "metadata", "annotations", "prometheus.io/scrape"))
	assert.Equal(t, "9464", api.get("spec", "template", "metadata", "annotations", "prometheus.io/port"))

	svc := objs["Service/prod-aimsg-api"]
	assert.Equal(t, "api", svc.get("spec", "selector", "app.kubernetes.io/component"))
	assert.Equal(t, api.get("spec", "selector", "matchLabels"), svc.get("spec", "selector"))
	svcPorts := svc.get("spec", "ports").([]any)
	require.Len(t, svcPorts, 1, "the Service, which the Ingress reaches, carries no metrics")
	assert.Equal(t, "http", object(svcPorts[0].(map[string]any)).get("targetPort"))
	hpa := objs["HorizontalPodAutoscaler/prod-aimsg-api"]
	assert.Equal(t, "prod-aimsg-api", hpa.get("spec", "scaleTargetRef", "name"))
	assert.Equal(t, 2, hpa.get("spec", "minReplicas"))

	worker := objs["Deployment/prod-aimsg-worker"]
	w := object(worker.get("spec", "template", "spec", "containers", 0).(map[string]any))
	assert.Equal(t, []any{"worker"}, w.get("args"))
	assert.Equal(t, "ghcr.io/aimsg/aimsg:1.2.3", w.get("image"))
	assert.Equal(t, "/metrics", w.get("livenessProbe", "httpGet", "path"))
	wenv := envOf(w)
	assert.Equal(t, "60", wenv["WORKER_STOP_TIMEOUT_SECONDS"], "a stopping worker finishes its LLM calls")
	grace := worker.get("spec", "template", "spec", "terminationGracePeriodSeconds").(int)
	assert.Greater(t, grace, 60, "longer than the LLM timeout")
	assert.Equal(t, api.get("spec", "template", "metadata", "annotations", "checksum/config"),
		worker.get("spec", "template", "metadata", "annotations", "checksum/config"))

	job := objs["Job/prod-aimsg-migrate"]
	assert.Equal(t, "pre-install,pre-upgrade", job.get("metadata", "annotations", "helm.sh/hook"))
	j := object(job.get("spec", "template", "spec", "containers", 0).(map[string]any))
	assert.Equal(t, []any{"migrate", "up"}, j.get("args"))
	assert.Equal(t, "aimsg-secrets", j.get("envFrom", 0, "secretRef", "name"))
	assert.Equal(t, cm.get("data"), envOf(j), "the Job runs before the ConfigMap exists: the same settings inline")
	assert.Equal(t, "Never", job.get("spec", "template", "spec", "restartPolicy"))
}

func TestChartValuesChangeWhatTheyShould(t *testing.T) {
	base := render(t, "existingSecret=s")
	changed := render(t, "existingSecret=s", "config.LOG_LEVEL=debug", "api.autoscaling.enabled=false")
	assert.NotEqual(t, base["Deployment/prod-aimsg-api"].get("spec", "template", "metadata", "annotations", "checksum/config"),
		changed["Deployment/prod-aimsg-api"].get("spec", "template", "metadata", "annotations", "checksum/config"),
		"new settings roll the pods")
	assert.NotContains(t, changed, "HorizontalPodAutoscaler/prod-aimsg-api")
	assert.Equal(t, 2, changed["Deployment/prod-aimsg-api"].get("spec", "replicas"))
	assert.Equal(t, "ghcr.io/aimsg/aimsg:0.1.0", base["Deployment/prod-aimsg-api"].get("spec", "template", "spec", "containers", 0, "image"),
		"the tag defaults to the chart's appVersion")
	moved := render(t, "existingSecret=s", "api.metricsPort=9100")
	api := moved["Deployment/prod-aimsg-api"]
	assert.Equal(t, "0.0.0.0:9100", envOf(object(api.get("spec", "template", "spec", "containers", 0).(map[string]any)))["METRICS_ADDR"])
	assert.Equal(t, "9100", api.get("spec", "template", "metadata", "annotations", "prometheus.io/port"), "scraped where it listens")

	helm, dir := chart(t)
	_, errs, err := run(t, helm, "template", "prod", dir, "--set", "existingSecret=s", "--set", "worker.terminationGracePeriodSeconds=60")
	require.Error(t, err)
	assert.Contains(t, errs, "must be longer than config.LLM_TIMEOUT_SECONDS")
	_, errs, err = run(t, helm, "template", "prod", dir, "--set", "existingSecret=s", "--set", "config.TEMPORAL_DEPLOYMENT_NAME=aimsg")
	require.Error(t, err, "a rolling update would stop a build's workers before its pinned turns end")
	assert.Contains(t, errs, "Temporal Worker Controller")
}
