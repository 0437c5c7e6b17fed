package workflows_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/workflows"
)

// unreachable is a channel that never answers: every Deliver attempt
// fails and may be retried. It records each attempt's timeouts, and the
// failures the workflow records.
type unreachable struct {
	mu       sync.Mutex
	attempts int
	// windows are the ScheduleToCloseTimeout of each Deliver scheduled.
	windows  map[string]time.Duration
	failures []activities.DeliveryFailureInput
}

func (u *unreachable) deliver(ctx context.Context, _ activities.DeliverInput) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.attempts++
	if u.windows == nil {
		u.windows = map[string]time.Duration{}
	}
	u.windows[activity.GetInfo(ctx).ActivityID] = activity.GetInfo(ctx).ScheduleToCloseTimeout
	return errors.New("twilio unavailable (503)")
}

// giveUp is how long the channel was tried in all.
func (u *unreachable) giveUp() time.Duration {
	var total time.Duration
	for _, w := range u.windows {
		total += w
	}
	return total
}

func (u *unreachable) record(_ context.Context, in activities.DeliveryFailureInput) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failures = append(u.failures, in)
	return nil
}

// A reply whose channel stays down is retried for the worker's
// DELIVERY_GIVE_UP_MINUTES, then recorded failed (gave_up) and the turn
// ends undeliverable; a policy read before the setting keeps the hour.
func TestDeliveryGivesUpAfterThePolicysTime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		giveUp time.Duration
		want   time.Duration
	}{{"policy", 3 * time.Minute, 3 * time.Minute}, {"older policy", 0, time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			p := testPolicy
			p.DeliveryGiveUp = tc.giveUp
			env := newEnvWith(t, p)
			saved := &replies{}
			ch := &unreachable{}
			env.OnActivity(a.LoadHistory, mock.Anything, mock.Anything).Return(activities.History{IDs: []int64{5}}, nil)
			env.OnActivity(a.SaveReply, mock.Anything, mock.Anything).Return(saved.save)
			env.OnActivity(a.CallLLM, mock.Anything, mock.Anything).Return(activities.CallLLMResult{Content: "ok"}, nil)
			env.OnActivity(a.Deliver, mock.Anything, mock.Anything).Return(ch.deliver)
			env.OnActivity(a.RecordDeliveryFailure, mock.Anything, mock.Anything).Return(ch.record)
			in := turnInput(5)
			in.Channel = "twilio"
			env.ExecuteWorkflow(workflows.TurnWorkflow, in)

			var res workflows.TurnResult
			require.NoError(t, env.GetWorkflowResult(&res))
			assert.Equal(t, workflows.OutcomeUndeliverable, res.Outcome)
			assert.Equal(t, tc.want, ch.giveUp())
			assert.Len(t, ch.windows, 2, "a first try, then the rest behind the conversation")
			assert.Greater(t, ch.attempts, 1, "retried until the give-up time")
			assert.Equal(t, []activities.DeliveryFailureInput{{MessageID: res.ReplyID, Reason: activities.ReasonGaveUp}}, ch.failures)
		})
	}
}
