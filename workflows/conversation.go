package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"
)

// ConversationWorkflow serialises the turns of one conversation: inbound
// messages arrive by signal, and it runs one TurnWorkflow at a time, so the
// reply to one message is in the history of the next. Messages that arrive
// during a turn are answered together by the next one (people split a
// thought over several texts). It ends after IdleTimeout without messages,
// and continues as new after TurnsBeforeContinue turns.
func ConversationWorkflow(ctx workflow.Context, in ConversationInput) error {
	c := &conversation{in: in, limits: in.Limits.withDefaults(), pending: in.Pending, last: in.LastMessageID}
	if err := workflow.SetQueryHandler(ctx, PendingQuery, func() ([]int64, error) {
		ids := make([]int64, 0, len(c.pending))
		for _, m := range c.pending {
			ids = append(ids, m.MessageID)
		}
		return ids, nil
	}); err != nil {
		return err
	}
	return c.run(ctx)
}

type conversation struct {
	in      ConversationInput
	limits  ConversationLimits
	pending []Inbound
	current []int64
	last    int64
}

// accept queues a message unless it was answered, is being answered, or is
// queued already: signals repeat (retried API calls, the reconciler).
func (c *conversation) accept(m Inbound) {
	if m.MessageID <= c.last || slices.Contains(c.current, m.MessageID) ||
		slices.ContainsFunc(c.pending, func(p Inbound) bool { return p.MessageID == m.MessageID }) {
		return
	}
	c.pending = append(c.pending, m)
	slices.SortFunc(c.pending, func(x, y Inbound) int { return int(x.MessageID - y.MessageID) })
}

func (c *conversation) drain(ch workflow.ReceiveChannel) {
	var m Inbound
	for ch.ReceiveAsync(&m) {
		c.accept(m)
	}
}

func (c *conversation) run(ctx workflow.Context) error {
	inbound := workflow.GetSignalChannel(ctx, InboundSignal)
	for turns := 0; ; turns++ {
		c.drain(inbound)
		if len(c.pending) == 0 {
			if !c.waitForMessage(ctx, inbound) {
				return nil
			}
		}
		if turns >= c.limits.TurnsBeforeContinue {
			return workflow.NewContinueAsNewError(ctx, ConversationWorkflowName, ConversationInput{
				ConversationID: c.in.ConversationID, UserID: c.in.UserID, Limits: c.in.Limits,
				Pending: c.pending, LastMessageID: c.last,
			})
		}
		batch := c.pending
		c.pending = nil
		if err := c.runTurn(ctx, batch); err != nil {
			workflow.GetLogger(ctx).Error("turn failed", "first_message_id", batch[0].MessageID, "error", err)
		}
	}
}

// waitForMessage blocks until a message is queued (true) or the conversation
// has been idle for IdleTimeout (false).
func (c *conversation) waitForMessage(ctx workflow.Context, inbound workflow.ReceiveChannel) bool {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, c.limits.IdleTimeout)
	for len(c.pending) == 0 {
		idle := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(inbound, func(ch workflow.ReceiveChannel, _ bool) {
			var m Inbound
			ch.Receive(ctx, &m)
			c.accept(m)
		})
		sel.AddFuture(timer, func(workflow.Future) { idle = true })
		sel.Select(ctx)
		if idle {
			c.drain(inbound)
			return len(c.pending) > 0
		}
	}
	return true
}

// runTurn answers a batch of messages with a child TurnWorkflow and waits
// for it. A turn that already ran (same id) is not run again.
func (c *conversation) runTurn(ctx workflow.Context, batch []Inbound) error {
	ids := make([]int64, 0, len(batch))
	for _, m := range batch {
		ids = append(ids, m.MessageID)
	}
	c.current = ids
	defer func() { c.current = nil }()
	in := TurnInput{ConversationID: c.in.ConversationID, UserID: c.in.UserID,
		Channel: batch[len(batch)-1].Channel, MessageIDs: ids}
	err := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, TurnChildOptions(in)), TurnWorkflowName, in).Get(ctx, nil)
	c.last = max(c.last, ids[len(ids)-1])
	return err
}
