package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
)

// ConversationWorkflow serialises the turns of one conversation: inbound
// messages arrive by signal, and it runs one TurnWorkflow at a time, so the
// reply to one message is in the history of the next. Messages that arrive
// during a turn are answered together by the next one (people split a
// thought over several texts). It ends after IdleTimeout without messages,
// and continues as new after TurnsBeforeContinue turns.
//
// It also holds the conversation's mode: in ai mode the AI answers; in
// human mode (handed off by the user, the LLM, or a person taking over) no
// turn runs, waiting messages are left to a person, whose answers it
// delivers, and a durable timer gives the conversation back to the AI when
// no person has answered for the worker's HandoffIdle.
func ConversationWorkflow(ctx workflow.Context, in ConversationInput) error {
	c := &conversation{in: in, limits: in.Limits.withDefaults(), pending: in.Pending, last: in.LastMessageID,
		mode: ConversationMode{Mode: domain.ModeAI}, agent: in.Agent, episode: in.Episode}
	if in.Mode != nil {
		c.mode = *in.Mode
	}
	if err := workflow.SetQueryHandler(ctx, PendingQuery, func() ([]int64, error) {
		ids := make([]int64, 0, len(c.pending))
		for _, m := range c.pending {
			ids = append(ids, m.MessageID)
		}
		return ids, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, ModeQuery, func() (ConversationMode, error) {
		m := c.mode
		m.Agent = c.agent
		return m, nil
	}); err != nil {
		return err
	}
	c.now = func() time.Time { return workflow.Now(ctx) }
	c.arrived = c.now()
	c.inbound = workflow.GetSignalChannel(ctx, InboundSignal)
	c.modes = workflow.GetSignalChannel(ctx, ModeSignal)
	c.agentReplies = workflow.GetSignalChannel(ctx, AgentReplySignal)
	c.saved = workflow.GetSignalChannel(ctx, TurnSavedSignal)
	return c.run(ctx)
}

type conversation struct {
	in      ConversationInput
	limits  ConversationLimits
	pending []Inbound
	current []int64
	last    int64
	mode    ConversationMode
	// agent is the configured agent the AI answers with: the last turn's.
	agent string
	// policy is the worker's, read at each handoff (idle time, message).
	policy activities.TurnPolicy
	// policyRead says policy was read in this run.
	policyRead bool

	inbound, modes, agentReplies workflow.ReceiveChannel
	// control holds mode requests and agent replies that came during a
	// turn, handled once it ended.
	control []control
	// abandoned is a turn a handoff stopped, whose streamed text goes.
	abandoned string
	// held counts the steps of human mode, for continue-as-new.
	held int
	// idle is the running idle timer (revision 1), nil when none is;
	// from revision 3 it fires at idleAt, and cancelIdle stops it.
	idle       workflow.Future
	idleAt     time.Time
	cancelIdle func()
	// arrived is when the newest message was queued, for the debounce.
	arrived time.Time
	now     func() time.Time
	// saved tells of turns that saved their reply and still deliver it;
	// behind are those turns, waited for before the run ends.
	saved  workflow.ReceiveChannel
	behind []workflow.Future
	// episode is the user's request being answered (revision 3), nil
	// between one's outcome and the next message.
	episode *Episode
}

// control is a mode request or an agent reply, in the order they came.
type control struct {
	mode  *ModeRequest
	reply *AgentReply
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
	c.arrived = c.now()
}

// receive takes every signal waiting, without blocking: messages are
// queued, mode requests and agent replies kept in order for handle.
func (c *conversation) receive() {
	var m Inbound
	for c.inbound.ReceiveAsync(&m) {
		c.accept(m)
	}
	for {
		var r ModeRequest
		if !c.modes.ReceiveAsync(&r) {
			break
		}
		c.control = append(c.control, control{mode: &r})
	}
	for {
		var r AgentReply
		if !c.agentReplies.ReceiveAsync(&r) {
			break
		}
		c.control = append(c.control, control{reply: &r})
	}
}

// addToSelector wakes sel on any signal.
func (c *conversation) addToSelector(ctx workflow.Context, sel workflow.Selector) {
	sel.AddReceive(c.inbound, func(ch workflow.ReceiveChannel, _ bool) {
		var m Inbound
		ch.Receive(ctx, &m)
		c.accept(m)
	})
	sel.AddReceive(c.modes, func(ch workflow.ReceiveChannel, _ bool) {
		var r ModeRequest
		ch.Receive(ctx, &r)
		c.control = append(c.control, control{mode: &r})
	})
	sel.AddReceive(c.agentReplies, func(ch workflow.ReceiveChannel, _ bool) {
		var r AgentReply
		ch.Receive(ctx, &r)
		c.control = append(c.control, control{reply: &r})
	})
}

func (c *conversation) run(ctx workflow.Context) error {
	for turns := 0; ; {
		c.behind = slices.DeleteFunc(c.behind, func(f workflow.Future) bool { return f.IsReady() })
		c.receive()
		if err := c.handleControl(ctx); err != nil {
			return err
		}
		if c.mode.Mode == domain.ModeAI && c.asksForHuman() {
			if err := c.handOff(ctx, ModeRequest{Mode: domain.ModeHuman, Reason: "the user asked for a person"}, "keyword", true); err != nil {
				return err
			}
		}
		if c.mode.Mode == domain.ModeHuman {
			if err := c.hold(ctx); err != nil {
				return err
			}
			if len(c.control) > 0 {
				continue
			}
			if c.held >= c.limits.TurnsBeforeContinue {
				return c.continueAsNew(ctx)
			}
			if !c.waitAsHuman(ctx) {
				if err := c.resume(ctx, ModeRequest{Mode: domain.ModeAI, Reason: "no answer from a person"}, "idle"); err != nil {
					return err
				}
			}
			continue
		}
		if len(c.control) > 0 {
			continue
		}
		if len(c.pending) == 0 {
			if !c.waitForMessage(ctx) {
				c.waitBehind(ctx)
				return nil
			}
			continue
		}
		if turns >= c.limits.TurnsBeforeContinue {
			return c.continueAsNew(ctx)
		}
		if c.gather(ctx) {
			continue // a request or a call for a person came first
		}
		turns++
		batch := c.pending
		c.pending = nil
		if err := c.runTurn(ctx, batch); err != nil {
			workflow.GetLogger(ctx).Error("turn failed", "first_message_id", batch[0].MessageID, "error", err)
		}
	}
}

// waitBehind waits for the turns still delivering their replies: a run
// that ended would end them.
func (c *conversation) waitBehind(ctx workflow.Context) {
	for _, f := range c.behind {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("a turn delivering behind failed", "error", err)
		}
	}
	c.behind = nil
}

