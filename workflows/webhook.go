package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/domain"
)

// WebhookInput is one delivery of an outbound webhook and how long to
// keep trying it.
type WebhookInput struct {
	DeliveryID int64
	// RetryInitial is the wait before the second attempt, doubled for each
	// further one up to an hour; GiveUpAfter ends the tries.
	RetryInitial time.Duration
	GiveUpAfter  time.Duration
}

// webhookAttemptTimeout bounds one attempt with its bookkeeping.
const webhookAttemptTimeout = 30 * time.Second

// WebhookWorkflow delivers one event to one subscription: attempts with
// exponential backoff until the receiver answers 2xx or GiveUpAfter
// passes, then the delivery is marked failed and the workflow fails, so
// operators find given-up deliveries in the Web UI.
func WebhookWorkflow(ctx workflow.Context, in WebhookInput) (domain.DeliveryState, error) {
	if in.DeliveryID == 0 || in.GiveUpAfter <= 0 || in.RetryInitial <= 0 {
		return "", temporal.NewNonRetryableApplicationError("webhook without a delivery or a retry budget", ErrBadInput, nil)
	}
	send := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    webhookAttemptTimeout,
		ScheduleToCloseTimeout: in.GiveUpAfter,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    in.RetryInitial,
			BackoffCoefficient: 2,
			MaximumInterval:    min(time.Hour, in.GiveUpAfter),
		},
	})
	var state domain.DeliveryState
	err := workflow.ExecuteActivity(send, a.SendWebhook, in.DeliveryID).Get(ctx, &state)
	if err == nil {
		return state, nil
	}
	end := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: webhookAttemptTimeout, ScheduleToCloseTimeout: time.Hour,
	})
	if endErr := workflow.ExecuteActivity(end, a.EndWebhook, in.DeliveryID).Get(ctx, nil); endErr != nil {
		return "", fmt.Errorf("mark delivery failed: %w", endErr)
	}
	return domain.WebhookFailed, fmt.Errorf("webhook delivery %d given up: %w", in.DeliveryID, err)
}
