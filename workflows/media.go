package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/activities"
)

// VoiceNoteUnheard answers a turn whose only content was a voice note
// that could not be fetched or transcribed.
const VoiceNoteUnheard = "I could not hear that voice note. Could you type your message?"

// inboundMediaChange marks the version of the turn that fetches the
// files its messages carry before the agent loop. Only turns with such
// files record it: the others keep their shape.
const inboundMediaChange = "inbound-media"

// answer is the turn's answer to its history: the files its messages
// carry are fetched first (pictures for the model, voice notes
// transcribed), then the agent loop runs; a turn that brought nothing
// but a voice note nobody could hear is told so without the LLM.
func (t *turn) answer(ctx workflow.Context, history activities.History, res *TurnResult) (string, Outcome) {
	if len(history.Media) > 0 && workflow.GetVersion(ctx, inboundMediaChange, workflow.DefaultVersion, 1) == 1 {
		media := t.fetchMedia(ctx, history.Media)
		if ctx.Err() != nil {
			return "", OutcomeCancelled
		}
		if media.Unheard > 0 && !media.Answerable {
			workflow.GetLogger(ctx).Info("voice note not heard; asking the user to type", "unheard", media.Unheard)
			return VoiceNoteUnheard, OutcomeVoiceUnheard
		}
	}
	return t.agentLoop(ctx, history.IDs, res)
}

// fetchMedia runs FetchMedia for the messages with pending files; past
// its retries SettleMedia records them failed. Either way it says what
// the turn's messages carry (nothing known if even that failed).
func (t *turn) fetchMedia(ctx workflow.Context, messages []int64) activities.MediaResult {
	t.step = StepFetchMedia
	log := workflow.GetLogger(ctx)
	in := activities.FetchMediaInput{Messages: messages, Turn: t.in.MessageIDs}
	var out activities.MediaResult
	err := workflow.ExecuteActivity(withMediaOptions(ctx, t.policy.LLMRetryInterval), a.FetchMedia, in).Get(ctx, &out)
	if err == nil || ctx.Err() != nil {
		return out
	}
	log.Warn("media not fetched past its retries", "error", err)
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	if err := workflow.ExecuteLocalActivity(local, a.SettleMedia, in).Get(ctx, &out); err != nil {
		log.Error("media not settled", "error", err)
	}
	return out
}

// mediaAttempts bounds FetchMedia's tries: the provider or the
// transcriber down for longer is not waited for, the turn answers
// without the files.
const mediaAttempts = 3

// withMediaOptions fetches and transcribes files: a few attempts, backing
// off from the LLM's retry interval (the transcriber is the LLM
// endpoint), a dead worker noticed by its heartbeat.
func withMediaOptions(ctx workflow.Context, retry time.Duration) workflow.Context {
	if retry <= 0 {
		retry = time.Second
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    heartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: retry, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: mediaAttempts},
	})
}
