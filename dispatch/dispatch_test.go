package dispatch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// signals records SignalWithStart calls in memory; down makes them fail.
type signals struct {
	mu   sync.Mutex
	down bool
	got  []workflows.Inbound
	// replies are the people's answers signalled.
	replies []workflows.AgentReply
	opts    []client.StartWorkflowOptions
	args    []any
}

func (s *signals) SignalWithStartWorkflow(_ context.Context, id, signal string, arg any,
	opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errors.New("temporal unavailable")
	}
	if id != opts.ID || wf != workflows.ConversationWorkflowName {
		return nil, errors.New("unexpected signal")
	}
	switch signal {
	case workflows.InboundSignal:
		s.got = append(s.got, arg.(workflows.Inbound))
	case workflows.AgentReplySignal:
		s.replies = append(s.replies, arg.(workflows.AgentReply))
	default:
		return nil, errors.New("unexpected signal " + signal)
	}
	s.opts = append(s.opts, opts)
	s.args = append(s.args, args...)
	return nil, nil
}

func TestDispatchSignalsThenMarks(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, msgs := testenv.AskAssistant(t, db, "alice", domain.ChannelWeb, "", "hi")
		m := msgs[0]

		sig := &signals{down: true}
		conv := &dispatch.Conversations{Temporal: sig, TaskQueue: "q", DB: db}
		require.Error(t, conv.Dispatch(ctx, m))
		stored, err := domain.MessageByID(ctx, db, m.ID)
		require.NoError(t, err)
		assert.Nil(t, stored.DispatchedAt, "not marked when the signal failed")

		sig.down = false
		require.NoError(t, conv.Dispatch(ctx, m))
		stored, err = domain.MessageByID(ctx, db, m.ID)
		require.NoError(t, err)
		assert.NotNil(t, stored.DispatchedAt)
		require.Len(t, sig.got, 1)
		assert.Equal(t, workflows.Inbound{MessageID: m.ID, Channel: "web"}, sig.got[0])
		assert.Equal(t, workflows.ConversationWorkflowID(domain.AIConversationID(u.ID)), sig.opts[0].ID)
		assert.Equal(t, "q", sig.opts[0].TaskQueue)
		assert.Equal(t, workflows.ConversationInput{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
			Revision: workflows.ConversationRevision}, sig.args[0], "new runs take the current shape")
	})
}

func TestTheReconcilerDispatchesWhatWasLeft(t *testing.T) {
	ctx := context.Background()
	db := testenv.Migrated(t, "sqlite:///:memory:")
	_, msgs := testenv.AskAssistant(t, db, "alice", domain.ChannelWeb, "", "one", "two", "three")
	ids := []int64{msgs[0].ID, msgs[1].ID, msgs[2].ID}
	sig := &signals{}
	conv := &dispatch.Conversations{Temporal: sig, TaskQueue: "q", DB: db}
	m, err := domain.MessageByID(ctx, db, ids[1])
	require.NoError(t, err)
	require.NoError(t, conv.Dispatch(ctx, m), "the API dispatched the second")

	rec := &dispatch.Reconciler{Conversations: conv, DB: db, Grace: -time.Second, Logger: testenv.Logger()}
	n, err := rec.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Len(t, sig.got, 3)
	assert.Equal(t, []int64{ids[0], ids[2]}, []int64{sig.got[1].MessageID, sig.got[2].MessageID}, "the others, in order")

	n, err = rec.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing dispatched twice")
}

// A person's answer the API could not dispatch is delivered all the
// same; an SMS that is just the keyword asks for a person.
func TestTheReconcilerDispatchesAnswersAndKeywords(t *testing.T) {
	ctx := context.Background()
	db := testenv.Migrated(t, "sqlite:///:memory:")
	u, msgs := testenv.AskAssistant(t, db, "texter", domain.ChannelTwilio, "+14155552671", "hello", " Human ")
	agent, _ := testenv.AskAssistant(t, db, "agent", domain.ChannelWeb, "")
	answer, err := domain.SaveOutbound(ctx, db, domain.Outbound{UserID: u.ID, Content: "a person here", AgentID: agent.ID})
	require.NoError(t, err)
	sig := &signals{}
	conv := &dispatch.Conversations{Temporal: sig, TaskQueue: "q", DB: db}
	rec := &dispatch.Reconciler{Conversations: conv, DB: db, Grace: -time.Second, Logger: testenv.Logger()}
	n, err := rec.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, []workflows.Inbound{{MessageID: msgs[0].ID, Channel: "twilio"},
		{MessageID: msgs[1].ID, Channel: "twilio", AsksForHuman: true}}, sig.got)
	assert.Equal(t, []workflows.AgentReply{{MessageID: answer.ID, AgentID: agent.ID}}, sig.replies)
	assert.Equal(t, workflows.ConversationWorkflowID(domain.AIConversationID(u.ID)), sig.opts[2].ID,
		"the answer goes to the user's conversation")

	n, err = rec.Once(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing dispatched twice")
}
