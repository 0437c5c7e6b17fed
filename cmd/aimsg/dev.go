package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/schema"
	"github.com/aimsg/aimsg/webui"
)

func newDevCmd(p *program) *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Run the Temporal dev server (if none answers), migrations, API and worker",
		Long: `Run the whole stack in one process, for a laptop: the Temporal dev server
(unless one already answers), migrations, the worker and the API (what make
run does). Ctrl-C stops all of it.`,
		GroupID: groupRun,
		Args:    positional(cobra.NoArgs),
		RunE:    p.needs(config.Dev, runDev),
	}
}

// runDev runs the whole stack in one process for a laptop: the Temporal dev
// server (unless one already answers), migrations, the worker and the API.
// Ctrl-C stops all of it.
func runDev(ctx context.Context, e *env, _ []string) error {
	cfg := e.cfg
	if err := os.MkdirAll(cfg.TemporalDataDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", cfg.TemporalDataDir, err)
	}
	if cfg.TemporalPayloadKey == "" {
		// Made once and kept next to the dev server's state, which it opens.
		key, err := config.SecretFile(filepath.Join(cfg.TemporalDataDir, "payload.key"),
			func() string { return codec.NewKey("dev") })
		if err != nil {
			return err
		}
		cfg.TemporalPayloadKey = key
	}
	uiURL := ""
	if !devserver.Listening(cfg.TemporalAddress) {
		// The web app, the codec endpoint and the Web UI share one host
		// name: the codec cookie is SameSite=Strict, and localhost and
		// 127.0.0.1 are different sites to a browser.
		_, port, _ := net.SplitHostPort(cfg.TemporalAddress)
		p, _ := strconv.Atoi(port)
		ui := webui.Options{
			Path: filepath.Join(filepath.Dir(cfg.TemporalCLIPath), webui.Binary), Dir: filepath.Join(cfg.TemporalDataDir, "ui"),
			Frontend: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Host: displayHost(cfg.Host), Port: p + 1000,
			CodecEndpoint: "http://" + net.JoinHostPort(displayHost(cfg.Host), strconv.Itoa(cfg.Port)) + "/codec",
		}
		uiURL = ui.URL()
		if len(cfg.CodecOrigins) == 0 {
			cfg.CodecOrigins = []string{uiURL}
		}
		logPath := filepath.Join(cfg.TemporalDataDir, "temporal.log")
		out, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("open %s: %w", logPath, err)
		}
		defer out.Close()
		e.logs.Root.Info("starting the Temporal dev server", "cli", cfg.TemporalCLIPath,
			"address", cfg.TemporalAddress, "log", logPath)
		opts := devserver.Options{
			CLIPath: cfg.TemporalCLIPath, HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
			DBFile: filepath.Join(cfg.TemporalDataDir, "temporal.db"), Output: out, Logger: e.logs.Root,
		}
		separateUI := fileExists(ui.Path)
		if !separateUI {
			// The CLI's own UI decodes only once "include cross-origin
			// credentials" is ticked in its codec settings.
			e.logs.Root.Warn("temporal web ui server not found, using the CLI's (run `make temporal-ui` to decode payloads in it)", "path", ui.Path)
			opts.UIPort, opts.UICodecEndpoint = strconv.Itoa(ui.Port), ui.CodecEndpoint
		}
		srv, err := devserver.Start(ctx, opts)
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Stop(); err != nil {
				e.logs.Root.Warn("stop temporal dev server", "error", err)
			}
		}()
		if separateUI {
			stopUI, err := webui.Start(ctx, ui, out)
			if err != nil {
				return err
			}
			defer func() { _ = stopUI() }()
		}
	} else {
		e.logs.Root.Info("using the Temporal server already running", "address", cfg.TemporalAddress)
	}

	db, err := database.Open(ctx, cfg.DatabaseURL, e.logs.Root)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := schema.Up(ctx, db, schema.Migrations(database.Dialect(db)), e.logs.Root); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := domain.SetKnowledgeLanguage(ctx, db, cfg.KnowledgeLanguage); err != nil {
		return fmt.Errorf("knowledge language: %w", err)
	}
	if err := applyAgentsFile(ctx, cfg, db, e.logs.Root); err != nil {
		return err
	}
	m, flush, err := observability(ctx, e, "aimsg")
	if err != nil {
		return err
	}
	defer flush()
	// One registry for API and worker: this listener has both.
	metricsAt, stopMetrics, err := serveMetrics(e, cfg, "metrics", m)
	if err != nil {
		return err
	}
	defer stopMetrics()
	// API and worker share one hub: on SQLite the worker publishes into it.
	hub := events.NewHub(db, e.logs.Root)
	tc, stop, err := startWorker(ctx, e, cfg, db, events.PublisherFor(cfg.DatabaseURL, db, hub), m)
	if err != nil {
		return err
	}
	defer stop()

	ready := make(chan net.Addr, 1)
	go func() {
		select {
		case addr := <-ready:
			_, port, _ := net.SplitHostPort(addr.String())
			printURLs(e, cfg, port, uiURL, metricsAt)
		case <-ctx.Done():
		}
	}()
	return serveHTTP(ctx, e, cfg, db, tc, hub, m, ready)
}

// printURLs tells the person at the terminal where everything is;
// metricsAt is the metrics listener's address (empty: none).
func printURLs(e *env, cfg config.Config, port, uiURL, metricsAt string) {
	scheme := "http"
	if cfg.TLSFiles() {
		scheme = "https"
	}
	base := scheme + "://" + net.JoinHostPort(displayHost(cfg.Host), port)
	fmt.Fprintf(e.stdout, "\naimsg is running (Ctrl-C stops everything)\n")
	fmt.Fprintf(e.stdout, "  API:             %s\n", base)
	fmt.Fprintf(e.stdout, "  Health:          %s/health\n", base)
	fmt.Fprintf(e.stdout, "  Web app:         %s/app\n", base)
	fmt.Fprintf(e.stdout, "  API docs:        %s/docs\n", base)
	if host, mport, err := net.SplitHostPort(metricsAt); err == nil {
		fmt.Fprintf(e.stdout, "  Metrics:         http://%s%s\n", net.JoinHostPort(displayHost(host), mport), api.MetricsPath)
	} else if cfg.MetricsToken != "" {
		fmt.Fprintf(e.stdout, "  Metrics:         %s%s (Authorization: Bearer $METRICS_TOKEN)\n", base, api.MetricsPath)
	}
	if uiURL != "" {
		fmt.Fprintf(e.stdout, "  Temporal Web UI: %s\n", uiURL)
	}
	fmt.Fprintf(e.stdout, "  Temporal:        %s (namespace %s, task queue %s)\n\n",
		cfg.TemporalAddress, cfg.TemporalNamespace, cfg.TemporalTaskQueue)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// displayHost turns a wildcard bind address into one a browser can open.
func displayHost(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "localhost"
	}
	return host
}
