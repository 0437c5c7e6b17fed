package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The dev server's own ceiling for the shape of a turn: a workflow with two
// local activities (load history, save the reply) and two activities (call
// the LLM, deliver) that do nothing. aimsg's turn rate is reported as a
// fraction of it.

const ceilingQueue = "bench-bare"

func bareTurn(ctx workflow.Context) error {
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
	return workflow.ExecuteActivity(actx, bareStep, "deliver").Get(ctx, nil)
}

func bareStep(_ context.Context, _ string) error { return nil }

func ceilingScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	const conc = 50
	w := worker.New(st.tc, ceilingQueue, worker.Options{})
	w.RegisterWorkflow(bareTurn)
	w.RegisterActivity(bareStep)
	if err := w.Start(); err != nil {
		return nil, err
	}
	before := st.cpuSample()
	bare := closedLoop(ctx, conc, o.duration, func(ctx context.Context, _, i int) error {
		run, err := st.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: fmt.Sprintf("bare-%d-%d", time.Now().UnixNano(), i), TaskQueue: ceilingQueue}, bareTurn)
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	})
	bareCPU := perUnit(before, st.cpuSample(), bare.Count)
	w.Stop()

	us, err := st.users(ctx, conc)
	if err != nil {
		return nil, err
	}
	before = st.cpuSample()
	turns := closedLoop(ctx, conc, o.duration, func(ctx context.Context, wk, _ int) error {
		var web latencies
		return st.webTurn(ctx, us[wk], &web)
	})
	turnCPU := perUnit(before, st.cpuSample(), turns.Count)
	fraction := turns.Rate / bare.Rate * 100
	return []result{
		{Name: fmt.Sprintf("bare turn-shaped workflow (%d at once)", conc), Load: &bare, CPU: bareCPU},
		{Name: fmt.Sprintf("aimsg turns, 0 ms LLM (%d conversations)", conc), Load: &turns, CPU: turnCPU,
			Value: fraction, Unit: "% of bare", Target: ">= 70% of bare", Met: check(fraction >= 70)},
	}, nil
}
