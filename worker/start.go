package worker

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/toolservers"
	"github.com/aimsg/aimsg/webhooks"
)

// reconcileGrace leaves the API time to dispatch a new message itself
// before the reconciler does.
const reconcileGrace = 10 * time.Second

// reconcileStale dispatches a message again when its reply is this late
// (see dispatch.Reconciler.Stale): far above any backlog a healthy stack has.
const reconcileStale = 10 * time.Minute

// TurnPolicy is how this worker's configuration says turns run (the
// TURN_* settings, LLM_TIMEOUT_SECONDS and DELIVERY_GIVE_UP_MINUTES).
func TurnPolicy(cfg config.Config) activities.TurnPolicy {
	return activities.TurnPolicy{
		MaxLLMCalls:     cfg.TurnMaxLLMCalls,
		MaxTransfers:    cfg.TurnMaxTransfers,
		ApprovalTimeout: cfg.ToolApprovalTimeout, ApprovalMessage: cfg.ToolApprovalMessage,
		LLMAttempts:      int32(cfg.TurnLLMAttempts),
		LLMRetryInterval: cfg.TurnLLMRetryInterval,
		LLMCallTimeout:   activities.LLMCallTimeout(max(cfg.LLMTimeout, cfg.LLMStreamMax)),
		HandoffMessage:   cfg.HandoffMessage, HandoffIdle: cfg.HandoffIdle, HandoffOnLLMFailure: cfg.HandoffOnLLMFailure,
		BudgetMessage:     cfg.LLMBudgetMessage,
		KnowledgeRequired: cfg.KnowledgeRequired, NoAnswerMessage: cfg.KnowledgeNoAnswerMessage,
		NoAnswerHandoff: cfg.KnowledgeNoAnswer == "handoff",
		DeliveryGiveUp:  cfg.DeliveryGiveUp,
		EpisodeQuiet:    cfg.CSATAfter,
		Survey:          survey(cfg),
	}
}

// survey is the satisfaction question episodes end with, when asked.
func survey(cfg config.Config) string {
	if !cfg.CSATEnabled {
		return ""
	}
	return domain.SurveyQuestion
}

// NewActivities are the activities as the configuration describes them
// (the LLM, the history size, the channels), publishing live events to live.
func NewActivities(cfg config.Config, db *bun.DB, live events.Publisher, logSet *logs.Set, m *metrics.Metrics) (*activities.Activities, error) {
	acts := &activities.Activities{
		DB:           db,
		LLM:          activities.NewEndpoint(cfg.LiteLLMBaseURL, cfg.LiteLLMAPIKey, cfg.LiteLLMModel, cfg.LLMTimeout),
		DailyTokens:  cfg.LLMUserDailyTokens,
		Agents:       activities.DefaultAgents(activities.AgentSettings{KnowledgeLanguage: cfg.KnowledgeLanguage}),
		HistoryMax:   cfg.ChatHistoryMax,
		SummaryEvery: cfg.ChatSummaryEvery,
		Policy:       TurnPolicy(cfg),
		Events:       live,
		Logger:       logSet.Root,
		SupportLog:   logSet.Area(logs.Support),
		Metrics:      m,
		Prices:       domain.PricesOf(cfg.LLMPrices),
		Webhooks:     activities.NewWebhooks(cfg.WebhookAllowPrivate, cfg.WebhookGiveUp),
		// For both endpoints: a streamed answer that goes quiet is cut.
		LLMIdleTimeout: cfg.LLMIdleTimeout,
	}
	acts.LLM.StreamMax = cfg.LLMStreamMax
	if cfg.LiteLLMFallbackBaseURL != "" {
		fb := activities.NewEndpoint(cfg.LiteLLMFallbackBaseURL, cfg.LiteLLMFallbackAPIKey, cfg.LiteLLMFallbackModel, cfg.LLMTimeout)
		fb.StreamMax = cfg.LLMStreamMax
		acts.Fallback = &fb
	}
	if len(cfg.MCPServers) > 0 {
		servers, err := toolservers.New(cfg.MCPServers, os.Getenv, logSet.Root)
		if err != nil {
			return nil, err
		}
		acts.MCP = servers
	}
	acts.Deliverers = map[domain.Channel]activities.Deliverer{}
	if cfg.TwilioAccountSID != "" && cfg.TwilioAuthToken != "" {
		api, err := activities.NewTwilio(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIBaseURL)
		if err != nil {
			return nil, err
		}
		acts.Deliverers[domain.ChannelTwilio] = &activities.TwilioSender{
			API: api, DB: db, From: cfg.TwilioPhoneNumber, MessagingServiceSID: cfg.TwilioMessagingServiceSID,
			StatusCallback: cfg.PublicURL + "/twilio_status", WhatsAppTemplateSID: cfg.WhatsAppTemplateSID,
		}
	}
	if cfg.TelegramBotToken != "" {
		acts.Deliverers[domain.ChannelTelegram] = &activities.TelegramSender{
			Bot: activities.NewTelegram(cfg.TelegramBotToken, cfg.TelegramAPIBaseURL), DB: db,
		}
	}
	acts.Media = newMedia(cfg)
	return acts, nil
}

