package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
)

// compose runs docker-compose on the repository's file. No Docker engine is
// needed to validate it. .ci/run installs docker-compose.
func compose(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose is not installed; .ci/run installs it")
		}
		t.Skip("docker-compose not installed (apt-get install docker-compose)")
	}
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	cmd := exec.Command("docker-compose", append([]string{"-f", filepath.Join(root, "docker-compose.yml")}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestComposeFileIsValid(t *testing.T) {
	secrets := []string{"SECRET_KEY=" + testSecret, "POSTGRES_PASSWORD=pw"}
	out, err := compose(t, secrets, "config", "-q")
	require.NoError(t, err, out)

	out, err = compose(t, secrets, "config", "--services")
	require.NoError(t, err, out)
	for _, svc := range []string{"postgres", "temporal", "temporal-ui", "migrate", "api", "worker"} {
		assert.Contains(t, strings.Fields(out), svc)
	}

	out, err = compose(t, nil, "config", "-q")
	require.Error(t, err, "secrets must come from the environment")
	assert.Contains(t, out, "POSTGRES_PASSWORD")
}

func TestHealthProbe(t *testing.T) {
	env := testEnv(t, "sqlite:///:memory:", map[string]string{"SECRET_KEY": testSecret})
	var out output
	require.NoError(t, runWith(context.Background(), env, &out, "migrate", "up"))
	base, _ := startCmd(t, env, &out, "serve")
	env["AI_MESSAGE_PORT"] = base[strings.LastIndex(base, ":")+1:]
	require.NoError(t, runWith(context.Background(), env, &out, "health"))

	env["AI_MESSAGE_PORT"] = "1"
	require.Error(t, runWith(context.Background(), env, &out, "health"), "nothing listens on port 1")
}
