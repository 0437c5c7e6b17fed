package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/activities"
)

// deliveryFailureChange marks the version of the workflows that record
// why a message was not delivered once its Deliver failed for good.
const deliveryFailureChange = "delivery-failure-reason"

// undelivered records that a message's Deliver failed for good, and why:
// the channel stayed unavailable past the worker's give-up time (the
// activity cannot record that itself) or refused it (recorded already;
// that reason stays). A cancelled wait (a handoff) records nothing.
func undelivered(ctx workflow.Context, messageID int64, err error) {
	if ctx.Err() != nil || temporal.IsCanceledError(err) {
		return
	}
	if workflow.GetVersion(ctx, deliveryFailureChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	in := activities.DeliveryFailureInput{MessageID: messageID, Reason: activities.DeliveryFailureReason(err)}
	if lerr := workflow.ExecuteLocalActivity(local, a.RecordDeliveryFailure, in).Get(ctx, nil); lerr != nil {
		workflow.GetLogger(ctx).Error("delivery failure not recorded", "message_id", messageID, "reason", in.Reason, "error", lerr)
	}
}