// continueAsNew starts the next run with what this one holds.
func (c *conversation) continueAsNew(ctx workflow.Context) error {
	c.waitBehind(ctx)
	next := ConversationInput{ConversationID: c.in.ConversationID, UserID: c.in.UserID, Limits: c.in.Limits,
		Pending: c.pending, LastMessageID: c.last, Revision: ConversationRevision, Agent: c.agent, Episode: c.episode}
	if c.mode.Mode != domain.ModeAI {
		mode := c.mode
		next.Mode = &mode
	}
	return workflow.NewContinueAsNewError(ctx, ConversationWorkflowName, next)
}

// waitForMessage blocks until a message or a request is queued (true) or
// the conversation has been idle for IdleTimeout (false).
func (c *conversation) waitForMessage(ctx workflow.Context) bool {
	if c.in.Revision < 1 {
		return c.wait(ctx, c.limits.IdleTimeout)
	}
	if c.in.Revision >= 3 {
		return c.waitQuietly(ctx)
	}
	// The idle timer outlives the wait: a message that comes leaves it
	// running, and when it fires early (the conversation was busy since it
	// started) the next one covers what is left.
	idleSince := workflow.Now(ctx)
	for len(c.pending) == 0 && len(c.control) == 0 {
		if c.idle != nil && c.idle.IsReady() {
			c.idle = nil
		}
		if c.idle == nil {
			left := idleSince.Add(c.limits.IdleTimeout).Sub(workflow.Now(ctx))
			if left <= 0 {
				c.receive()
				return len(c.pending) > 0 || len(c.control) > 0
			}
			c.idle = workflow.NewTimer(ctx, left)
		}
		sel := workflow.NewSelector(ctx)
		c.addToSelector(ctx, sel)
		sel.AddFuture(c.idle, func(workflow.Future) {})
		sel.Select(ctx)
	}
	return true
}

