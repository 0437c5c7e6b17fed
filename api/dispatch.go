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

// Hand-overs: once a message is committed and the client answered, the
// message goes to its conversation's workflow (Conversations.HandOver). They queue in shards by
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
	// handoverTimeout bounds one hand-over: Temporal down must not hold a
	// shard for long.
	handoverTimeout = 5 * time.Second
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

// queueHandover queues a stored message for its hand-over.
func (s *Server) queueHandover(c *gin.Context, m *domain.Message) {
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
		log.Warn("hand-over queue full; the reconciler will hand this one over", "message_id", m.ID)
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
				s.handOverQueued(h)
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

// handOverQueued hands over one queued message; what fails is left to
// the reconciler.
func (s *Server) handOverQueued(h handover) {
	ctx, cancel := context.WithTimeout(h.ctx, handoverTimeout)
	defer cancel()
	if err := s.conversations.HandOver(ctx, h.m); err != nil {
		h.log.Warn("message not handed over; the reconciler will", "message_id", h.m.ID, "error", err)
	}
}
