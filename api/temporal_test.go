package api_test

import (
	"context"
	"sync"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/workflows"
)

// fakeTemporal is the Temporal client as the API uses it, in memory: it
// answers health checks as told and records the signals the dispatches
// send (no workflow runs; the end-to-end tests run them).
type fakeTemporal struct {
	mu      sync.Mutex
	down    error
	signals []workflows.Inbound
	ids     []string
	// others are the signals that are not inbound messages, by name.
	others []signal
}

type signal struct {
	name, workflowID string
	arg              any
}

func (f *fakeTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return nil, f.down
	}
	return &client.CheckHealthResponse{}, nil
}

func (f *fakeTemporal) SignalWithStartWorkflow(_ context.Context, workflowID, name string, arg any,
	opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return nil, f.down
	}
	if opts.ID != workflowID || opts.TaskQueue == "" {
		panic("dispatch signalled " + workflowID + " with inconsistent options")
	}
	switch name {
	case workflows.InboundSignal:
	case workflows.ModeSignal, workflows.AgentReplySignal:
		f.others = append(f.others, signal{name: name, workflowID: workflowID, arg: arg})
		return nil, nil
	default:
		panic("dispatch sent an unexpected signal: " + name + " to " + workflowID)
	}
	f.signals = append(f.signals, arg.(workflows.Inbound))
	f.ids = append(f.ids, workflowID)
	return nil, nil
}

// conversations are the real dispatch, into tp.
func conversations(db bun.IDB, tp *fakeTemporal) *dispatch.Conversations {
	return &dispatch.Conversations{Temporal: tp, TaskQueue: "api-tests", DB: db}
}

// otherSignals lists the mode requests and agent replies signalled, in order.
func (f *fakeTemporal) otherSignals() []signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signal(nil), f.others...)
}

// signalled lists the message ids dispatched, in order.
func (f *fakeTemporal) signalled() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int64, 0, len(f.signals))
	for _, s := range f.signals {
		out = append(out, s.MessageID)
	}
	return out
}
