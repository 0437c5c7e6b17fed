package e2e_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// reusablePort is a free port for a server that stops and starts again on
// it. It is taken below Linux's ephemeral range (32768-60999): a port from
// that range can be given to some outgoing connection of a busy machine
// while the server is down, and the server could not listen there again.
func reusablePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		n, err := rand.Int(rand.Reader, big.NewInt(12000))
		require.NoError(t, err)
		port := 20000 + int(n.Int64())
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// ownTemporal starts a dev server of the test's own, persisted in a file so
// that it can be stopped and started again with its state.
func ownTemporal(t *testing.T, hostPort, dbFile string) *testenv.Temporal {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	srv, err := devserver.Start(context.Background(), devserver.Options{
		CLIPath: filepath.Join(root, "bin", "temporal"), HostPort: hostPort, Namespace: "default",
		DBFile: dbFile, Logger: testenv.Logger(),
	})
	require.NoError(t, err)
	return &testenv.Temporal{Server: srv, HostPort: hostPort}
}

// Temporal is down when the message is posted: the API still says 201, the
// message is stored, and once Temporal is back the worker's reconciler
// starts the turn and the reply comes.
func TestTemporalDownWhileAMessageIsPosted(t *testing.T) {
	hostPort := fmt.Sprintf("127.0.0.1:%d", reusablePort(t))
	dbFile := filepath.Join(t.TempDir(), "temporal.db")
	tp := ownTemporal(t, hostPort, dbFile)
	s := newStackWith(t, "sqlite:///:memory:", fakellm.Echo, stackOptions{temporal: tp,
		env: map[string]string{"TURN_RECONCILE_SECONDS": "1"}})
	u := s.User("patient")

	require.NoError(t, tp.Server.Stop())
	start := time.Now()
	q := s.ask(u, "are you there?")
	assert.Less(t, time.Since(start), 5*time.Second, "the API does not hang on Temporal")
	assert.Equal(t, "pending", q["turn_status"])

	tp = ownTemporal(t, hostPort, dbFile)
	defer tp.Stop()
	reply := s.replyTo(u, apitest.ID(q), 60*time.Second)
	assert.Equal(t, "echo: are you there?", reply["content"])
}

// buildAimsg compiles the binary once for the process tests.
func buildAimsg(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "aimsg")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/aimsg")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// startWorkerProcess runs `aimsg worker` with the stack's configuration
// and, after it, env (KEY=value, which wins).
func startWorkerProcess(t *testing.T, bin string, s *stack, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AI_MESSAGE_LOGS_FOLDER=" + t.TempDir(), "LOG_LEVEL=warn"}
	for k, v := range s.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// The worker dies (SIGKILL) while the LLM is thinking; another worker takes
// the turn over, and the user gets exactly one reply.
func TestWorkerKilledDuringASlowLLMCall(t *testing.T) {
	var calls atomic.Int32
	slow := func(n int, req fakellm.Request) fakellm.Response {
		calls.Add(1)
		if n == 0 {
			return fakellm.Response{Content: "from the dead worker", Delay: time.Minute}
		}
		return fakellm.Response{Content: "recovered"}
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		calls.Store(0)
		bin := buildAimsg(t)
		s := newStackWith(t, url, slow, stackOptions{temporal: temporalServer, noWorker: true})
		u := s.User("survivor")
		first := startWorkerProcess(t, bin, s)

		q := s.ask(u, "think hard")
		require.Eventually(t, func() bool { return calls.Load() == 1 }, 30*time.Second, 10*time.Millisecond,
			"the first worker calls the LLM")
		require.NoError(t, first.Process.Kill())
		_, _ = first.Process.Wait()

		startWorkerProcess(t, bin, s)
		reply := s.replyTo(u, apitest.ID(q), 60*time.Second)
		assert.Equal(t, "recovered", reply["content"])
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)

		n, err := s.db.NewSelect().Model((*domain.Message)(nil)).Where("parent_id = ?", apitest.ID(q)).Count(context.Background())
		require.NoError(t, err)
		assert.EqualValues(t, 1, n, "exactly one reply")
		w := s.Call("GET", "/messages/unread/count", nil, u.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.EqualValues(t, 1, apitest.Decode(t, w)["unread_count"])
	})
}

// A worker told to stop (SIGTERM, as Kubernetes does) with
// WORKER_STOP_TIMEOUT_SECONDS set lets the LLM call it started finish
// before it exits: the answer it paid for is used, not asked again.
func TestAStoppedWorkerFinishesItsLLMCall(t *testing.T) {
	var calls atomic.Int32
	var answered atomic.Int64 // when the LLM's answer is sent
	slow := func(int, fakellm.Request) fakellm.Response {
		calls.Add(1)
		answered.Store(time.Now().Add(3 * time.Second).UnixNano())
		return fakellm.Response{Content: "worth the wait", Delay: 3 * time.Second}
	}
	bin := buildAimsg(t)
	s := newStackWith(t, "sqlite:///:memory:", slow, stackOptions{temporal: temporalServer, noWorker: true})
	u := s.User("patient")
	stopping := startWorkerProcess(t, bin, s, "WORKER_STOP_TIMEOUT_SECONDS=30")

	q := s.ask(u, "take your time")
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 30*time.Second, 10*time.Millisecond,
		"the worker calls the LLM")
	require.NoError(t, stopping.Process.Signal(syscall.SIGTERM))
	startWorkerProcess(t, bin, s) // the next pod of a rolling deploy
	done := make(chan error, 1)
	go func() { done <- stopping.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "a clean exit")
	case <-time.After(30 * time.Second):
		t.Fatal("the stopping worker did not exit")
	}
	assert.GreaterOrEqual(t, time.Now().UnixNano(), answered.Load(), "it exited after the LLM answered")

	reply := s.replyTo(u, apitest.ID(q), 60*time.Second)
	assert.Equal(t, "worth the wait", reply["content"])
	assert.EqualValues(t, 1, calls.Load(), "the LLM was asked once")
}
