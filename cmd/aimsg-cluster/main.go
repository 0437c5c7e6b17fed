// Command aimsg-cluster runs aimsg's production topology on one machine in
// the foreground (`make cluster`): a Temporal server on PostgreSQL, two
// APIs and two workers. Ctrl-C stops everything; -reset drops its
// databases and state instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/aimsg/aimsg/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "aimsg-cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	o := cluster.Defaults()
	apiPorts := ""
	reset := false
	flag.StringVar(&o.Bin, "bin", o.Bin, "directory holding aimsg, temporal-server and temporal-sql-tool")
	flag.StringVar(&o.DatabaseURL, "database-url", o.DatabaseURL, "PostgreSQL to create the cluster's databases in")
	flag.StringVar(&o.Prefix, "prefix", o.Prefix, "name of aimsg's database; Temporal's get _temporal and _visibility after it")
	flag.StringVar(&o.Dir, "dir", o.Dir, "directory for the server's config, the cluster's secrets and the logs")
	flag.IntVar(&o.TemporalPort, "temporal-port", o.TemporalPort, "Temporal frontend port (the server takes the 8 after it too)")
	flag.StringVar(&apiPorts, "api-ports", "8001,8002", "one API per port")
	flag.IntVar(&o.Workers, "workers", o.Workers, "number of workers")
	flag.IntVar(&o.UIPort, "ui-port", o.UIPort, "Temporal Web UI port (0: none)")
	flag.IntVar(&o.MetricsPort, "metrics-port", o.MetricsPort, "metrics port of the first worker (the next ones follow)")
	flag.BoolVar(&reset, "reset", false, "drop the cluster's databases and directory, then exit")
	flag.Parse()
	o.APIPorts = nil
	for _, p := range strings.Split(apiPorts, ",") {
		port, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("-api-ports: %q is not a port", p)
		}
		o.APIPorts = append(o.APIPorts, port)
	}
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if reset {
		if err := cluster.DropDatabases(ctx, o.DatabaseURL, o.Prefix); err != nil {
			return err
		}
		if err := os.RemoveAll(o.Dir); err != nil {
			return fmt.Errorf("remove %s: %w", o.Dir, err)
		}
		fmt.Printf("dropped %s, %s_temporal, %s_visibility and removed %s\n", o.Prefix, o.Prefix, o.Prefix, o.Dir)
		return nil
	}
	c, err := cluster.Start(ctx, o)
	if err != nil {
		return err
	}
	fmt.Print(c.Summary())
	<-ctx.Done()
	fmt.Println("stopping: APIs, workers (finishing what they run), then Temporal")
	c.Stop()
	return nil
}