// Start runs a worker as the configuration describes it, publishing live
// events to live, and the reconciler that dispatches what the API could
// not. stop ends the reconciler and drains running tasks.
func Start(ctx context.Context, cfg config.Config, tc client.Client, db *bun.DB, live events.Publisher,
	logSet *logs.Set, m *metrics.Metrics) (stop func(), err error) {
	logger := logSet.Root
	acts, err := NewActivities(cfg, db, live, logSet, m)
	if err != nil {
		return nil, err
	}
	w := New(tc, cfg.TemporalTaskQueue, acts, Options{
		MaxConcurrentActivities: cfg.WorkerActivities, MaxConcurrentWorkflowTasks: cfg.WorkerWorkflowTasks,
		StopTimeout: cfg.WorkerStopTimeout, Deployment: cfg.WorkerDeployment, BuildID: cfg.WorkerBuildID,
	})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	rec := &dispatch.Reconciler{Conversations: &dispatch.Conversations{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, Debounce: cfg.TurnDebounce},
		DB: db, Grace: reconcileGrace, Stale: reconcileStale, Interval: cfg.ReconcileInterval, Logger: logger, Backlog: m.DispatchBacklog}
	m.WatchDB(db.DB)
	dispatcher := &webhooks.Dispatcher{DB: db, Temporal: tc, TaskQueue: cfg.TemporalTaskQueue,
		RetryInitial: cfg.WebhookRetry, GiveUpAfter: cfg.WebhookGiveUp, Interval: cfg.WebhookDispatch, Logger: logger}
	if acts.MCP != nil {
		// Listed in the background: a slow server does not hold up the
		// start, and agents offer its tools once it answers.
		go func() { acts.MCP.Discover(rctx); acts.MCP.Watch(rctx, toolservers.RefreshEvery) }()
	}
	done := make(chan struct{}, 3)
	go func() { defer func() { done <- struct{}{} }(); rec.Run(rctx) }()
	go func() { defer func() { done <- struct{}{} }(); dispatcher.Run(rctx) }()
	go func() {
		defer func() { done <- struct{}{} }()
		if cfg.WorkerDeployment != "" {
			PromoteFirst(rctx, tc, cfg.WorkerDeployment, cfg.WorkerBuildID, logger)
		}
	}()
	logger.Info("worker polling", "task_queue", cfg.TemporalTaskQueue, "namespace", cfg.TemporalNamespace,
		"llm", cfg.LiteLLMBaseURL, "model", cfg.LiteLLMModel,
		"deployment", cfg.WorkerDeployment, "build_id", cfg.WorkerBuildID)
	return func() {
		cancel()
		<-done
		<-done
		<-done
		w.Stop()
		if acts.MCP != nil {
			_ = acts.MCP.Close()
		}
	}, nil
}
