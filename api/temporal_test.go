package api_test

import (
	"context"
	"sync"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/handover"
	"github.com/aimsg/aimsg/workflows"
)

// fakeTemporal is the Temporal client as the API uses it, in memory: it
// answers health checks as told and records the signals the hand-overs
// send (no workflow runs; the end-to-end tests run them).
type fakeTemporal struct {
	mu      sync.Mutex
	down    error
	signals []workflows.Inbound
	ids     []string
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return nil, f.down
	}
	return &client.CheckHealthResponse{}, nil
}

func (f *fakeTemporal) SignalWithStartWorkflow(_ context.Context, workflowID, signal string, arg any,
	opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return nil, f.down
	}
	if signal != workflows.InboundSignal || opts.ID != workflowID || opts.TaskQueue == "" {
		panic("hand-over sent an unexpected signal: " + signal + " to " + workflowID)
	}
	f.signals = append(f.signals, arg.(workflows.Inbound))
	f.ids = append(f.ids, workflowID)
	return nil, nil
}

// conversations are the real hand-over, into tp.
func conversations(db bun.IDB, tp *fakeTemporal) *handover.Conversations {
	return &handover.Conversations{Temporal: tp, TaskQueue: "api-tests", DB: db}
}

// signalled lists the message ids handed over, in order.
func (f *fakeTemporal) signalled() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int64, 0, len(f.signals))
	for _, s := range f.signals {
		out = append(out, s.MessageID)
	}
	return out
}
