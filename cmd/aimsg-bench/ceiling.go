package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The dev server's own ceiling for the shape of a turn, with activities
// that do nothing: aimsg's turn rate is reported as a fraction of it. Two
// shapes: a single workflow with the turn's steps (two local activities,
// load history and save the reply, and two activities, call the LLM and
// deliver), and the same steps as a child of a long-lived conversation
// workflow fed by SignalWithStart, as aimsg runs them.

const ceilingQueue = "bench-bare"

func bareTurn(ctx workflow.Context, id string) error {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, bareStep, "load").Get(ctx, nil); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(actx, bareStep, "llm").Get(ctx, nil); err != nil {
		return err
	}
	if err := workflow.ExecuteLocalActivity(lctx, bareStep, "save").Get(ctx, nil); err != nil {
		return err
	}
	return workflow.ExecuteActivity(actx, bareDeliver, id).Get(ctx, nil)
}

// bareConversation runs a bareTurn child for each signal, one at a time.
func bareConversation(ctx workflow.Context) error {
	ch := workflow.GetSignalChannel(ctx, "turn")
	for {
		var id string
		ch.Receive(ctx, &id)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: id})
		if err := workflow.ExecuteChildWorkflow(cctx, bareTurn, id).Get(ctx, nil); err != nil {
			return err
		}
	}
}

func bareStep(_ context.Context, _ string) error { return nil }

// delivered tells the load that a bare turn is done; the bare worker runs
// in this process.
var delivered sync.Map // turn id -> chan struct{}

func bareDeliver(_ context.Context, id string) error {
	if ch, ok := delivered.LoadAndDelete(id); ok {
		close(ch.(chan struct{}))
	}
	return nil
}

func ceilingScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	const conc = 50
	w := worker.New(st.tc, ceilingQueue, worker.Options{})
	w.RegisterWorkflow(bareTurn)
	w.RegisterWorkflow(bareConversation)
	w.RegisterActivity(bareStep)
	w.RegisterActivity(bareDeliver)
	if err := w.Start(); err != nil {
		return nil, err
	}
	single, singleCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conc, o.duration, func(ctx context.Context, _, i int) error {
			run, err := st.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("bare-%d-%d", time.Now().UnixNano(), i), TaskQueue: ceilingQueue}, bareTurn, "")
			if err != nil {
				return err
			}
			return run.Get(ctx, nil)
		})
	})

	run := time.Now().UnixNano()
	shaped, shapedCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conc, o.duration, func(ctx context.Context, wk, i int) error {
			id := fmt.Sprintf("bare-turn-%d-%d", run, i)
			done := make(chan struct{})
			delivered.Store(id, done)
			_, err := st.tc.SignalWithStartWorkflow(ctx, fmt.Sprintf("bare-conversation-%d-%d", run, wk), "turn", id,
				client.StartWorkflowOptions{TaskQueue: ceilingQueue}, bareConversation)
			if err != nil {
				return err
			}
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Minute):
				return fmt.Errorf("bare turn %s: not done in a minute", id)
			}
		})
	})
	w.Stop()

	us, err := st.users(ctx, conc)
	if err != nil {
		return nil, err
	}
	turns, turnCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conc, o.duration, func(ctx context.Context, wk, _ int) error {
			var web latencies
			return st.webTurn(ctx, us[wk], &web)
		})
	})
	ofSingle, ofShaped := turns.Steady/single.Steady*100, turns.Steady/shaped.Steady*100
	return []result{
		{Name: fmt.Sprintf("bare turn-shaped workflow (%d at once)", conc), Load: &single, CPU: singleCPU},
		{Name: fmt.Sprintf("bare conversation + child turn (%d conversations)", conc), Load: &shaped, CPU: shapedCPU},
		{Name: fmt.Sprintf("aimsg turns, 0 ms LLM (%d conversations)", conc), Load: &turns, CPU: turnCPU,
			Value: ofSingle, Unit: "% of bare", Target: ">= 70% of bare", Met: check(ofSingle >= 70),
			Notes: map[string]any{"percent_of_same_shape": ofShaped}},
	}, nil
}