// gather waits, after a message that asks for it, for the rest of a
// burst: until Debounce has passed since the newest message, so that the
// texts one request was split into get one turn. It returns true when a
// mode request or a call for a person came meanwhile, to be handled first.
func (c *conversation) gather(ctx workflow.Context) bool {
	for {
		newest := c.pending[len(c.pending)-1]
		left := c.arrived.Add(newest.Debounce).Sub(workflow.Now(ctx))
		if newest.Debounce <= 0 || left <= 0 {
			return false
		}
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, left)
		fired := false
		sel := workflow.NewSelector(ctx)
		c.addToSelector(ctx, sel)
		sel.AddFuture(timer, func(workflow.Future) { fired = true })
		sel.Select(ctx)
		if fired {
			return false
		}
		cancel()
		if len(c.control) > 0 || c.asksForHuman() {
			return true
		}
	}
}

// asksForHuman says whether a waiting message asks for a person.
func (c *conversation) asksForHuman() bool {
	return slices.ContainsFunc(c.pending, func(m Inbound) bool { return m.AsksForHuman })
}

// waitAsHuman blocks, in human mode, until a message or a request is
// queued (true) or no person has answered for HandoffIdle (false).
func (c *conversation) waitAsHuman(ctx workflow.Context) bool {
	from := c.mode.Since
	if c.mode.LastAgentReply.After(from) {
		from = c.mode.LastAgentReply
	}
	if c.policy.HandoffIdle <= 0 {
		// A run continued as new has not read the worker's policy yet.
		local := workflow.WithLocalActivityOptions(ctx, localOptions)
		_ = workflow.ExecuteLocalActivity(local, a.TurnPolicy, activities.DefaultAgent).Get(ctx, &c.policy)
	}
	left := from.Add(c.policy.HandoffIdle).Sub(workflow.Now(ctx))
	if left <= 0 {
		// Idle for long enough already (a run continued as new late).
		c.receive()
		return len(c.pending) > 0 || len(c.control) > 0
	}
	return c.wait(ctx, left)
}

// wait blocks until a message or a request is queued (true) or d passes
// without one (false). A signal that queues nothing (a duplicate) waits on.
func (c *conversation) wait(ctx workflow.Context, d time.Duration) bool {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	for len(c.pending) == 0 && len(c.control) == 0 {
		idle := false
		sel := workflow.NewSelector(ctx)
		c.addToSelector(ctx, sel)
		sel.AddFuture(timer, func(workflow.Future) { idle = true })
		sel.Select(ctx)
		if idle {
			c.receive()
			return len(c.pending) > 0 || len(c.control) > 0
		}
	}
	return true
}

// handleControl applies the mode requests and delivers the agent replies
// that came, in order.
func (c *conversation) handleControl(ctx workflow.Context) error {
	for len(c.control) > 0 {
		next := c.control[0]
		c.control = c.control[1:]
		var err error
		switch {
		case next.reply != nil:
			err = c.deliverAgentReply(ctx, *next.reply)
		case next.mode.Mode == domain.ModeHuman:
			err = c.handOff(ctx, *next.mode, "takeover", true)
		case next.mode.Mode == domain.ModeAI:
			err = c.resume(ctx, *next.mode, "resume")
		default:
			workflow.GetLogger(ctx).Warn("unknown mode requested", "mode", next.mode.Mode)
		}
		if err != nil {
			return err
		}
		c.receive()
	}
	return nil
}

// handOff puts the conversation in human mode (or changes who has it) and
// records it; ack asks for the user to be told, once per handoff.
func (c *conversation) handOff(ctx workflow.Context, r ModeRequest, cause string, ack bool) error {
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	if err := workflow.ExecuteLocalActivity(local, a.TurnPolicy, activities.DefaultAgent).Get(ctx, &c.policy); err != nil {
		return err
	}
	c.policyRead = true
	if c.mode.Mode == domain.ModeHuman {
		// Already with a person: another one takes it.
		if r.AgentID == 0 || r.AgentID == c.mode.AgentID {
			return nil
		}
		c.mode.AgentID = r.AgentID
	} else {
		c.mode = ConversationMode{Mode: domain.ModeHuman, Reason: r.Reason, AgentID: r.AgentID, Since: workflow.Now(ctx),
			Acknowledged: !ack}
		if ep := c.openEpisode(ctx, c.firstPending()); ep != nil && ep.HandedOff.IsZero() {
			ep.HandedOff = c.mode.Since
		}
	}
	return c.record(ctx, cause)
}

