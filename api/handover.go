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

// Turn hand-overs: once a message is committed and the client answered,
// the message goes to its conversation's workflow. They queue in shards by
// conversation, each drained by at most one goroutine, so one
// conversation's messages are handed over in the order they were stored,
// a burst waits in a queue instead of in thousands of goroutines, and a
// slow Temporal holds at most handoverShards calls at once (more would
// only pile signals on a server already behind, and take the cores the
// requests need). What does not fit in the queue, or fails, is left to the
// worker's reconciler, which starts every turn still pending.
const (
	handoverShards   = 16
	handoverPerShard = 256
	// turnHandoverTimeout bounds one hand-over: Temporal down must not
	// hold a shard for long.
	turnHandoverTimeout = 5 * time.Second
)

// handover is one queued message, with its request's context (trace and
// values, not its cancellation: the request is answered by then).
type handover struct {
	ctx context.Context
	m   *domain.Message
	log *slog.Logger
}

type handoverShard struct {
	queue   chan handover
	running atomic.Bool
}

type handovers [handoverShards]handoverShard

func newHandovers() *handovers {
	h := &handovers{}
	for i := range h {
		h[i].queue = make(chan handover, handoverPerShard)
	}
	return h
}

// startTurn queues a stored message for its hand-over.
func (s *Server) startTurn(c *gin.Context, m *domain.Message) {
	s.metrics.Inbound.WithLabelValues(string(m.Channel)).Inc()
	log := s.log(c)
	conv := ""
	if m.ConversationID != nil {
		conv = *m.ConversationID
	}
	f := fnv.New32a()
	_, _ = f.Write([]byte(conv))
	sh := &s.handovers[f.Sum32()%handoverShards]
	select {
	case sh.queue <- handover{ctx: context.WithoutCancel(c.Request.Context()), m: m, log: log}:
	default:
		log.Warn("turn hand-over queue full; the reconciler will start this one", "message_id", m.ID)
		return
	}
	if sh.running.CompareAndSwap(false, true) {
		go s.drainHandovers(sh)
	}
}

// drainHandovers hands over a shard's queue until it is empty.
func (s *Server) drainHandovers(sh *handoverShard) {
	for {
		for done := false; !done; {
			select {
			case h := <-sh.queue:
				s.handOver(h)
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

func (s *Server) handOver(h handover) {
	ctx, cancel := context.WithTimeout(h.ctx, turnHandoverTimeout)
	defer cancel()
	if err := s.turns.Start(ctx, h.m); err != nil {
		h.log.Warn("turn not handed over; the reconciler will start it", "message_id", h.m.ID, "error", err)
		return
	}
	// Recorded so the reconciler leaves it alone; if this fails, it only
	// hands the message over once more.
	if err := domain.MarkHandedOver(ctx, s.db, h.m.ID); err != nil {
		h.log.Warn("hand-over not recorded", "message_id", h.m.ID, "error", err)
	}
}
