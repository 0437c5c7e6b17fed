package workflows_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	aimsgworker "github.com/aimsg/aimsg/worker"
)

// TestReplaySavedHistories replays histories recorded from real runs (by
// the end-to-end tests with AIMSG_SAVE_HISTORIES set): a change to a
// workflow that would break the turns in flight fails here first. -v0 are
// turns that carried their policy in their input, -v1 turns that read the
// worker's (the "worker-policy" version), -v2 turns of TurnRevision 1 (no
// version marker, no Deliver for the web), -v3 a turn that searched the
// knowledge base and saved the sources it cited, -v4 a turn of a
// configured agent that transferred to another, -v5 one whose tool call
// waited for a person's approval (an update); conversation-v3 is a run of
// ConversationRevision 1 (one idle timer across turns), conversation-v4
// of revision 2 (messages a reply answered are dropped from the queue),
// conversation-v5 one that gathered a burst of texts behind debounce
// timers, conversation-v6 one that stopped a stuck turn when a call for a
// person came (the "handoff-on-arrival" version); turn-v6 is a turn that
// gave way to a newer message while it retried the LLM; turn-v7 and
// conversation-v7 a turn whose channel was down, which let its
// conversation go on while it delivered ("deliver-behind");
// turn-delivery-gave-up and conversation-delivery-refused record why a
// reply was not delivered; turn-inbound-media is a turn that fetched a
// picture before the LLM (the "inbound-media" version), turn-voice-unheard
// one whose voice note could not be transcribed; conversation-v8 and -v9
// are runs of ConversationRevision 3, which follow episodes to their
// outcome: one a person took over and gave back, one the AI answered and
// that ended quietly, each with its survey delivered.
func TestReplaySavedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			aimsgworker.RegisterWorkflows(r)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
