package main

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/turns"
	"github.com/aimsg/aimsg/worker"
	"github.com/aimsg/aimsg/workflows"
)

// workerCmd runs the Temporal worker alone (production: scale it out).
func workerCmd(ctx context.Context, e *env) error {
	cfg, err := e.config(config.NoTokens)
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	tc, err := dialTemporal(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	stop, err := startWorker(ctx, e, cfg, tc, db)
	if err != nil {
		return err
	}
	defer stop()
	<-ctx.Done()
	e.logs.Root.Info("worker shutting down")
	return nil
}

// dialTemporal connects to Temporal, retrying while the server comes up.
func dialTemporal(ctx context.Context, e *env, cfg config.Config) (client.Client, error) {
	backoff := 500 * time.Millisecond
	for {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		tc, err := client.DialContext(dctx, temporalOptions(e, cfg))
		cancel()
		if err == nil {
			return tc, nil
		}
		e.logs.Root.Warn("temporal not reachable, retrying", "address", cfg.TemporalAddress,
			"error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// startWorker starts polling the task queue and the turn reconciler; stop
// ends the reconciler and drains running tasks.
func startWorker(ctx context.Context, e *env, cfg config.Config, tc client.Client, db *bun.DB) (stop func(), err error) {
	acts := &activities.Activities{
		DB:         db,
		LLM:        activities.NewLLM(cfg.LiteLLMBaseURL, cfg.LiteLLMAPIKey, cfg.LLMTimeout),
		Model:      cfg.LiteLLMModel,
		Agents:     activities.DefaultAgents(),
		HistoryMax: cfg.ChatHistoryMax,
		Logger:     e.logs.Root,
	}
	w := worker.New(tc, cfg.TemporalTaskQueue, acts, worker.Options{
		MaxConcurrentActivities: cfg.WorkerActivities, MaxConcurrentWorkflowTasks: cfg.WorkerWorkflowTasks,
	})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	rec := &turns.Reconciler{Starter: turnStarter(cfg, tc), DB: db, Grace: 10 * time.Second,
		Interval: cfg.ReconcileInterval, Logger: e.logs.Root}
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(rctx) }()
	e.logs.Root.Info("worker polling", "task_queue", cfg.TemporalTaskQueue, "namespace", cfg.TemporalNamespace,
		"llm", cfg.LiteLLMBaseURL, "model", cfg.LiteLLMModel)
	return func() { cancel(); <-done; w.Stop() }, nil
}

// turnStarter hands inbound messages to their conversation workflows.
func turnStarter(cfg config.Config, tc client.Client) *turns.Starter {
	return &turns.Starter{Client: tc, TaskQueue: cfg.TemporalTaskQueue, Policy: workflows.Policy{
		MaxLLMCalls: cfg.TurnMaxLLMCalls, LLMAttempts: int32(cfg.TurnLLMAttempts), LLMRetryInterval: cfg.TurnLLMRetryInterval,
	}}
}
