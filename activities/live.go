package activities

import (
	"context"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/aimsg/aimsg/events"
)

// deltaEvery is how often the reply's text goes out while the LLM writes
// it: fragments are batched, so a fast model costs at most 20 events a
// second per turn.
const deltaEvery = 50 * time.Millisecond

// typingEvery is how often a channel's "typing…" is shown again while a
// turn works (Telegram's lasts 5 seconds).
const typingEvery = 4 * time.Second

// Typist shows a person that the assistant is writing, on a channel that
// can (Telegram's sendChatAction).
type Typist interface {
	Typing(ctx context.Context, address string) error
}

// publish sends a live event; the live path is a preview, so a failure is
// logged and the turn goes on.
func (a *Activities) publish(ctx context.Context, ev events.Event) {
	if a.Events == nil || ev.ConversationID == "" {
		return
	}
	if err := a.Events.Publish(ctx, ev); err != nil {
		a.Logger.Warn("live event not published", "kind", ev.Kind, "conversation_id", ev.ConversationID, "error", err)
	}
}

// replyStream publishes the text of one LLM call as it arrives: deltas
// numbered from 1, batched every deltaEvery, and a reset when the text is
// abandoned.
type replyStream struct {
	a            *Activities
	conversation string
	turn         string
	seq          int
	buf          strings.Builder
	flushed      time.Time
}

func (a *Activities) replyStream(ctx context.Context, conversation string) *replyStream {
	turn := ""
	if activity.IsActivity(ctx) {
		turn = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	return &replyStream{a: a, conversation: conversation, turn: turn, flushed: time.Now()}
}

// add takes a fragment and publishes what waits once deltaEvery passed.
func (s *replyStream) add(ctx context.Context, text string) {
	s.buf.WriteString(text)
	if time.Since(s.flushed) >= deltaEvery {
		s.flush(ctx)
	}
}

// flush publishes what waits.
func (s *replyStream) flush(ctx context.Context) {
	s.flushed = time.Now()
	if s.buf.Len() == 0 {
		return
	}
	for _, part := range events.Split(s.buf.String()) {
		s.seq++
		s.a.publish(ctx, events.Event{Kind: events.KindDelta, ConversationID: s.conversation, TurnID: s.turn, Seq: s.seq, Text: part})
	}
	s.buf.Reset()
}

// reset tells clients to drop the text published so far.
func (s *replyStream) reset(ctx context.Context) {
	s.buf.Reset()
	s.seq = 0
	s.a.publish(ctx, events.Event{Kind: events.KindReset, ConversationID: s.conversation, TurnID: s.turn})
}

// started says whether any text went out.
func (s *replyStream) started() bool { return s.seq > 0 }

// typing shows "typing…" on the live path and, every typingEvery, on the
// channel the person wrote from (when it has a typist), until stop.
func (a *Activities) typing(ctx context.Context, conversation string, typist Typist, address string) (stop func()) {
	a.publish(ctx, events.Event{Kind: events.KindTyping, ConversationID: conversation, Active: true})
	if typist == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(typingEvery)
		defer t.Stop()
		for {
			if err := typist.Typing(ctx, address); err != nil {
				a.Logger.Debug("typing not shown", "error", err)
			}
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