// resume gives the conversation back to the AI.
func (c *conversation) resume(ctx workflow.Context, r ModeRequest, cause string) error {
	if c.mode.Mode == domain.ModeAI {
		return nil
	}
	c.mode = ConversationMode{Mode: domain.ModeAI, AgentID: r.AgentID, Reason: r.Reason, Since: workflow.Now(ctx)}
	if err := c.record(ctx, cause); err != nil {
		return err
	}
	if c.episode == nil || c.episode.HandedOff.IsZero() {
		return nil
	}
	ending := domain.EndResumed
	if cause == "idle" {
		ending = domain.EndIdle
	}
	return c.endEpisode(ctx, ending)
}

func (c *conversation) record(ctx workflow.Context, cause string) error {
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	return workflow.ExecuteLocalActivity(local, a.RecordMode, activities.RecordModeInput{
		ConversationID: c.in.ConversationID, UserID: c.in.UserID, Mode: c.mode.Mode, Reason: c.mode.Reason,
		AgentID: c.mode.AgentID, Since: c.mode.Since, Cause: cause,
	}).Get(ctx, nil)
}

// hold leaves the waiting messages to a person and sends the handoff's
// acknowledgement if the user has not had it.
func (c *conversation) hold(ctx workflow.Context) error {
	in := activities.HoldInput{ConversationID: c.in.ConversationID, UserID: c.in.UserID, AbandonedTurn: c.abandoned}
	if len(c.pending) > 0 {
		in.UpTo = c.pending[len(c.pending)-1].MessageID
	}
	if !c.mode.Acknowledged {
		in.AckKey = activities.AckKey(c.in.ConversationID, c.mode.Since)
	}
	if in.UpTo == 0 && in.AckKey == "" && in.AbandonedTurn == "" {
		return nil
	}
	c.held++
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	var ackID int64
	if err := workflow.ExecuteLocalActivity(local, a.HoldForPerson, in).Get(ctx, &ackID); err != nil {
		return err
	}
	c.pending = nil
	c.abandoned = ""
	c.last = max(c.last, in.UpTo)
	c.mode.Acknowledged = true
	if ackID != 0 {
		c.deliver(ctx, ackID)
	}
	return nil
}

// deliverAgentReply sends a person's answer; a reply to a conversation
// the AI has takes it over first.
func (c *conversation) deliverAgentReply(ctx workflow.Context, r AgentReply) error {
	if c.mode.Mode == domain.ModeAI {
		if err := c.handOff(ctx, ModeRequest{Mode: domain.ModeHuman, Reason: "a person answered", AgentID: r.AgentID}, "agent_reply", false); err != nil {
			return err
		}
	}
	c.mode.LastAgentReply = workflow.Now(ctx)
	if ep := c.openEpisode(ctx, c.firstPending()); ep != nil {
		ep.PersonAnswered = true
	}
	// What waited is answered by this reply.
	if err := c.hold(ctx); err != nil {
		return err
	}
	c.deliver(ctx, r.MessageID)
	return nil
}

// deliver sends a saved message as Deliver does for AI replies; one the
// channel refuses stays saved, and the conversation goes on.
func (c *conversation) deliver(ctx workflow.Context, messageID int64) {
	if err := workflow.ExecuteActivity(withDeliverOptions(ctx, c.policy.DeliveryGiveUpOrDefault()), a.Deliver, activities.DeliverInput{ReplyID: messageID}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("delivery failed", "message_id", messageID, "error", err)
		undelivered(ctx, messageID, err)
	}
}

