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
		panic("hand-over signalled " + workflowID + " with inconsistent options")
	}
	switch name {
	case workflows.InboundSignal:
	case workflows.ModeSignal, workflows.AgentReplySignal:
		f.others = append(f.others, signal{name: name, workflowID: workflowID, arg: arg})
		return nil, nil
	default:
		panic("hand-over sent an unexpected signal: " + name + " to " + workflowID)
	}
	f.signals = append(f.signals, arg.(workflows.Inbound))
	f.ids = append(f.ids, workflowID)
	return nil, nil
}

// conversations are the real hand-over, into tp.
func conversations(db bun.IDB, tp *fakeTemporal) *handover.Conversations {
	return &handover.Conversations{Temporal: tp, TaskQueue: "api-tests", DB: db}
}

// otherSignals lists the mode requests and agent replies signalled, in order.
func (f *fakeTemporal) otherSignals() []signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signal(nil), f.others...)
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
