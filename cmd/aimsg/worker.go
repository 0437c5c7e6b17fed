package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/temporalclient"
	"github.com/aimsg/aimsg/tracing"
	"github.com/aimsg/aimsg/worker"
)

func newWorkerCmd(p *program) *cobra.Command {
	return &cobra.Command{
		Use:     "worker",
		Short:   "Run the Temporal worker",
		Long:    "Run the Temporal worker alone (production: scale it out). It refuses to start while migrations are pending.",
		GroupID: groupRun,
		Args:    positional(cobra.NoArgs),
		RunE:    p.needs(config.NoTokens, runWorker),
	}
}

// runWorker runs the Temporal worker alone (production: scale it out).
func runWorker(ctx context.Context, e *env, _ []string) error {
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	m, flush, err := observability(ctx, e, "aimsg-worker")
	if err != nil {
		return err
	}
	defer flush()
	_, stop, err := startWorker(ctx, e, cfg, db, events.PublisherFor(cfg.DatabaseURL, db, nil), m)
	if err != nil {
		return err
	}
	defer stop()
	_, stopMetrics, err := serveSide(e, "worker metrics", cfg.WorkerMetricsAddr, m.Handler())
	if err != nil {
		return err
	}
	defer stopMetrics()
	_, stopProfiles, err := serveSide(e, "profiles", cfg.PprofAddr, profiles())
	if err != nil {
		return err
	}
	defer stopProfiles()
	<-ctx.Done()
	e.logs.Root.Info("worker shutting down")
	return nil
}

// dialTemporal connects to Temporal, retrying while the server comes up.
func dialTemporal(ctx context.Context, e *env, cfg config.Config, m *metrics.Metrics) (client.Client, error) {
	opts, err := temporalclient.Options(cfg, e.logs.Root, m)
	if err != nil {
		return nil, err
	}
	backoff := 500 * time.Millisecond
	for {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		tc, err := client.DialContext(dctx, opts)
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

// observability starts tracing and metrics for a process; flush ends both.
func observability(ctx context.Context, e *env, service string) (*metrics.Metrics, func(), error) {
	shutdown, err := tracing.Setup(ctx, e.cfg.OTLPEndpoint, service)
	if err != nil {
		return nil, nil, err
	}
	m := metrics.New()
	return m, func() {
		_ = m.Close()
		_ = shutdown(context.WithoutCancel(ctx))
	}, nil
}

// startWorker connects to Temporal and starts the worker with its turn
// reconciler; stop drains the worker and closes the client.
func startWorker(ctx context.Context, e *env, cfg config.Config, db *bun.DB, live events.Publisher, m *metrics.Metrics) (client.Client, func(), error) {
	tc, err := dialTemporal(ctx, e, cfg, m)
	if err != nil {
		return nil, nil, err
	}
	stop, err := worker.Start(ctx, cfg, tc, db, live, e.logs, m)
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	return tc, func() { stop(); tc.Close() }, nil
}

// dialOnce connects to Temporal for a short command, without retrying.
func dialOnce(ctx context.Context, e *env, cfg config.Config) (client.Client, error) {
	opts, err := temporalclient.Options(cfg, e.logs.Root, metrics.New())
	if err != nil {
		return nil, err
	}
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return tc, nil
}