// runTurn answers a batch of messages with a child TurnWorkflow and waits
// for it. A turn that already ran (same id) is not run again. A handoff
// that comes meanwhile cancels the turn; if the turn saved its reply
// first, the reply stands.
func (c *conversation) runTurn(ctx workflow.Context, batch []Inbound) error {
	ids := make([]int64, 0, len(batch))
	for _, m := range batch {
		ids = append(ids, m.MessageID)
	}
	c.current = ids
	defer func() { c.current = nil }()
	c.openEpisode(ctx, &batch[0])
	in := TurnInput{ConversationID: c.in.ConversationID, UserID: c.in.UserID,
		Channel: batch[len(batch)-1].Channel, MessageIDs: ids, Revision: TurnRevision, Agent: c.agent}
	tctx, cancel := workflow.WithCancel(ctx)
	behind := false
	defer func() {
		if !behind {
			cancel()
		}
	}()
	child := workflow.ExecuteChildWorkflow(workflow.WithChildOptions(tctx, TurnChildOptions(in)), TurnWorkflowName, in)
	var res TurnResult
	var err error
	for done, cancelled := false, false; !done; {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(child, func(f workflow.Future) { err = f.Get(ctx, &res); done = true })
		sel.AddReceive(c.saved, func(ch workflow.ReceiveChannel, _ bool) {
			var ts TurnSaved
			ch.Receive(ctx, &ts)
			if ts.TurnID == TurnWorkflowID(ids[0]) && !cancelled {
				// Saved, and delivering behind: the next turn may start.
				res, done, behind = ts.Result, true, true
				c.behind = append(c.behind, child)
			}
		})
		c.addToSelector(ctx, sel)
		sel.Select(ctx)
		if !done && !cancelled && (c.handoffRequested() || c.personAskedDuring(ctx)) {
			cancel()
			cancelled = true
		}
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		// Stopped before it saved a reply: its messages wait for the
		// person the handoff (handled next) gives them to.
		c.pending = append(batch, c.pending...)
		c.abandoned = TurnWorkflowID(ids[0])
		return nil
	}
	c.last = max(c.last, ids[len(ids)-1])
	if err == nil && res.Agent != "" {
		c.agent = res.Agent
	}
	if ep := c.episode; ep != nil && err == nil {
		ep.Turns++
		ep.Agents = domain.AppendAgent(ep.Agents, c.agent)
		ep.LastTurn = workflow.Now(ctx)
	}
	if err == nil && c.in.Revision >= 2 {
		// Older than what the reply answers: answered with it.
		c.pending = slices.DeleteFunc(c.pending, func(p Inbound) bool { return p.MessageID <= c.last })
	}
	if err == nil && res.Handoff != "" && c.mode.Mode == domain.ModeAI {
		// The turn's reply told the user a person will answer.
		return c.handOff(ctx, ModeRequest{Mode: domain.ModeHuman, Reason: res.Handoff}, handoffCause(res.Outcome), false)
	}
	return err
}

// handoffRequested says whether what came during a turn hands the
// conversation to a person.
func (c *conversation) handoffRequested() bool {
	return slices.ContainsFunc(c.control, func(x control) bool {
		return x.reply != nil || x.mode.Mode == domain.ModeHuman
	})
}

// handoffOnArrivalChange marks the conversations in which a call for a
// person stops the running turn instead of waiting for it to end.
const handoffOnArrivalChange = "handoff-on-arrival"

// personAskedDuring says whether a message that came during a turn asks
// for a person: the conversation hands off at once, however long the
// turn would take.
func (c *conversation) personAskedDuring(ctx workflow.Context) bool {
	return c.mode.Mode == domain.ModeAI && c.asksForHuman() &&
		workflow.GetVersion(ctx, handoffOnArrivalChange, workflow.DefaultVersion, 1) == 1
}

func handoffCause(o Outcome) string {
	switch o {
	case OutcomeHandedOff:
		return "tool"
	case OutcomeNoAnswer:
		return "no_answer"
	}
	return "llm_failure"
}

// openEpisode is the open episode, opened now if none is (revision 3;
// nil before): by its first message, or (first nil) by a person.
func (c *conversation) openEpisode(ctx workflow.Context, first *Inbound) *Episode {
	if c.in.Revision < 3 {
		return nil
	}
	if c.episode != nil {
		return c.episode
	}
	now := workflow.Now(ctx)
	ep := &Episode{Start: now, Channel: string(domain.ChannelWeb)}
	if first != nil {
		ep.FirstMessageID = first.MessageID
		if first.Channel != "" {
			ep.Channel = first.Channel
		}
	}
	ep.Key = domain.EpisodeKey(c.in.ConversationID, ep.FirstMessageID, now)
	c.episode = ep
	return ep
}

