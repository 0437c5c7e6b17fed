package e2e_test

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/freeport"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/webui"
	"github.com/aimsg/aimsg/workflows"
)

// An operator reads an encrypted turn in the Temporal Web UI as `make run`
// sets it up: the UI server built by `make temporal-ui` on localhost, its
// codec endpoint the API's /codec on localhost, with credentials. In
// Chromium (e2e/browser/webui.test.mjs) a superuser signs in to the web
// app, presses "Allow decoding", opens the turn's page in the UI and reads
// the question and the answer in clear.
func TestWebUIDecodesATurnForASuperuser(t *testing.T) {
	node, chromium, dir := browserTools(t)
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	uiPath := filepath.Join(root, "bin", webui.Binary)
	if _, err := os.Stat(uiPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("needs `make temporal-ui`: %v", err)
		}
		t.Skipf("needs `make temporal-ui`: %v", err)
	}

	// The API on a socket of its own, named localhost as `make run` prints
	// it; the UI on localhost too: one site, so the Strict cookie goes.
	uiPort, err := freeport.Find(0)
	require.NoError(t, err)
	ui := webui.Options{Path: uiPath, Dir: t.TempDir(), Frontend: temporalServer.HostPort, Namespace: "default",
		Host: "localhost", Port: uiPort}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	apiURL := "http://localhost:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	ui.CodecEndpoint = apiURL + "/codec"

	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, map[string]string{
		"TEMPORAL_PAYLOAD_KEY": codec.NewKey("webui"), "TEMPORAL_CODEC_CORS_ORIGINS": ui.URL(), "CHAT_SUMMARY_EVERY": "0"})
	srv := httptest.NewUnstartedServer(s.H)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stop, err := webui.Start(ctx, ui, os.Stderr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stop() })

	const name, password = "operator", "operator-password"
	hash, err := auth.HashPassword(password, 10)
	require.NoError(t, err)
	_, _, err = domain.EnsureSuperuser(ctx, s.db, domain.SuperuserInput{
		Username: name, Email: name + "@example.com", HashedPassword: hash})
	require.NoError(t, err)
	alice := s.User("alice")
	const question = "Where is my parcel? Code pineapple-7731"
	q := s.ask(alice, question)
	answer := s.replyTo(alice, apitest.ID(q), 30*time.Second)["content"].(string)
	require.Equal(t, "echo: "+question, answer)
	s.turnOutcome(apitest.ID(q))
	turn := workflows.TurnWorkflowID(apitest.ID(q))
	desc, err := s.tc.DescribeWorkflow(ctx, turn, "")
	require.NoError(t, err)

	shots := filepath.Join(dir, "screenshots")
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "webui.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BASE_URL="+apiURL,
		"UI_URL="+ui.URL(),
		"WORKFLOW_PATH=/namespaces/default/workflows/"+url.PathEscape(turn)+"/"+desc.WorkflowExecution.RunID+"/history",
		"QUESTION="+question,
		"QUESTION_ID="+strconv.FormatInt(apitest.ID(q), 10),
		"ANSWER="+answer,
		"CHROMIUM="+chromium,
		"SCREENSHOT_DIR="+shots,
		"SUPERUSER_NAME="+name,
		"SUPERUSER_PASSWORD="+password,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	require.NoError(t, err, "the Web UI test failed")
	for _, shot := range []string{"webui-01-encrypted", "webui-02-decoded"} {
		info, err := os.Stat(filepath.Join(shots, shot+".png"))
		if assert.NoError(t, err) {
			assert.Greater(t, info.Size(), int64(5000), shot)
		}
	}
}
