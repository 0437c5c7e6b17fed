// Package temporalclient builds the options of every Temporal client
// aimsg makes, in the API, the worker, the CLI and the tests: the
// configured address and namespace, logs, metrics and traces going where
// the process's own go, payloads sealed with TEMPORAL_PAYLOAD_KEY, and
// gRPC compression as TEMPORAL_GZIP says.
package temporalclient

import (
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/tracing"
)

// Options are the client options for cfg, logging to log and counting in m.
func Options(cfg config.Config, log *slog.Logger, m *metrics.Metrics) (client.Options, error) {
	tracer, err := tracing.TemporalInterceptor()
	if err != nil {
		return client.Options{}, err
	}
	payloads, err := codec.Parse(cfg.TemporalPayloadKey)
	if err != nil {
		return client.Options{}, err
	}
	opts := client.Options{
		HostPort:       cfg.TemporalAddress,
		Namespace:      cfg.TemporalNamespace,
		Logger:         sdklog.NewStructuredLogger(log),
		MetricsHandler: m.Temporal(),
		Interceptors:   []interceptor.ClientInterceptor{tracer},
	}
	codec.Use(&opts, payloads)
	if !cfg.TemporalGzip {
		opts.ConnectionOptions.GrpcCompression = &client.GrpcCompressionNone{}
	}
	return opts, nil
}

// Admin are the options of a client that administers or watches a
// Temporal server for aimsg's tools and tests (the dev server, `make
// cluster`, the benchmark): address, namespace and logs only. It reads
// no aimsg payload, so it needs no key; aimsg's own processes use
// Options.
func Admin(hostPort, namespace string, log *slog.Logger) client.Options {
	return client.Options{HostPort: hostPort, Namespace: namespace, Logger: sdklog.NewStructuredLogger(log)}
}
