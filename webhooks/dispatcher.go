// Package webhooks dispatches outbound webhooks: it turns the events the
// database's triggers leave in the outbox into deliveries, one per
// subscription that wants the event, and starts a Temporal workflow for
// each delivery, which posts it with retries. It runs in every worker;
// two at once start each delivery once.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

// Starter starts workflows (a Temporal client).
type Starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Dispatcher moves events from the outbox to delivery workflows.
type Dispatcher struct {
	DB        *bun.DB
	Temporal  Starter
	TaskQueue string
	// RetryInitial and GiveUpAfter are each delivery's retry budget
	// (WEBHOOK_RETRY_MS, WEBHOOK_GIVE_UP_MINUTES).
	RetryInitial time.Duration
	GiveUpAfter  time.Duration
	Interval     time.Duration
	Logger       *slog.Logger
}

// batch is how many events or deliveries one query takes.
const batch = 200

// Run dispatches at once and then every Interval until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		if n, err := d.Once(ctx); err != nil && ctx.Err() == nil {
			d.Logger.Warn("webhook dispatcher", "error", err, "started", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.Interval):
		}
	}
}

// Once fans out every event waiting in the outbox and starts the workflow
// of every delivery that has none yet; it says how many it started. A
// delivery whose start failed is tried again on the next round.
func (d *Dispatcher) Once(ctx context.Context) (int, error) {
	for {
		n, err := domain.FanOutWebhooks(ctx, d.DB, batch)
		if err != nil {
			return 0, fmt.Errorf("fan out webhook events: %w", err)
		}
		if n < batch {
			break
		}
	}
	started := 0
	for {
		pending, err := domain.UnstartedWebhookDeliveries(ctx, d.DB, batch)
		if err != nil {
			return started, err
		}
		for _, del := range pending {
			_, err := d.Temporal.ExecuteWorkflow(ctx, workflows.WebhookStartOptions(del.ID, d.TaskQueue),
				workflows.WebhookWorkflowName, workflows.WebhookInput{
					DeliveryID: del.ID, RetryInitial: d.RetryInitial, GiveUpAfter: d.GiveUpAfter})
			var already *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &already) {
				return started, fmt.Errorf("start delivery %d: %w", del.ID, err)
			}
			if err := domain.MarkWebhookStarted(ctx, d.DB, del.ID); err != nil {
				return started, err
			}
			started++
		}
		if len(pending) < batch {
			return started, nil
		}
	}
}
