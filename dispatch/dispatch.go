// Package dispatch gives a user's conversation with the assistant what
// its ConversationWorkflow acts on, by SignalWithStart (starting the
// workflow when none runs):
//
//   - Conversations.Dispatch: a stored message, either the user's (to be
//     answered) or a person's answer (to be delivered). The API calls it
//     once it has stored a message and answered the client, the `chat` CLI
//     for its messages, and the worker's Reconciler for every message the
//     API could not dispatch (Temporal was unreachable) or whose workflow
//     lost it.
//   - Conversations.SetMode: who answers, the AI or a person (the human
//     handoff). The support routes (takeover, resume) and the
//     `conversations` CLI call it; the workflow decides and records the mode.
//
// Nothing here stores messages or decides a mode: it only carries them
// to the workflow, which does both once and in order.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

// Signaler is the part of the Temporal client dispatching uses.
type Signaler interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Conversations are the conversation workflows, as the place stored
// messages and mode requests are dispatched to.
type Conversations struct {
	Temporal  Signaler
	TaskQueue string
	DB        bun.IDB
	// Debounce is how long a conversation waits after a message by SMS,
	// WhatsApp or Telegram for the rest of a burst (TURN_DEBOUNCE_MS);
	// the web, which streams its answers, never waits.
	Debounce time.Duration
}

// Dispatch signals a stored message into its conversation's workflow
// (starting it when none runs): a user's message to answer, or a person's
// answer to deliver. Then it marks the message dispatched so the
// reconciler leaves it alone. Doing it twice is harmless: the workflow
// ignores messages it has seen, and delivers a message once.
func (c *Conversations) Dispatch(ctx context.Context, m *domain.Message) error {
	if m.ConversationID == nil {
		return fmt.Errorf("dispatch message %d: it has no conversation", m.ID)
	}
	userID := m.SenderID
	var signal string
	var arg any
	if m.AgentID != nil {
		userID = m.RecipientID
		signal, arg = workflows.AgentReplySignal, workflows.AgentReply{MessageID: m.ID, AgentID: *m.AgentID}
	} else {
		in := workflows.Inbound{MessageID: m.ID, Channel: string(m.Channel)}
		if m.Channel != domain.ChannelWeb {
			// Asking for a person counts on the channels that have no
			// button for it, as the message arrives.
			in.AsksForHuman = domain.AsksForHuman(m.Content) || domain.WantsPerson(m.Content)
			in.Debounce = c.Debounce
		}
		signal, arg = workflows.InboundSignal, in
	}
	if err := c.signal(ctx, *m.ConversationID, userID, signal, arg); err != nil {
		return fmt.Errorf("dispatch message %d: %w", m.ID, err)
	}
	if err := domain.MarkDispatched(ctx, c.DB, m.ID); err != nil {
		return fmt.Errorf("dispatch message %d: %w", m.ID, err)
	}
	return nil
}

// SetMode asks a user's conversation with the assistant to change who
// answers it (starting its workflow when none runs).
func (c *Conversations) SetMode(ctx context.Context, userID int64, r workflows.ModeRequest) error {
	if err := c.signal(ctx, domain.AIConversationID(userID), userID, workflows.ModeSignal, r); err != nil {
		return fmt.Errorf("set mode of the conversation of user %d: %w", userID, err)
	}
	return nil
}

func (c *Conversations) signal(ctx context.Context, conversationID string, userID int64, signal string, arg any) error {
	in := workflows.ConversationInput{ConversationID: conversationID, UserID: userID, Revision: workflows.ConversationRevision}
	opts := workflows.ConversationStartOptions(in, c.TaskQueue)
	_, err := c.Temporal.SignalWithStartWorkflow(ctx, opts.ID, signal, arg, opts, workflows.ConversationWorkflowName, in)
	return err
}

// Reconciler finds inbound messages and people's answers that were never
// dispatched (the API answered while Temporal was unreachable) and
// dispatches them.
type Reconciler struct {
	Conversations *Conversations
	DB            bun.IDB
	// Grace leaves the API time to dispatch a message itself.
	Grace time.Duration
	// Stale is how long a dispatched message may wait for its reply
	// before it is dispatched again, in case its workflow lost it (a
	// Temporal server whose state was reset). Zero never does.
	Stale    time.Duration
	Interval time.Duration
	Logger   *slog.Logger
	// Backlog, when set, is told how many messages each round found
	// waiting (metrics.Metrics.DispatchBacklog).
	Backlog prometheus.Gauge
}

// Run reconciles at once and then every Interval until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	for {
		if n, err := r.Once(ctx); err != nil {
			r.Logger.Warn("dispatch reconciler", "error", err, "dispatched", n)
		} else if n > 0 {
			r.Logger.Info("dispatch reconciler dispatched waiting messages", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.Interval):
		}
	}
}

// Once dispatches every waiting message older than Grace that was never
// dispatched, or was dispatched longer than Stale ago, and says how many.
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
	replies, err := domain.PendingAgentReplies(ctx, r.DB, now.Add(-r.Grace), staleBefore, 500)
	if err != nil {
		return 0, err
	}
	msgs = append(msgs, replies...)
	if r.Backlog != nil {
		r.Backlog.Set(float64(len(msgs)))
	}
	for i := range msgs {
		if err := r.Conversations.Dispatch(ctx, &msgs[i]); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// Updater sends workflow updates (the Temporal client does).
type Updater interface {
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// ErrNotWaiting is a decision on a tool call its turn is not waiting on:
// decided already, expired, or the turn has ended.
var ErrNotWaiting = errors.New("the call is not waiting for a decision")

// DecideApproval gives a turn a person's decision on a tool call waiting
// for approval, and returns once the turn took it (ErrNotWaiting when it
// did not: the call is not waiting).
func (c *Conversations) DecideApproval(ctx context.Context, turnID string, d workflows.ApprovalDecision) error {
	u, ok := c.Temporal.(Updater)
	if !ok {
		return errors.New("decide approval: this Temporal client sends no updates")
	}
	h, err := u.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: turnID, UpdateName: workflows.ApprovalUpdate,
		Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var appErr *temporal.ApplicationError
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case errors.As(err, &appErr) && appErr.Type() == workflows.ErrNotWaiting, errors.As(err, &notFound):
		return ErrNotWaiting
	}
	return fmt.Errorf("decide approval of %s in %s: %w", d.CallID, turnID, err)
}
