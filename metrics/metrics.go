// Package metrics holds aimsg's Prometheus metrics: the HTTP API, messages
// by channel, LLM calls, deliveries, the turns' outcomes, webhooks, login
// throttling, the dispatch backlog, the live path and the database pool,
// and the Temporal SDK's own client and worker metrics, all in one
// registry per process. deploy/prometheus/alerts.yml alerts on them.
package metrics

import (
	"database/sql"
	"errors"
	"io"
	"net/http"
	"sync"
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
	// GenAITokens and GenAIDuration are the OpenTelemetry GenAI client
	// metrics (gen_ai.client.token.usage, gen_ai.client.operation.duration)
	// under their Prometheus names.
	GenAITokens   *prometheus.HistogramVec
	GenAIDuration *prometheus.HistogramVec
	Deliveries    *prometheus.CounterVec
	// DeliveriesFailed counts the replies recorded not delivered, by
	// channel and reason (messages.delivery_error).
	DeliveriesFailed *prometheus.CounterVec
	// Feedback counts the ratings people give answers, by rating.
	Feedback *prometheus.CounterVec
	// Outcomes counts the episodes of conversations with the assistant
	// by how they ended, the agent that answered last and the channel.
	Outcomes *prometheus.CounterVec
	// WebhookAttempts counts the attempts at webhook deliveries, by
	// result (delivered, failed).
	WebhookAttempts *prometheus.CounterVec
	// WebhookSubscriptionsDisabled counts the subscriptions disabled for
	// failing too long.
	WebhookSubscriptionsDisabled prometheus.Counter
	// LoginThrottled counts the password checks refused by the login
	// throttle, by attempt (login, password_confirmation).
	LoginThrottled *prometheus.CounterVec
	// DispatchBacklog is how many stored messages the reconciler last
	// found waiting to be handed to their conversation's workflow.
	DispatchBacklog prometheus.Gauge

	livePath *livePath

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
	m.GenAITokens = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gen_ai_client_token_usage", Help: "Tokens of each LLM call, by token type (input, output).",
		Buckets: []float64{1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864},
	}, []string{GenAIOperation, GenAIProvider, GenAIRequestModel, GenAIResponseModel, GenAIAgent, ServerAddress, GenAITokenType})
	m.GenAIDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gen_ai_client_operation_duration_seconds", Help: "Duration of each LLM call; error_type is set when it failed.",
		Buckets: []float64{0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92},
	}, []string{GenAIOperation, GenAIProvider, GenAIRequestModel, GenAIResponseModel, GenAIAgent, ServerAddress, ErrorType})
	m.Deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_deliveries_total", Help: "Reply deliveries by channel and result (ok, retry, rejected).",
	}, []string{"channel", "result"})
	m.DeliveriesFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_deliveries_failed_total",
		Help: "Replies recorded not delivered, by channel and reason (gave_up, outside_whatsapp_window, twilio_<code>...).",
	}, []string{"channel", "reason"})
	m.Feedback = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_feedback_total", Help: "Ratings people gave the assistant's answers, by rating (up, down).",
	}, []string{"rating"})
	m.Outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_conversation_outcomes_total",
		Help: "Episodes of conversations with the assistant, by outcome (resolved_by_ai, handed_off, resolved_by_person, abandoned), agent and channel.",
	}, []string{"outcome", "agent", "channel"})
	m.WebhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_webhook_attempts_total", Help: "Attempts at webhook deliveries, by result (delivered, failed).",
	}, []string{"result"})
	m.WebhookSubscriptionsDisabled = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "aimsg_webhook_subscriptions_disabled_total", Help: "Webhook subscriptions disabled for failing too long.",
	})
	m.LoginThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aimsg_login_throttled_total",
		Help: "Password checks refused by the login throttle, by attempt (login, password_confirmation).",
	}, []string{"attempt"})
	m.DispatchBacklog = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "aimsg_dispatch_backlog",
		Help: "Stored messages the reconciler last found waiting to be handed to their conversation's workflow (at most 1000).",
	})
	m.livePath = &livePath{desc: prometheus.NewDesc("aimsg_events_listener_connected",
		"1 while the API process's live path (its PostgreSQL LISTEN connection or SQLite poller) runs, 0 while it reconnects.", nil, nil)}
	for _, c := range []prometheus.Collector{m.HTTPRequests, m.HTTPLatency, m.Inbound, m.GenAITokens, m.GenAIDuration, m.Deliveries,
		m.DeliveriesFailed, m.Feedback, m.Outcomes, m.WebhookAttempts, m.WebhookSubscriptionsDisabled, m.LoginThrottled,
		m.DispatchBacklog, m.livePath} {
		f(c)
	}
	// Series of known labels start at 0, so that rates and alerts see
	// the first one.
	for _, r := range []string{"delivered", "failed"} {
		m.WebhookAttempts.WithLabelValues(r)
	}
	for _, a := range []string{LoginAttempt, PasswordConfirmation} {
		m.LoginThrottled.WithLabelValues(a)
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

// Labels of the GenAI metrics: the OpenTelemetry attribute names with
// dots made underscores, as Prometheus exporters write them.
const (
	GenAIOperation     = "gen_ai_operation_name"
	GenAIProvider      = "gen_ai_provider_name"
	GenAIRequestModel  = "gen_ai_request_model"
	GenAIResponseModel = "gen_ai_response_model"
	GenAITokenType     = "gen_ai_token_type"
	// GenAIAgent is the agent the call was made for (gen_ai.agent.name;
	// empty for a conversation summary).
	GenAIAgent    = "gen_ai_agent_name"
	ServerAddress = "server_address"
	ErrorType     = "error_type"
)

// The attempts of LoginThrottled.
const (
	LoginAttempt         = "login"
	PasswordConfirmation = "password_confirmation"
)

// WatchDB exports the connection pool of db (go_sql_*{db_name="aimsg"}:
// connections open, in use and their maximum, waits for one); the worker
// and the API each watch theirs. Watching the same pool again, as `aimsg
// dev`'s API and worker do, changes nothing.
func (m *Metrics) WatchDB(db *sql.DB) {
	var dup prometheus.AlreadyRegisteredError
	if err := m.Registry.Register(collectors.NewDBStatsCollector(db, "aimsg")); err != nil && !errors.As(err, &dup) {
		panic(err)
	}
}

// WatchLivePath exports aimsg_events_listener_connected from connected
// (events.Hub.Connected of an API process's hub): 1 when every watched
// hub's source runs. A process that watches none (a worker) exports no
// such series.
func (m *Metrics) WatchLivePath(connected func() bool) {
	m.livePath.mu.Lock()
	defer m.livePath.mu.Unlock()
	m.livePath.sources = append(m.livePath.sources, connected)
}

// livePath is the collector of aimsg_events_listener_connected.
type livePath struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	sources []func() bool
}

func (l *livePath) Describe(ch chan<- *prometheus.Desc) { ch <- l.desc }

func (l *livePath) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sources) == 0 {
		return
	}
	up := 1.0
	for _, connected := range l.sources {
		if !connected() {
			up = 0
		}
	}
	ch <- prometheus.MustNewConstMetric(l.desc, prometheus.GaugeValue, up)
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
