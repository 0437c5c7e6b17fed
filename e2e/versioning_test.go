package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/worker"
	"github.com/aimsg/aimsg/workflows"
)

// changedTurn is a TurnWorkflow of a later build, changed in a way the
// histories of the earlier one cannot replay: it waits a moment first.
func changedTurn(ctx workflow.Context, in workflows.TurnInput) (workflows.TurnResult, error) {
	if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
		return workflows.TurnResult{}, err
	}
	return workflows.TurnWorkflow(ctx, in)
}

// withTurn registers turn in place of TurnWorkflow, everything else as is.
type withTurn struct {
	sdkworker.Worker
	turn any
}

func (w withTurn) RegisterWorkflowWithOptions(f any, o workflow.RegisterOptions) {
	if o.Name == workflows.TurnWorkflowName {
		f = w.turn
	}
	w.Worker.RegisterWorkflowWithOptions(f, o)
}

// Worker Versioning: conversations talk to build "a"; build "b", with a
// changed TurnWorkflow, starts and is promoted while turns of "a" wait for
// the LLM. Those turns finish on "a" (pinned) with their replies, though
// "b"'s code could not replay them; the next turn runs on "b".
func TestTurnsFinishOnTheBuildTheyStartedOn(t *testing.T) {
	release := make(chan struct{})
	var held atomic.Int32
	script := func(n int, req fakellm.Request) fakellm.Response {
		if strings.Contains(req.Last().Text(), "before") {
			held.Add(1)
			<-release
		}
		return fakellm.Echo(n, req)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	deployment := "e2e-" + hex.EncodeToString(suffix)
	s := newStackWith(t, "sqlite:///:memory:", script, stackOptions{temporal: temporalServer,
		env: map[string]string{"TEMPORAL_DEPLOYMENT_NAME": deployment, "TEMPORAL_WORKER_BUILD_ID": "a"}})
	ctx := context.Background()
	h := s.tc.WorkerDeploymentClient().GetHandle(deployment)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
		require.NoError(c, err)
		require.NotNil(c, desc.Info.RoutingConfig.CurrentVersion)
		assert.Equal(c, "a", desc.Info.RoutingConfig.CurrentVersion.BuildID)
	}, 30*time.Second, 100*time.Millisecond, "the first build makes itself current")

	users := []apitest.Tokens{s.User("early1"), s.User("early2"), s.User("early3")}
	var before []int64
	for _, u := range users {
		before = append(before, apitest.ID(s.ask(u, "before the deploy")))
	}
	require.Eventually(t, func() bool { return held.Load() == int32(len(users)) }, 30*time.Second, 20*time.Millisecond,
		"every turn of build a is asking the LLM")

	logSet, err := logs.New(io.Discard, "", 0)
	require.NoError(t, err)
	acts, err := worker.NewActivities(s.cfg, s.db, events.PublisherFor(s.cfg.DatabaseURL, s.db, nil), logSet, s.metrics)
	require.NoError(t, err)
	b := sdkworker.New(s.tc, s.cfg.TemporalTaskQueue, sdkworker.Options{DeploymentOptions: worker.Versioning(deployment, "b")})
	worker.Register(withTurn{b, changedTurn}, acts)
	require.NoError(t, b.Start())
	t.Cleanup(b.Stop)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: "b"})
		require.NoError(c, err) // refused until the server has seen b poll
	}, 30*time.Second, 200*time.Millisecond)
	close(release)

	payloads, err := codec.Parse(s.cfg.TemporalPayloadKey)
	require.NoError(t, err)
	replayer, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: codec.DataConverter(payloads)})
	require.NoError(t, err)
	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)) // the replay's panic is expected
	replayer.RegisterWorkflowWithOptions(changedTurn, workflow.RegisterOptions{Name: workflows.TurnWorkflowName})
	for i, u := range users {
		reply := s.replyTo(u, before[i], 30*time.Second)
		assert.Equal(t, "echo: before the deploy", reply["content"])
		id := workflows.TurnWorkflowID(before[i])
		assert.Equal(t, []string{"a", "Pinned"}, s.turnVersion(id), "turn %s", id)
		hist := s.fullHistory(id)
		assert.False(t, hasEvent(hist, enums.EVENT_TYPE_TIMER_STARTED), "build a's turn ran a's code")
		assert.Error(t, replayer.ReplayWorkflowHistory(quiet, hist), "b's TurnWorkflow cannot replay a's turn: pinning kept it on a")
	}

	after := apitest.ID(s.ask(users[0], "after the deploy"))
	reply := s.replyTo(users[0], after, 30*time.Second)
	assert.Equal(t, "echo: after the deploy", reply["content"])
	id := workflows.TurnWorkflowID(after)
	assert.Equal(t, []string{"b", "Pinned"}, s.turnVersion(id))
	assert.True(t, hasEvent(s.fullHistory(id), enums.EVENT_TYPE_TIMER_STARTED), "a new turn runs b's code")
}

// turnVersion is the build a workflow runs on and how it is tied to it.
func (s *stack) turnVersion(workflowID string) []string {
	s.t.Helper()
	d, err := s.tc.DescribeWorkflow(context.Background(), workflowID, "")
	require.NoError(s.t, err)
	v := d.RawResponse.GetWorkflowExecutionInfo().GetVersioningInfo()
	return []string{v.GetDeploymentVersion().GetBuildId(), v.GetBehavior().String()}
}

func hasEvent(h *historypb.History, typ enums.EventType) bool {
	for _, ev := range h.Events {
		if ev.GetEventType() == typ {
			return true
		}
	}
	return false
}
