// Package metrics holds aimsg's Prometheus metrics: the HTTP API, messages
// by channel, LLM calls, deliveries, the turns' outcomes, and the Temporal
// SDK's own client and worker metrics, all in one registry per process.
package metrics

import (
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics are the series aimsg records.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests *prometheus.CounterVec
	HTTPLatency  *prometheus.HistogramVec
	Inbound      *prometheus.CounterVec
	LLMLatency   *prometheus.HistogramVec
	LLMTokens    *prometheus.CounterVec
	Deliveries   *prometheus.CounterVec

	temporal      client.MetricsHandler
	temporalClose io.Closer
}

// New registers every series in a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{Registry: reg}
	m.HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	m.HTTPLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "aimsg_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "method"})
	m.Inbound = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_inbound_messages_total", Help: "Messages to the assistant accepted, by channel.",
	}, []string{"channel"})
	m.LLMLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "aimsg_llm_call_duration_seconds", Help: "LLM call latency by result (ok, error).",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 16, 32, 64},
	}, []string{"result"})
	m.LLMTokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_llm_tokens_total", Help: "LLM tokens by kind (prompt, completion).",
	}, []string{"kind"})
	m.Deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_deliveries_total", Help: "Reply deliveries by channel and result (ok, retry, rejected).",
	}, []string{"channel", "result"})
	for _, c := range []prometheus.Collector{m.HTTPRequests, m.HTTPLatency, m.Inbound, m.LLMLatency, m.LLMTokens, m.Deliveries} {
		f(c)
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: reg, Gatherer: reg})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	m.temporal = sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))
	m.temporalClose = closer
	return m
}

// Temporal is the handler the Temporal client and worker report through;
// turn outcomes are counted there too, from the workflows.
func (m *Metrics) Temporal() client.MetricsHandler { return m.temporal }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Close flushes the Temporal metrics scope.
func (m *Metrics) Close() error { return m.temporalClose.Close() }

// Since is the seconds elapsed since start, for histograms.
func Since(start time.Time) float64 { return time.Since(start).Seconds() }