// firstPending is the oldest waiting message, nil when none waits.
func (c *conversation) firstPending() *Inbound {
	if len(c.pending) == 0 {
		return nil
	}
	return &c.pending[0]
}

// waitQuietly is waitForMessage from revision 3: one timer outliving the
// waits, as from revision 1, set for the next of two ends: the open
// episode's, once the AI answered it and the user is quiet for the
// policy's window (then the episode is recorded and the survey asked),
// and the run's, IdleTimeout after the wait began, never before its
// episode ended.
func (c *conversation) waitQuietly(ctx workflow.Context) bool {
	idleSince := workflow.Now(ctx)
	for len(c.pending) == 0 && len(c.control) == 0 {
		now := workflow.Now(ctx)
		if c.idle != nil && c.idle.IsReady() {
			c.idle = nil
		}
		quietAt, quiet := c.quietAt(ctx)
		if quiet && !now.Before(quietAt) {
			if err := c.endEpisode(ctx, domain.EndQuiet); err != nil {
				workflow.GetLogger(ctx).Error("end episode", "key", c.episode.Key, "error", err)
				c.episode = nil
			}
			c.receive()
			continue
		}
		next := idleSince.Add(c.limits.IdleTimeout)
		if quiet {
			next = quietAt
		}
		if !now.Before(next) {
			c.receive()
			return len(c.pending) > 0 || len(c.control) > 0
		}
		if c.idle != nil && next.Before(c.idleAt) {
			// Set for later than this wait may last: a shorter window.
			c.cancelIdle()
			c.idle = nil
		}
		if c.idle == nil {
			tctx, cancel := workflow.WithCancel(ctx)
			c.idle, c.idleAt, c.cancelIdle = workflow.NewTimer(tctx, next.Sub(now)), next, cancel
		}
		sel := workflow.NewSelector(ctx)
		c.addToSelector(ctx, sel)
		sel.AddFuture(c.idle, func(workflow.Future) {})
		sel.Select(ctx)
	}
	return true
}

// quietAt is when the open episode ends if the user stays quiet: once
// the AI has answered it and no person has it.
func (c *conversation) quietAt(ctx workflow.Context) (time.Time, bool) {
	ep := c.episode
	if ep == nil || c.mode.Mode != domain.ModeAI || !ep.HandedOff.IsZero() || ep.LastTurn.IsZero() {
		return time.Time{}, false
	}
	c.readPolicy(ctx)
	return ep.LastTurn.Add(c.policy.EpisodeQuietOrDefault()), true
}

// readPolicy reads the worker's policy unless this run has.
func (c *conversation) readPolicy(ctx workflow.Context) {
	if c.policyRead {
		return
	}
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	if workflow.ExecuteLocalActivity(local, a.TurnPolicy, activities.DefaultAgent).Get(ctx, &c.policy) == nil {
		c.policyRead = true
	}
}

// endEpisode records the open episode's outcome and delivers the survey
// question when one is asked: after a quiet end or a person's resume.
func (c *conversation) endEpisode(ctx workflow.Context, ending domain.EpisodeEnding) error {
	ep := c.episode
	c.readPolicy(ctx)
	in := activities.EndEpisodeInput{Key: ep.Key, ConversationID: c.in.ConversationID, UserID: c.in.UserID,
		Channel: ep.Channel, FirstMessageID: ep.FirstMessageID, Start: ep.Start, End: workflow.Now(ctx),
		HandedOffAt: ep.HandedOff, PersonAnswered: ep.PersonAnswered, Ending: ending, Turns: ep.Turns,
		Agents: ep.Agents}
	if ending != domain.EndIdle {
		in.Survey = c.policy.Survey
	}
	local := workflow.WithLocalActivityOptions(ctx, localOptions)
	var surveyID int64
	if err := workflow.ExecuteLocalActivity(local, a.EndEpisode, in).Get(ctx, &surveyID); err != nil {
		return err
	}
	c.episode = nil
	if surveyID != 0 {
		c.deliver(ctx, surveyID)
	}
	return nil
}
