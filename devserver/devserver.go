// Package devserver runs the Temporal CLI's dev server the way aimsg needs it:
// tuned dynamic config (see docs/operations.md, "Latency settings of the dev
// server") and aimsg's search attributes registered. `aimsg dev` and the
// integration tests share it.
package devserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/aimsg/aimsg/temporalclient"
	"github.com/aimsg/aimsg/workflows"
)

// DynamicConfig are the server settings that take a workflow or activity
// hand-off from ~50 ms to a few ms on a single-shard dev server.
var DynamicConfig = []string{
	"history.transferProcessorMaxPollRPS=200",
	"matching.numTaskqueueReadPartitions=1",
	"matching.numTaskqueueWritePartitions=1",
	"system.enableActivityEagerExecution=true",
}

// Options says where the dev server lives.
type Options struct {
	// CLIPath is the temporal binary (make temporal builds ./bin/temporal).
	CLIPath string
	// HostPort is the frontend address; empty picks a free port.
	HostPort  string
	Namespace string
	// DBFile persists the server's state; empty keeps it in memory.
	DBFile string
	// UIPort serves the Web UI; empty runs headless.
	UIPort string
	// UICodecEndpoint is the codec server the Web UI decodes payloads with.
	UICodecEndpoint string
	// Output receives the server's own log; nil discards it.
	Output io.Writer
	Logger *slog.Logger
}

// Args are the extra command-line arguments the server is started with.
func Args() []string {
	args := make([]string, 0, 2*len(DynamicConfig))
	for _, kv := range DynamicConfig {
		args = append(args, "--dynamic-config-value", kv)
	}
	return args
}

// Start runs the dev server and waits until it answers.
func Start(ctx context.Context, o Options) (*testsuite.DevServer, error) {
	if _, err := os.Stat(o.CLIPath); err != nil {
		return nil, fmt.Errorf("temporal CLI not found at %s (run `make temporal`): %w", o.CLIPath, err)
	}
	attrs := make([]temporal.SearchAttributeUpdate, 0, len(workflows.SearchAttributeKeys()))
	for _, k := range workflows.SearchAttributeKeys() {
		attrs = append(attrs, k.(temporal.SearchAttributeKeyKeyword).ValueSet(""))
	}
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	extra := Args()
	if o.UICodecEndpoint != "" {
		extra = append(extra, "--ui-codec-endpoint", o.UICodecEndpoint)
	}
	clientOpts := temporalclient.Admin(o.HostPort, o.Namespace, o.Logger)
	opts := testsuite.DevServerOptions{
		ExistingPath:     o.CLIPath,
		ClientOptions:    &clientOpts,
		DBFilename:       o.DBFile,
		EnableUI:         o.UIPort != "",
		UIPort:           o.UIPort,
		LogLevel:         "warn",
		SearchAttributes: temporal.NewSearchAttributes(attrs...),
		ExtraArgs:        extra,
		Stdout:           out,
		Stderr:           out,
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start temporal dev server: %w", err)
	}
	return srv, nil
}

// Listening reports whether something accepts connections at hostPort.
func Listening(hostPort string) bool {
	conn, err := net.DialTimeout("tcp", hostPort, 500*time.Millisecond)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}
