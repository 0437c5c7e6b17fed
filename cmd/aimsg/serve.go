package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/schema"
	"github.com/aimsg/aimsg/temporalclient"
)

// shutdownTimeout is how long in-flight requests get to finish on stop.
const shutdownTimeout = 15 * time.Second

func newServeCmd(p *program) *cobra.Command {
	return &cobra.Command{
		Use:     "serve",
		Short:   "Run the HTTP API",
		Long:    "Run the HTTP API alone (production: scale it out behind a proxy). It refuses to start while migrations are pending.",
		GroupID: groupRun,
		Args:    positional(cobra.NoArgs),
		RunE:    p.needs(config.Production, runServe),
	}
}

// runServe runs the API alone (production: scale it out behind a proxy).
func runServe(ctx context.Context, e *env, _ []string) error {
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := applyAgentsFile(ctx, cfg, db, e.logs.Root); err != nil {
		return err
	}
	m, flush, err := observability(ctx, e, "aimsg-api")
	if err != nil {
		return err
	}
	defer flush()
	opts, err := temporalclient.Options(cfg, e.logs.Root, m)
	if err != nil {
		return err
	}
	// Lazy: the API starts while Temporal is down and /health says so.
	tc, err := client.NewLazyClient(opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	_, stopMetrics, err := serveMetrics(e, cfg, "API metrics", m)
	if err != nil {
		return err
	}
	defer stopMetrics()
	_, stopProfiles, err := serveSide(e, "profiles", cfg.PprofAddr, profiles())
	if err != nil {
		return err
	}
	defer stopProfiles()
	return serveHTTP(ctx, e, cfg, db, tc, events.NewHub(db, e.logs.Root), m, nil)
}

// serveMetrics serves m on METRICS_ADDR, off the public port; it returns
// the address it listens on (empty: nowhere) and how to stop.
func serveMetrics(e *env, cfg config.Config, name string, m *metrics.Metrics) (string, func(), error) {
	addr, stop, err := serveSide(e, name, cfg.MetricsAddr, m.Handler())
	if err != nil {
		return "", nil, fmt.Errorf("%w (METRICS_ADDR: another address, or off)", err)
	}
	return addr, stop, nil
}

// open opens the command's migrated database, and hands back its
// configuration with it; the caller closes the database.
func (e *env) open(ctx context.Context) (config.Config, *bun.DB, error) {
	cfg := e.cfg
	db, err := openMigrated(ctx, e, cfg)
	if err != nil {
		return config.Config{}, nil, err
	}
	return cfg, db, nil
}

// openMigrated opens the database and refuses to go on if migrations are
// pending, rather than fail later on a missing column.
func openMigrated(ctx context.Context, e *env, cfg config.Config) (*bun.DB, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, e.logs.Root)
	if err != nil {
		return nil, err
	}
	files, err := schema.Status(ctx, db, schema.Migrations(database.Dialect(db)))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("check migrations: %w", err)
	}
	pending := 0
	for _, f := range files {
		if f.Applied.IsZero() {
			pending++
		}
	}
	if pending > 0 {
		db.Close()
		return nil, fmt.Errorf("the database has %d pending migrations: run `aimsg migrate up`", pending)
	}
	return db, nil
}

// serveHTTP serves the API until ctx ends, then drains in-flight requests;
// the live path feeds hub meanwhile. ready, when set, receives the
// listening address.
func serveHTTP(ctx context.Context, e *env, cfg config.Config, db *bun.DB, tc client.Client, hub *events.Hub,
	m *metrics.Metrics, ready chan<- net.Addr) error {
	auth.KeepPsForRequests()
	handler, err := api.NewServer(cfg, e.logs, db, tc,
		&dispatch.Conversations{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, Debounce: cfg.TurnDebounce}, hub, m)
	if err != nil {
		return err
	}
	fctx, stopFeed := context.WithCancel(ctx)
	fed := events.Feed(fctx, cfg.DatabaseURL, db, hub, e.logs.Root)
	defer func() { stopFeed(); <-fed }()
	srv := api.NewHTTPServer(handler)
	srv.RegisterOnShutdown(handler.CloseStreams)
	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	tls := cfg.TLSFiles()
	scheme := "http"
	if tls {
		scheme = "https"
	}
	e.logs.Root.Info("API listening", "address", ln.Addr().String(), "scheme", scheme, "tls", tls,
		"cert", cfg.SSLCert)
	if !tls {
		e.logs.Root.Info("serving plain HTTP: no certificate and key at AI_MESSAGE_SSL_CERT / AI_MESSAGE_SSL_KEY; terminate TLS at a proxy")
	}
	if ready != nil {
		ready <- ln.Addr()
	}
	errc := make(chan error, 1)
	go func() {
		if tls {
			errc <- srv.ServeTLS(ln, cfg.SSLCert, cfg.SSLKey)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	e.logs.Root.Info("API shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	// In order: stop accepting and drain the requests (the streams still
	// in net/http end at once, through RegisterOnShutdown), then end the
	// streams that left net/http and forget their rows, and only then
	// stop the feed and let the caller close the database.
	err = srv.Shutdown(sctx)
	handler.CloseStreams()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
