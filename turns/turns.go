// Package turns is the client side of the AI turn: it hands a stored
// inbound message to its conversation's workflow, for the API as it accepts
// a message and for the reconciler that catches what the API could not hand
// over.
package turns

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

// Starter signals inbound messages into conversation workflows, starting
// them when needed.
type Starter struct {
	Client    client.Client
	TaskQueue string
	Policy    workflows.Policy
}

// NewStarter builds the starter with the turn policy of the configuration.
func NewStarter(cfg config.Config, c client.Client) *Starter {
	return &Starter{Client: c, TaskQueue: cfg.TemporalTaskQueue, Policy: workflows.Policy{
		MaxLLMCalls: cfg.TurnMaxLLMCalls, LLMAttempts: int32(cfg.TurnLLMAttempts), LLMRetryInterval: cfg.TurnLLMRetryInterval,
	}}
}

// Start hands one stored inbound message to its conversation's workflow.
// Doing it twice is harmless: the workflow ignores messages it has seen.
func (s *Starter) Start(ctx context.Context, m *domain.Message) error {
	if m.ConversationID == nil {
		return fmt.Errorf("message %d has no conversation", m.ID)
	}
	conv := *m.ConversationID
	opts := client.StartWorkflowOptions{
		ID:                       workflows.ConversationWorkflowID(conv),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.UserIDKey.ValueSet(fmt.Sprint(m.SenderID)),
			workflows.ConversationIDKey.ValueSet(conv),
		),
	}
	_, err := s.Client.SignalWithStartWorkflow(ctx, opts.ID, workflows.InboundSignal,
		workflows.Inbound{MessageID: m.ID, Channel: string(m.Channel)}, opts,
		workflows.ConversationWorkflow, workflows.ConversationInput{
			ConversationID: conv, UserID: m.SenderID, Policy: s.Policy,
		})
	if err != nil {
		return fmt.Errorf("start turn for message %d: %w", m.ID, err)
	}
	return nil
}

// Reconciler finds inbound messages whose turn was never handed over (the
// API answered while Temporal was unreachable) and hands them over.
type Reconciler struct {
	Starter *Starter
	DB      bun.IDB
	// Grace leaves the API time to hand a message over itself.
	Grace time.Duration
	// Stale is how long a handed-over message may wait for its reply
	// before it is handed over again, in case its workflow lost it (a
	// Temporal server whose state was reset). Zero never does.
	Stale    time.Duration
	Interval time.Duration
	Logger   *slog.Logger
}

// Run reconciles at once and then every Interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	for {
		if n, err := r.Once(ctx); err != nil {
			r.Logger.Warn("turn reconciler", "error", err, "handed_over", n)
		} else if n > 0 {
			r.Logger.Info("turn reconciler handed over waiting messages", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.Interval):
		}
	}
}

// Once hands over every waiting message older than Grace that was never
// handed over, or was handed over longer than Stale ago, and says how many.
func (r *Reconciler) Once(ctx context.Context) (int, error) {
	now := time.Now()
	staleBefore := time.Time{}
	if r.Stale > 0 {
		staleBefore = now.Add(-r.Stale)
	}
	msgs, err := domain.PendingTurns(ctx, r.DB, now.Add(-r.Grace), staleBefore, 500)
	if err != nil {
		return 0, err
	}
	for i := range msgs {
		if err := r.Starter.Start(ctx, &msgs[i]); err != nil {
			return i, err
		}
		if err := domain.MarkHandedOver(ctx, r.DB, msgs[i].ID); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}
