package main

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/worker"
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

// startWorker starts the worker and its turn reconciler; stop ends both.
func startWorker(ctx context.Context, e *env, cfg config.Config, tc client.Client, db *bun.DB) (stop func(), err error) {
	return worker.Start(ctx, cfg, tc, db, e.logs.Root)
}
