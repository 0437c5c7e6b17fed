package config_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every package reads its settings from config, so config stays light: it
// must not pull in Temporal's SDK and its dozens of packages.
func TestConfigDoesNotImportTemporal(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		require.False(t, strings.HasPrefix(dep, "go.temporal.io/"), "config imports %s", dep)
	}
}
