package workflows

import (
	"errors"
	"time"

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

// deliverBehindChange marks the turns that, when their channel is slow
// or down, let their conversation go on while they deliver.
const deliverBehindChange = "deliver-behind"

// firstTry is how long a reply's delivery is tried before its
// conversation is let go on: short enough that a channel down does not
// keep the user's next messages waiting, long enough that a provider's
// hiccup does not change anything.
func firstTry(giveUp time.Duration) time.Duration {
	return min(30*time.Second, giveUp/2)
}

// deliverReply sends the turn's saved reply. When the channel does not
// take it within firstTry, the turn tells its conversation, which starts
// the next turn meanwhile (the Deliver step keeps replies in order:
// a later one waits for this one), and tries on until the give-up time.
func (t *turn) deliverReply(ctx workflow.Context, res TurnResult) error {
	giveUp := t.policy.DeliveryGiveUpOrDefault()
	first := firstTry(giveUp)
	in := activities.DeliverInput{ReplyID: res.ReplyID}
	err := workflow.ExecuteActivity(withDeliverOptions(ctx, first), a.Deliver, in).Get(ctx, nil)
	if err == nil || permanent(err) || workflow.GetVersion(ctx, deliverBehindChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return err
	}
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	if parent != nil {
		saved := TurnSaved{TurnID: workflow.GetInfo(ctx).WorkflowExecution.ID, Result: res}
		if serr := workflow.SignalExternalWorkflow(ctx, parent.ID, "", TurnSavedSignal, saved).Get(ctx, nil); serr != nil {
			workflow.GetLogger(ctx).Warn("conversation not told the reply is saved", "error", serr)
		}
	}
	workflow.GetLogger(ctx).Warn("reply not delivered yet; the conversation goes on", "reply_id", res.ReplyID, "error", err)
	return workflow.ExecuteActivity(withDeliverOptions(ctx, giveUp-first), a.Deliver, in).Get(ctx, nil)
}

// permanent says whether a Deliver error is a refusal no retry can fix.
func permanent(err error) bool {
	var appErr *temporal.ApplicationError
	return temporal.IsCanceledError(err) || (errors.As(err, &appErr) && appErr.NonRetryable())
}
