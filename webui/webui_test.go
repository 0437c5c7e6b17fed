package webui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/freeport"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/webui"
)

// The UI server reads the config it is given: the codec endpoint, with
// credentials, is what it tells the browser.
func TestTheUIGivesTheBrowserTheCodecWithCredentials(t *testing.T) {
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	path := filepath.Join(root, "bin", webui.Binary)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("needs `make temporal-ui`: %v", err)
		}
		t.Skipf("needs `make temporal-ui`: %v", err)
	}
	port, err := freeport.Find(0)
	require.NoError(t, err)
	o := webui.Options{Path: path, Dir: t.TempDir(), Frontend: "127.0.0.1:7233", Namespace: "default",
		Host: "localhost", Port: port, CodecEndpoint: "http://localhost:8000/codec"}
	stop, err := webui.Start(context.Background(), o, os.Stderr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })
	assert.Equal(t, "http://localhost:"+strconv.Itoa(port), o.URL())

	res, err := http.Get(o.URL() + "/api/v1/settings")
	require.NoError(t, err)
	defer res.Body.Close()
	var settings struct {
		DefaultNamespace string
		Codec            struct {
			Endpoint           string
			IncludeCredentials bool
		}
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&settings))
	assert.Equal(t, "http://localhost:8000/codec", settings.Codec.Endpoint)
	assert.True(t, settings.Codec.IncludeCredentials, "without it the browser sends no codec cookie")
	assert.Equal(t, "default", settings.DefaultNamespace)
}
