package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The server's own checks read the config the cluster writes: every
// dynamic config key (the dev server's latency settings) is one the server
// knows, with the type it expects, and the static config loads with the
// stores on PostgreSQL and the ports the cluster documents.
func TestTheServerAcceptsTheConfig(t *testing.T) {
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	server := filepath.Join(root, "bin", ServerBinary)
	if _, err := os.Stat(server); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("needs `make temporal-server`: %v", err)
		}
		t.Skipf("needs `make temporal-server`: %v", err)
	}
	opts := Defaults()
	opts.Dir = t.TempDir()
	c := &Cluster{opts: opts, pg: pgTarget{host: "db.internal", port: "5433", user: "temporal", password: "pw"}}
	dir, err := c.writeTemporalConfig()
	require.NoError(t, err)

	out, err := exec.Command(server, "validate-dynamic-config", filepath.Join(dir, "dynamicconfig.yaml")).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.NotContains(t, string(out), "warning", "an unknown key or a value of the wrong type would be ignored")
	for _, kv := range devserver.DynamicConfig {
		k, _, _ := strings.Cut(kv, "=")
		assert.Contains(t, readFile(t, filepath.Join(dir, "dynamicconfig.yaml")), k+":")
	}

	out, err = exec.Command(server, "--config", dir, "--env", "cluster", "render-config").CombinedOutput()
	require.NoError(t, err, string(out))
	rendered := string(out)
	for _, want := range []string{"postgres12", "aimsg_cluster_temporal", "aimsg_cluster_visibility", "db.internal:5433",
		"grpcPort: 7233", "httpPort: 7241", "numHistoryShards: 4"} {
		assert.Contains(t, rendered, want)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
