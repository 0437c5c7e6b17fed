package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// newerEvery is how often a retried LLM call looks for a newer message.
const newerEvery = time.Second

// errInterrupted ends an LLM call that gives way to a newer message.
var errInterrupted = temporal.NewNonRetryableApplicationError(
	"the user wrote again while the llm call was retried", ErrInterrupted, nil)

// retried says whether this is a retry of an activity.
func retried(ctx context.Context) bool {
	return activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1
}

// giveWay watches, during a retried LLM call, for a message the user sent
// after the newest one the turn answers: the call is cancelled when one
// comes, so that one turn answers everything instead of the user waiting
// behind retries of a question they have moved on from. It returns the
// context to call with and a function that stops watching and says
// whether the call gave way (errInterrupted).
func (a *Activities) giveWay(ctx context.Context, conversation string, userID int64, history []domain.Message) (context.Context, func() error) {
	var newest int64
	for _, m := range history {
		if m.SenderID == userID {
			newest = max(newest, m.ID)
		}
	}
	if !retried(ctx) || newest == 0 {
		return ctx, func() error { return nil }
	}
	wctx, cancel := context.WithCancel(ctx)
	gave := make(chan bool, 1)
	go func() {
		t := time.NewTicker(newerEvery)
		defer t.Stop()
		for {
			if waiting, err := domain.NewerWaiting(wctx, a.DB, conversation, userID, newest); err == nil && waiting {
				gave <- true
				cancel()
				return
			}
			select {
			case <-wctx.Done():
				gave <- false
				return
			case <-t.C:
			}
		}
	}()
	return wctx, func() error {
		cancel()
		if <-gave {
			return errInterrupted
		}
		return nil
	}
}
