// Package api is aimsg's HTTP interface: the gin router, its middleware and
// one file of handlers per resource.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/channels"
	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/workflows"
)

// TemporalHealth is the part of the Temporal client the API needs to report
// its health.
type TemporalHealth interface {
	CheckHealth(ctx context.Context, req *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// Conversations are the conversation workflows (dispatch.Conversations):
// Dispatch gives a stored message to its conversation's workflow and
// records that it did; SetMode asks it to change who answers.
type Conversations interface {
	Dispatch(ctx context.Context, m *domain.Message) error
	SetMode(ctx context.Context, userID int64, r workflows.ModeRequest) error
	DecideApproval(ctx context.Context, turnID string, d workflows.ApprovalDecision) error
}

// Server holds the dependencies of the handlers.
type Server struct {
	cfg           config.Config
	logs          *logs.Set
	db            *bun.DB
	temporal      TemporalHealth
	conversations Conversations
	metrics       *metrics.Metrics
	tokens        *auth.Tokens
	passwords     *auth.Passwords
	loginLimits   domain.LoginLimits
	// assistant caches the AI's user id once read (it never changes).
	assistant atomic.Int64
	// dispatches queue stored messages for their conversation.
	dispatches *dispatches
	// sessions remembers live sessions for a moment.
	sessions *sessionCache
	// live fans the live path's events out to the event streams.
	live *events.Hub
	// streams are the open event streams, kept alive together.
	streams streamSet
	// payloads seals and opens Temporal payloads for the codec endpoint;
	// nil without TEMPORAL_PAYLOAD_KEY.
	payloads *codec.Codec
	// agentTools are the tool names an agent may list: the worker's
	// built-in tools, as this configuration builds them.
	agentTools domain.ToolKnown
	// twilio and telegram are the channels configured; channels holds
	// any other added.
	twilio   *channels.Twilio
	telegram *channels.Telegram
	channels channelSet
}

// Handler is the HTTP handler of the whole API.
type Handler struct {
	http.Handler
	s *Server
}

// CloseStreams ends the event streams this process holds, admits no new
// ones, and returns once each has forgotten its row: their clients
// reconnect to another process. A process that stops calls it after the
// HTTP server's Shutdown and before it closes the database: Shutdown
// neither waits for nor closes streams that left net/http. Give it to
// RegisterOnShutdown too, so that the streams still in net/http (HTTP/2)
// end at once instead of holding Shutdown.
func (h *Handler) CloseStreams() { h.s.streams.closeAll() }

// NewServer builds the HTTP handler of the whole API.
func NewServer(cfg config.Config, logSet *logs.Set, db *bun.DB, temporal TemporalHealth, conversations Conversations,
	live *events.Hub, m *metrics.Metrics) (*Handler, error) {
	s := &Server{
		cfg: cfg, logs: logSet, db: db, temporal: temporal, conversations: conversations, live: live, metrics: m,
		tokens:    auth.NewTokens(cfg.SecretKey),
		passwords: &auth.Passwords{Cost: cfg.BcryptCost},
		loginLimits: domain.LoginLimits{Window: cfg.LoginFailureWindow,
			PerAccountAddress: cfg.LoginMaxFailures, PerAddress: cfg.LoginMaxFailuresPerAddress,
			DelayAfter: cfg.LoginAccountDelayAfter, FirstDelay: cfg.LoginAccountDelay, MaxDelay: cfg.LoginAccountMaxDelay},
		dispatches: newDispatches(),
		sessions:   newSessionCache(cfg.AuthCacheTTL),
		agentTools: activities.KnownTools(activities.DefaultAgents(activities.AgentSettings{KnowledgeLanguage: cfg.KnowledgeLanguage}), cfg.MCPServers),
		streams: streamSet{db: db, log: logSet.Root, process: auth.RandomToken(12),
			limits: domain.StreamLimits{PerUser: cfg.StreamsPerUser, PerAddress: cfg.StreamsPerAddress,
				Stale: streamStale, RetryAfter: eventKeepAlive}},
	}
	s.twilio = &channels.Twilio{DB: db, AuthToken: cfg.TwilioAuthToken, PublicURL: cfg.PublicURL}
	s.telegram = &channels.Telegram{DB: db, Secret: cfg.TelegramWebhookSecret, Log: logSet.Area(logs.Auth)}
	if live != nil {
		// A change of what a user may do, made through any process, is
		// forgotten here at once (the streams end in the hub itself).
		live.OnUserChanged(s.sessions.forget)
		m.WatchLivePath(live.Connected)
	}
	m.WatchDB(db.DB)
	if _, err := openAPIJSON(); err != nil {
		return nil, err
	}
	useJSONNames()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) { abort(c, http.StatusNotFound, "Not Found") })
	r.NoMethod(func(c *gin.Context) { abort(c, http.StatusMethodNotAllowed, "Method Not Allowed") })
	r.Use(traced(), requestID(), securityHeaders(), requestLogger(logSet.Root, m), recovery(logSet.Root), limitBody(cfg.MaxBodyBytes, s.bodyLimits()), cleanQuery)
	if h := corsFor(cfg.CORSOrigins, cfg.PublicURL, cfg.CodecOrigins); h != nil {
		r.Use(h)
	}
	var err error
	if s.payloads, err = codec.Parse(cfg.TemporalPayloadKey); err != nil {
		return nil, err
	}
	s.routes(r)
	return &Handler{Handler: r, s: s}, nil
}

// maxHeaderBytes bounds request headers (a 1 MB Authorization header gets
// 431 before any handler runs).
const maxHeaderBytes = 32 << 10

// NewHTTPServer wraps the handler in a server with the timeouts and limits
// a public endpoint needs.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// assistantID is the id of the AI's system user.
func (s *Server) assistantID(c *gin.Context) (int64, error) {
	if id := s.assistant.Load(); id != 0 {
		return id, nil
	}
	a, err := domain.Assistant(c.Request.Context(), s.db)
	if err != nil {
		return 0, err
	}
	s.assistant.Store(a.ID)
	return a.ID, nil
}

// log is the root logger, tagged with the request's id.
func (s *Server) log(c *gin.Context) *slog.Logger {
	return s.logs.Root.With("request_id", c.GetString(requestIDKey))
}

// areaLog is an area's logger, tagged with the request's id.
func (s *Server) areaLog(c *gin.Context, a logs.Area) *slog.Logger {
	return s.logs.Area(a).With("request_id", c.GetString(requestIDKey))
}

// authLog is the auth area's logger, tagged with the request's id and client.
func (s *Server) authLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Auth).With("client_ip", c.ClientIP())
}
