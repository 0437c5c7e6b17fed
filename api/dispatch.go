package api

import (
	"context"
	"hash/fnv"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// Dispatching: once a message is committed and the client answered, the
// message goes to its conversation's workflow (dispatch.Conversations).
// Messages queue in shards by conversation, each drained by at most one
// goroutine, so one conversation's messages are dispatched in the order
// they were stored, a burst waits in a queue instead of in thousands of
// goroutines, and a slow Temporal holds at most dispatchShards calls at
// once (more would only pile signals on a server already behind, and take
// the cores the requests need). What does not fit in the queue, or fails,
// is left to the worker's reconciler, which starts every turn still
// pending.
const (
	dispatchShards   = 16
	dispatchPerShard = 256
	// dispatchTimeout bounds one dispatch: Temporal down must not hold a
	// shard for long.
	dispatchTimeout = 5 * time.Second
)

// queued is one queued message, with its request's context (trace and
// values, not its cancellation: the request is answered by then).
type queued struct {
	ctx context.Context
	m   *domain.Message
	log *slog.Logger
}

type dispatchShard struct {
	queue   chan queued
	running atomic.Bool
}

type dispatches [dispatchShards]dispatchShard

func newDispatches() *dispatches {
	h := &dispatches{}
	for i := range h {
		h[i].queue = make(chan queued, dispatchPerShard)
	}
	return h
}

// queueDispatch queues a stored message for its dispatch.
func (s *Server) queueDispatch(c *gin.Context, m *domain.Message) {
	s.metrics.Inbound.WithLabelValues(string(m.Channel)).Inc()
	log := s.log(c)
	conv := ""
	if m.ConversationID != nil {
		conv = *m.ConversationID
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(conv))
	sh := &s.dispatches[f.Sum32()%dispatchShards]
	select {
	case sh.queue <- queued{ctx: context.WithoutCancel(c.Request.Context()), m: m, log: log}:
	default:
		log.Warn("dispatch queue full; the reconciler will dispatch this one", "message_id", m.ID)
		return
	}
	if sh.running.CompareAndSwap(false, true) {
		go s.drainDispatches(sh)
	}
}

// drainDispatches dispatches a shard's queue until it is empty.
func (s *Server) drainDispatches(sh *dispatchShard) {
	for {
		for done := false; !done; {
			select {
			case h := <-sh.queue:
				s.dispatchQueued(h)
			default:
				done = true
			}
		}
		sh.running.Store(false)
		// A message queued between the last look and the line above found
		// the shard running and started no one: take it, unless a new
		// drainer already did.
		if len(sh.queue) == 0 || !sh.running.CompareAndSwap(false, true) {
			return
		}
	}
}

// dispatchQueued dispatches one queued message; what fails is left to
// the reconciler.
func (s *Server) dispatchQueued(h queued) {
	ctx, cancel := context.WithTimeout(h.ctx, dispatchTimeout)
	defer cancel()
	if err := s.conversations.Dispatch(ctx, h.m); err != nil {
		h.log.Warn("message not dispatched; the reconciler will", "message_id", h.m.ID, "error", err)
	}
}
